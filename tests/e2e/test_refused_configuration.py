"""`make run` with a URL it cannot use stops at once, saying which variable is wrong,
before any process starts -- not with a green /healthz and a 500 at the first request."""
import os
import subprocess
import sys

import pytest

from harness.environment import child_env
from harness.processes import ROOT, kill_all_with_env


@pytest.mark.parametrize("variable, value, named", [
    ("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/shop", "'postgresql+psycopg'"),
    ("DATABASE_URL", "mysql+foo://u:secret@127.0.0.1/shop", "'mysql+foo'"),
    ("CELERY_BROKER_URL", "redis://:secret@127.0.0.1:6379/0", "'redis'"),
])
def test_make_run_refuses_a_url_it_cannot_use_naming_the_variable(tmp_path, variable, value,
                                                                   named):
    var_dir = str(tmp_path / "var")
    env = child_env(**{"BOXOFFICE_VAR_DIR": var_dir, "BOXOFFICE_FAULT_INJECTION": None,
                       "DATABASE_URL": None, "CELERY_BROKER_URL": None, "REDIS_URL": None,
                       variable: value})
    try:
        done = subprocess.run(["make", "run"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    finally:
        kill_all_with_env("BOXOFFICE_VAR_DIR", var_dir)  # nothing should have started

    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"Error: {variable} must be ")
    assert errors[0].endswith(f"not {named}")
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stdout + done.stderr
    assert "boxoffice is starting" not in done.stdout


def test_dev_setup_accepts_a_plain_postgres_url_and_migrates_through_psycopg2(tmp_path):
    """The form hosts hand out (``postgres://``) reaches PostgreSQL on psycopg2."""
    run_database = os.environ.get("DATABASE_URL", "")  # the run's throwaway database
    if not run_database.startswith("postgresql://"):
        pytest.skip("no PostgreSQL for this run")
    url = run_database.replace("postgresql://", "postgres://", 1)
    env = child_env(BOXOFFICE_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=url,
                    CELERY_BROKER_URL=None, REDIS_URL=None)

    done = subprocess.run([sys.executable, "-m", "flask", "--app", "api", "db", "upgrade"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "database schema is up to date" in done.stdout
