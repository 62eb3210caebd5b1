"""Fixtures of the unit tests: a private SQLite database and a recorded broker.

``sqlite_db`` points this process at its own SQLite file, migrated by Alembic exactly as
``flask --app api db upgrade`` migrates, for one test (the composition root runs again on
it); afterwards the engine, settings and parts
the process had before (the run's PostgreSQL, for the integration tests) are back.
``postgres_db`` does the same with a throwaway PostgreSQL database (made once per run on
the local server, or ``TEST_POSTGRES_URL``, and dropped after it), for the few rules whose
outcome depends on PostgreSQL's row locks and concurrent inserts. It needs no RabbitMQ or
Redis; without a PostgreSQL server its tests are skipped (a failure under ``CI=true``).
``sent`` stands in for the broker: every task message the code under test publishes is
recorded instead of sent.
"""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

# Nothing of ours is imported at module level: this file loads before tests/conftest.py
# points the run at its services, and importing ``workers`` would read the settings early.


@contextmanager
def _database(url: str):
    """This process uses the database at ``url`` inside the block, and its own after."""
    import settings
    from workers import runtime
    from workers.bootstrap import bootstrap

    saved_env = os.environ.get("DATABASE_URL")
    saved = (settings._current, runtime.settings())
    os.environ["DATABASE_URL"] = url
    settings.reset_settings()
    bootstrap()
    try:
        yield
    finally:
        settings._current = saved[0]
        bootstrap(saved[1])
        if saved_env is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved_env


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory):
    """A SQLite file brought to the newest schema by the app's own migration command."""
    from api.cli import migrate

    path = tmp_path_factory.mktemp("schema") / "boxoffice.db"
    with _database(f"sqlite:///{path}"):
        migrate()
    return path


@pytest.fixture
def sqlite_db(_migrated_sqlite, tmp_path):
    """A fresh, migrated SQLite database that this process uses for the test's duration."""
    path = tmp_path / "boxoffice.db"
    shutil.copyfile(_migrated_sqlite, path)
    url = f"sqlite:///{path}"
    with _database(url):
        yield url


@pytest.fixture(scope="session")
def _migrated_postgres():
    """A throwaway PostgreSQL database brought to the newest schema, for the whole run."""
    import psycopg2

    from api.cli import migrate
    from harness.services import PG_ADMIN_URL, _admin_sql

    name = f"boxoffice_unit_{uuid.uuid4().hex[:10]}"
    try:
        _admin_sql(f'CREATE DATABASE "{name}"')
    except psycopg2.Error as exc:
        pytest.skip(f"PostgreSQL not available at {PG_ADMIN_URL}: {str(exc).strip()}")
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        with _database(url):
            migrate()
        yield url
    finally:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_db(_migrated_postgres):
    """The run's throwaway PostgreSQL database, used by this process for the test."""
    with _database(_migrated_postgres):
        yield _migrated_postgres


@dataclass
class Sent:
    """Task messages that would have gone to the broker, in order."""

    messages: list = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.messages]

    def args_of(self, name: str) -> list[tuple]:
        return [args for n, args, _ in self.messages if n == name]

    def flows(self) -> list[list[str]]:
        """Each message's task followed by the rest of its chain, in the order they run."""
        return [[name, *(sig["task"] for sig in reversed(options.get("chain") or ()))]
                for name, _, options in self.messages]


@pytest.fixture
def sent(monkeypatch) -> Sent:
    """Record, instead of sending, every task message published through the Celery app.

    ``app.send_task`` is the one door to the broker: direct sends and every canvas
    (a chain's first task, with the rest of the chain in its options) go through it.
    """
    from workers.celery_app import app

    record = Sent()

    def send_task(name, args=None, kwargs=None, **options):
        record.messages.append((name, tuple(args or ()), options))
        return app.AsyncResult(options.get("task_id") or "recorded")

    monkeypatch.setattr(app, "send_task", send_task)
    return record


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish fails, as with the broker stopped (the outbox's backoff starts clear)."""
    from workers import outbox
    from workers.celery_app import app

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    monkeypatch.setattr(app, "send_task", refuse)
