"""Database engine and sessions, one engine per process, built on first use from the URL
the composition root configured (``configure``, called by workers.bootstrap).

All domains share one database but each owns its tables (prefixed with its name);
no domain queries another's.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from datetime import timezone
from enum import StrEnum

from sqlalchemy import DateTime, Enum, MetaData, create_engine, event
from sqlalchemy.types import TypeDecorator
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_engine: Engine | None = None
_engine_pid: int | None = None
_sessions: sessionmaker | None = None
_url: str | None = None


def configure(url: str) -> None:
    """Use the database at ``url`` from now on (an engine built for another is disposed)."""
    global _url
    if url != _url:
        dispose_engine()
        _url = url


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _make_sqlite_serialise_writers(engine)
        return engine
    # No pre-ping: it is a round trip on every checkout. A connection the server dropped
    # fails its first statement instead; SQLAlchemy then discards the whole pool, and the
    # failed step is retried (a transient error) or the request answered 503.
    return create_engine(url, pool_size=5, max_overflow=10)


def _make_sqlite_serialise_writers(engine: Engine) -> None:
    # SQLite fails a read transaction that later writes if another process wrote in
    # between; taking the write lock at BEGIN makes concurrent writers wait instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine() -> Engine:
    global _engine, _engine_pid, _sessions
    if _engine is None or _engine_pid != os.getpid():
        if _url is None:
            raise RuntimeError("no database configured: call workers.bootstrap.bootstrap()")
        _engine = build_engine(_url)
        _engine_pid = os.getpid()
        _sessions = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def dispose_engine() -> None:
    global _engine, _engine_pid, _sessions
    if _engine is not None and _engine_pid == os.getpid():
        _engine.dispose()
    _engine = _engine_pid = _sessions = None


@contextmanager
def transaction() -> Iterator[Session]:
    """A session inside one transaction: committed on success, rolled back on error."""
    engine()
    with _sessions() as session, session.begin():
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    """A session for one query that only reads. On PostgreSQL it runs in autocommit, so
    the query is its only round trip (no BEGIN, no COMMIT); each statement sees its own
    snapshot, so it is for one statement at a time."""
    if engine().dialect.name != "postgresql":
        with transaction() as s:
            yield s
        return
    with _engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        with _sessions(bind=conn) as session:
            yield session


def execute_alone(statement) -> int:
    """Run one statement as its own transaction; its row count. On PostgreSQL it runs in
    autocommit: one round trip, without a BEGIN and a COMMIT around it."""
    if engine().dialect.name != "postgresql":
        with transaction() as s:
            return s.execute(statement).rowcount
    with _engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn.execute(statement).rowcount


def is_postgres() -> bool:
    return engine().dialect.name == "postgresql"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def vocabulary(values: type[StrEnum], name: str, length: int = 20) -> Enum:
    """A string column holding one of ``values`` (a ``contracts.statuses`` enum): read back
    as its members, refused in Python if unknown, and checked by the database with the
    constraint ``ck_<table>_<name>`` (migration ``0010_status_enums``)."""
    return Enum(values, name=name, length=length, native_enum=False, create_constraint=True,
                validate_strings=True, values_callable=lambda e: [m.value for m in e])
