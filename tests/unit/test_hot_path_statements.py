"""Every statement a purchase's steps run is compiled once, then served from SQLAlchemy's
compiled cache (workers/upserts.py): the three step tasks of one purchase run on SQLite
and on PostgreSQL, then those of a second purchase, whose statements are all cache hits.
"""
import uuid

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from contracts import ChargePayment, ConfirmSeats, ReserveSeats
from tests.unit.tickets.support import new_event
from workers import db
from workers.orchestration import service as orchestration
from workers.orchestration import tasks as _recorder  # noqa: F401  registers the recorder
from workers.payments import tasks as payment_tasks
from workers.tickets import tasks as ticket_tasks


def _run(task, *messages):
    task.push_request(id=str(uuid.uuid4()), retries=0)
    try:
        return task(*messages)
    finally:
        task.pop_request()


def _purchase(event_id, tier_id) -> str:
    user_id = uuid.uuid4()
    saga_id, _ = orchestration.start_purchase(user_id=user_id, event_id=event_id,
                                              tier_id=tier_id, quantity=1,
                                              payment_token="tok_visa")
    reserved = _run(ticket_tasks.reserve_seats, ReserveSeats.build(
        saga_id=saga_id, user_id=user_id, event_id=event_id, tier_id=tier_id, quantity=1))
    captured = _run(payment_tasks.charge, reserved,
                    ChargePayment.build(saga_id=saga_id, payment_token="tok_visa"))
    confirmed = _run(ticket_tasks.confirm_seats, captured, ConfirmSeats.build(saga_id=saga_id))
    return confirmed["contract"]


@pytest.fixture
def cache_use():
    """Each statement executed from now, with its SQL and whether SQLAlchemy compiled it
    (``None`` for a driver-level string such as SQLite's ``BEGIN IMMEDIATE``)."""
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        hit = None if context.compiled is None else context.cache_hit
        seen.append((hit, statement.split("(")[0][:60]))

    # on every engine: on PostgreSQL, autocommit statements have a pool of their own
    event.listen(Engine, "after_cursor_execute", listener)
    yield seen
    event.remove(Engine, "after_cursor_execute", listener)


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_a_second_purchase_compiles_no_statement(database, request, sent):
    request.getfixturevalue(database)
    event_id, tier_id = new_event(capacity=5)
    assert _purchase(event_id, tier_id) == "SeatsConfirmed"
    seen = request.getfixturevalue("cache_use")

    assert _purchase(event_id, tier_id) == "SeatsConfirmed"

    dialect = db.engine().dialect
    compiled = [sql for hit, sql in seen if hit not in (dialect.CACHE_HIT, None)]
    assert len(seen) >= 11, seen  # the steps' statements, all seen
    assert compiled == []


def test_a_statement_in_autocommit_switches_no_isolation_level(postgres_db, monkeypatch):
    """Autocommit has a pool of its own on PostgreSQL: a connection switched to autocommit
    and back costs a ``SET default_transaction_isolation`` round trip each time."""
    db.execute_alone(text("SELECT 1"))  # both pools connected
    with db.transaction() as s:
        s.execute(text("SELECT 1"))
    switched = []
    for engine in {db.engine(), db._autocommit_engine}:
        for name in ("set_isolation_level", "reset_isolation_level"):
            original = getattr(engine.dialect, name)
            monkeypatch.setattr(engine.dialect, name,
                                lambda *a, _n=name, _f=original: switched.append(_n) or _f(*a))
    for _ in range(3):
        assert db.execute_alone(text("SELECT 1")) == 1
        with db.autocommit() as conn:
            assert conn.execute(text("SELECT 2")).scalar() == 2
        with db.reading() as s:
            assert s.execute(text("SELECT 3")).scalar() == 3
        with db.transaction() as s:
            assert s.execute(text("SELECT 4")).scalar() == 4
    assert switched == []
