"""`make run`'s start-up (`flask dev-setup`) says loudly when tokens are signed with the
public development secret, and production refuses to run with it."""
import subprocess
import sys

import pytest

from harness.environment import child_env
from harness.processes import ROOT
from settings import DEV_JWT_SECRET, ConfigurationError, Settings


def dev_setup(**env) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "api", "dev-setup"],
                          cwd=ROOT, env=child_env(**env), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_development_mode_warns_that_tokens_are_forgeable():
    out = dev_setup(JWT_SECRET_KEY=None)

    assert "PUBLIC development secret" in out and "BOXOFFICE_ENV=production" in out


def test_no_warning_with_a_secret_of_ones_own():
    out = dev_setup(JWT_SECRET_KEY="a-secret-of-our-own-0123456789abcdef")

    assert "PUBLIC development secret" not in out and "API key" in out


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        Settings.from_env({"BOXOFFICE_ENV": "production", "JWT_SECRET_KEY": DEV_JWT_SECRET})
