"""The environment of the processes the harness starts (workers, gateway, beat, CLIs)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.processes import ROOT

VENV_BIN = Path(sys.executable).parent
#: where load is driven, the gateway's request rate limits and per-buyer caps are off, so
#: that what is measured is the saga, not the limiter
UNLIMITED = {"RATELIMIT_ENABLED": "false", "MAX_OPEN_PURCHASES_PER_USER": "0",
             "MAX_HELD_SEATS_PER_USER": "0"}


def child_env(**overrides: str | None) -> dict:
    """This process's environment with the limits off and ``overrides`` applied (``None``
    removes a variable); our code importable from the checkout."""
    env = {**os.environ, **UNLIMITED, "PYTHONPATH": str(ROOT)}
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def stack_env(*, database_url: str, broker_url: str, redis_url: str, var_dir: Path,
              **extra: str | None) -> dict:
    """The environment of every process of one deployed-like stack (the Procfile's);
    ``None`` removes a variable."""
    stack = dict(
        CELERY_RESULT_BACKEND=None, BOXOFFICE_DUPLICATE_PUBLISH=None,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        DATABASE_URL=database_url, CELERY_BROKER_URL=broker_url, REDIS_URL=redis_url,
        BOXOFFICE_VAR_DIR=str(var_dir), BOXOFFICE_ENV="development",
        BOXOFFICE_FAULT_INJECTION="", PYTHONUNBUFFERED="1", JWT_ACCESS_MINUTES="240",
        # a charge claim of a killed worker is taken over after 5 s, not 30
        PAYMENT_CLAIM_LEASE_SECONDS="5",
        # a line per task received: the harness counts deliveries in the logs
        CELERY_TASK_LOG_LINES="true")
    return child_env(**{**stack, **extra})
