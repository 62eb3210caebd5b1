"""Test set-up shared by every suite.

Each run works in a temporary state directory. When RabbitMQ, PostgreSQL and Redis
answer on their local ports (or the TEST_*_URL given), the run gets its own database
and RabbitMQ vhost, and tests marked ``services`` use them; otherwise (or with
TEST_SERVICES=off) those tests are skipped with one line saying why -- except under
CI=true, where that is a failure, as is any skipped, xfailed or xpassed test.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from harness import services as test_services
from harness.environment import UNLIMITED

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_state: dict = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "services: needs RabbitMQ, PostgreSQL and Redis")
    var_dir = tempfile.mkdtemp(prefix="boxoffice-test-")
    _state["var_dir"] = var_dir
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL"):
        os.environ.pop(name, None)
    # Rate limits and per-buyer caps are off for the suite, which drives load from one
    # address; the tests of the limits turn them on for themselves.
    os.environ.update(BOXOFFICE_VAR_DIR=var_dir, BOXOFFICE_ENV="development",
                      BOXOFFICE_FAULT_INJECTION="1", PAYMENT_LATENCY_MS="0", **UNLIMITED)
    if os.environ.get("TEST_SERVICES", "").lower() == "off":  # e.g. `make mutate`
        _state["unavailable"] = "turned off by TEST_SERVICES=off"
        _bootstrap()
        return
    try:
        provisioned = test_services.provision()
    except test_services.Unavailable as exc:
        _state["unavailable"] = str(exc)
        if CI:
            raise pytest.UsageError(f"CI=true but a service is missing: {exc}") from exc
        _bootstrap()
        return
    _state["services"] = provisioned
    os.environ.update(DATABASE_URL=provisioned.database_url,
                      CELERY_BROKER_URL=provisioned.broker_url,
                      REDIS_URL=provisioned.redis_url)
    _bootstrap()
    from api.cli import migrate

    migrate()


def _bootstrap():
    """The test process's composition root, on the environment set up above."""
    from settings import reset_settings
    from workers.bootstrap import bootstrap

    reset_settings()
    bootstrap()


def pytest_unconfigure(config):
    if "services" in _state:
        from workers.db import dispose_engine

        dispose_engine()
        test_services.drop(_state["services"])
    shutil.rmtree(_state.get("var_dir", ""), ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.services)
    reason = _state.get("unavailable")
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"RabbitMQ/PostgreSQL/Redis not available: {reason}")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    if not CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    unrun = {kind: len(stats.get(kind, [])) for kind in ("skipped", "xfailed", "xpassed")}
    if any(unrun.values()):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nCI=true: " + ", ".join(f"{n} {kind}" for kind, n in unrun.items() if n)
              + "; under CI every test must run and pass as written (no skip, no xfail)")


@pytest.fixture(scope="session")
def var_dir():
    from pathlib import Path

    return Path(_state["var_dir"])
