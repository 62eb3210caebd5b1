"""Database engine and sessions, one engine per process, built on first use from the URL
the composition root configured (``configure``, called by workers.bootstrap).

All domains share one database but each owns its tables (prefixed with its name);
no domain queries another's.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from datetime import timezone
from enum import StrEnum

from sqlalchemy import DateTime, Enum, MetaData, create_engine, event, text
from sqlalchemy.types import TypeDecorator
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
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
#: on PostgreSQL, a second pool whose connections are in autocommit from the start: a
#: connection switched to autocommit and back would cost a round trip each time it is
#: given back (psycopg2 sends ``SET default_transaction_isolation TO DEFAULT``)
_autocommit_engine: Engine | None = None
_engine_pid: int | None = None
_sessions: sessionmaker | None = None
_url: str | None = None


def configure(url: str) -> None:
    """Use the database at ``url`` from now on (an engine built for another is disposed)."""
    global _url
    if url != _url:
        dispose_engine()
        _url = url


def build_engine(url: str, **options) -> Engine:
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
    # Twelve kept (the gateway's threads; a pool grows only as far as it is used at once),
    # fifteen at most as before: a connection past the kept ones is closed when given back,
    # and the next one is a new PostgreSQL backend.
    return create_engine(url, **{"pool_size": 12, "max_overflow": 3, **options})


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
    global _engine, _autocommit_engine, _engine_pid, _sessions
    if _engine is None or _engine_pid != os.getpid():
        if _url is None:
            raise RuntimeError("no database configured: call workers.bootstrap.bootstrap()")
        _engine = build_engine(_url)
        _autocommit_engine = (build_engine(_url, isolation_level="AUTOCOMMIT")
                              if _engine.dialect.name == "postgresql" else None)
        _engine_pid = os.getpid()
        _sessions = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def dispose_engine() -> None:
    global _engine, _autocommit_engine, _engine_pid, _sessions
    if _engine is not None and _engine_pid == os.getpid():
        _engine.dispose()
        if _autocommit_engine is not None:
            _autocommit_engine.dispose()
    _engine = _autocommit_engine = _engine_pid = _sessions = None


@contextmanager
def transaction() -> Iterator[Session]:
    """A session inside one transaction: committed on success, rolled back on error."""
    engine()
    with _sessions() as session, session.begin():
        yield session


@contextmanager
def reading() -> Iterator[Session | Connection]:
    """Where to run one Core query that only reads (``execute``, ``scalar``). On
    PostgreSQL it is a connection in autocommit, without a session around it: the query is
    its only round trip (no BEGIN, no COMMIT); each statement sees its own snapshot, so it
    is for one statement at a time."""
    if engine().dialect.name != "postgresql":
        with transaction() as s:
            yield s
        return
    with _autocommit_connection() as conn:
        yield conn


def execute_alone(statement, parameters=None) -> int:
    """Run one statement as its own transaction; its row count. On PostgreSQL it runs in
    autocommit: one round trip, without a BEGIN and a COMMIT around it."""
    if engine().dialect.name != "postgresql":
        with transaction() as s:
            return s.execute(statement, parameters).rowcount
    with _autocommit_connection() as conn:
        return conn.execute(statement, parameters).rowcount


@contextmanager
def autocommit():
    """A connection whose statements are each their own transaction (one round trip each on
    PostgreSQL: no BEGIN, no COMMIT); on SQLite, one transaction around them."""
    if engine().dialect.name != "postgresql":
        with transaction() as s:
            yield s.connection()
        return
    with _autocommit_connection() as conn:
        yield conn


@contextmanager
def _autocommit_connection():
    """A pooled PostgreSQL connection in autocommit. An error of the driver's while it is
    given back (the server went away meanwhile) is raised as SQLAlchemy's
    ``OperationalError`` (transient: a step is retried, a request answered 503) rather
    than as a bare driver error."""
    try:
        with _autocommit_engine.connect() as conn:
            yield conn
    except _engine.dialect.loaded_dbapi.Error as exc:
        raise OperationalError("returning an autocommit connection", None, exc) from exc


#: the open transaction of the saga step running in this context (see ``step_transaction``)
_step: ContextVar[dict | None] = ContextVar("boxoffice_step", default=None)


@contextmanager
def one_step_transaction() -> Iterator[dict]:
    """Inside, every ``step_transaction`` block joins one transaction, which is left open
    for the caller to add to and commit (``commit_step``); rolled back if it does not."""
    scope: dict = {"session": None}
    token = _step.set(scope)
    try:
        yield scope
    finally:
        _step.reset(token)
        s = scope.pop("session", None)
        if s is not None:
            s.close()  # not committed: rolled back


def commit_step(scope: dict, on_refusal=None) -> None:
    """Commit the step's transaction, if a block opened one; a decision left for last
    (``decide_last``) is taken right before the commit, and its refusal raised after
    (``on_refusal(session, refusal)`` is called with it before the commit)."""
    s, decision = scope.pop("session", None), scope.pop("decision", None)
    if s is None:
        return
    with s:
        refusal = None
        if decision is not None and not decision[0]():
            # undo what was written since it was left for last (the savepoint is never
            # released: the commit ends it, one round trip fewer)
            s.execute(text("ROLLBACK TO SAVEPOINT step_decision"))
            refusal = decision[1]()
            if on_refusal is not None:
                on_refusal(s, refusal)
        s.commit()
    if refusal is not None:
        raise refusal


def decide_last(s: Session, decide, refuse) -> bool | None:
    """Run ``decide()`` -- the conditional write on a hot row that decides the step -- as
    late as possible: inside a step task, as the last statement before the commit, after
    the step's outcome is recorded, so the row stays locked for that statement and the
    commit only. If it returns false, what was written after this call is undone and
    ``refuse()`` records the refusal in ``s`` and returns the error the step raises.
    Outside a step task it runs now: its result (the caller refuses)."""
    scope = _step.get()
    if scope is None or scope.get("session") is not s:
        return decide()
    s.flush()
    s.execute(text("SAVEPOINT step_decision"))
    scope["decision"] = (decide, refuse)
    return None


@contextmanager
def step_transaction() -> Iterator[Session]:
    """The transaction of a saga step's own work. Outside a step task it is ``transaction``.
    Inside one (``one_step_transaction``), blocks join one transaction that the task
    commits after it wrote the step's outcome into it: the step and its record commit
    together. An error inside a block rolls the whole transaction back."""
    scope = _step.get()
    if scope is None:
        with transaction() as s:
            yield s
        return
    s = scope.get("session")
    if s is None:
        engine()
        s = scope["session"] = _sessions()
        s.begin()
    try:
        yield s
        s.flush()
    except BaseException:
        scope["session"] = None
        s.close()
        raise


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
