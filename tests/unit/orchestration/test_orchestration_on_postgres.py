"""Orchestration on PostgreSQL, where requests and deliveries really arrive at once.

The idempotency key: a start with one is a single statement, whose insert finds a used key;
the request that loses the race for the buyer's key answers with the winner's saga, or
refuses if its body differs, and never with another buyer's saga.
A step's record, one statement here, locks the step row before the saga row."""
import uuid

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from tests.unit.concurrency import Running, blocked
from tests.unit.orchestration.support import outcome
from workers.db import transaction
from workers.orchestration import service
from workers.orchestration.errors import IdempotencyConflict
from workers.orchestration.models import OutboxMessage, Saga, SagaStep
from workers.orchestration.recording import record_outcome_in

pytestmark = pytest.mark.usefixtures("postgres_db")

EVENT, TIER = uuid.UUID(int=1), uuid.UUID(int=2)


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(service, "publish", lambda message, saga, **kw: sent.append(saga.id))
    return sent


def start(user, key, quantity):
    return service.start_purchase(user_id=user, event_id=EVENT, tier_id=TIER,
                                  quantity=quantity, payment_token="tok_visa",
                                  idempotency_key=key)


def request_hash_of_one_seat() -> str:
    """What a request for one seat is recorded with (read from one, for another buyer)."""
    saga_id, _ = start(uuid.uuid4(), "reference", 1)
    with transaction() as s:
        return s.get(Saga, saga_id).request_hash


def race(user, key, quantity, first_hash):
    """Start a purchase while the buyer's first request with ``key`` (one seat) is being
    recorded; the first request's saga id and the racing request's outcome."""
    with transaction() as first_request:
        now = service.utcnow()
        first = Saga(user_id=user, event_id=EVENT, tier_id=TIER, quantity=1,
                     payment_token="tok_visa", request_hash=first_hash,
                     idempotency_key=key, created_at=now, updated_at=now)
        first_request.add(first)
        first_request.flush()
        racing = Running(start, user=user, key=key, quantity=quantity)
        assert blocked(racing)  # on the buyer's unique key
    return first.id, racing


def test_a_repeat_racing_the_first_request_answers_with_its_saga(published):
    theirs, _ = start(uuid.uuid4(), "shared", 3)  # another buyer's, with the same key
    user = uuid.uuid4()
    earlier, _ = start(user, "earlier", 2)  # the buyer's, with another key
    first_hash = request_hash_of_one_seat()
    first, racing = race(user, "shared", 1, first_hash)
    assert racing.outcome() == (first, False)
    assert published[:2] == [theirs, earlier] and len(published) == 3  # the race sent nothing


def test_another_body_racing_the_first_request_is_a_conflict(published):
    first_hash = request_hash_of_one_seat()
    _, racing = race(uuid.uuid4(), "k-race", 2, first_hash)
    with pytest.raises(IdempotencyConflict) as conflict:
        racing.outcome()
    assert conflict.value.args == ("k-race",)


def test_a_key_is_looked_up_only_when_the_insert_finds_it_used(published):
    """A start with an idempotency key is one statement, the insert; a repeat inserts
    nothing (no second saga, no second message) and is answered with the first saga."""
    statements = []

    def seen(conn, cursor, statement, *_):
        statements.append(statement.split()[0])

    user = uuid.uuid4()
    event.listen(Engine, "after_cursor_execute", seen)
    try:
        first, created = start(user, "k-once", 2)
        at_first = list(statements)
        assert start(user, "k-once", 2) == (first, False)
    finally:
        event.remove(Engine, "after_cursor_execute", seen)
    assert created and at_first == ["WITH"]  # the saga and its message, nothing read
    assert statements[1:] == ["WITH", "SELECT"]  # the repeat: the insert, then the lookup
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(Saga).where(Saga.user_id == user)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.saga_id == first)) == 1
    assert published == [first]
    with pytest.raises(IdempotencyConflict):
        start(user, "k-once", 3)


def test_a_step_record_takes_the_step_row_before_it_waits_for_the_saga_row(published):
    """A step's record is one statement here (the step's upsert and the saga's UPDATE):
    while another transaction holds the saga row, the record has already written its step
    row, so a second delivery of the step waits behind it, never the other way round."""
    saga_id, _ = start(uuid.uuid4(), None, 1)
    reserved = outcome(saga_id, "SeatsReserved", "reserve", hold_id=uuid.uuid4(), quantity=1,
                       amount_cents=100, currency="EUR", expires_at=None)

    def record():
        with transaction() as s:
            return record_outcome_in(s, reserved)

    with transaction() as holder:
        holder.execute(select(Saga.id).where(Saga.id == saga_id).with_for_update())
        recording = Running(record)
        assert blocked(recording)
        # the step row is written and locked by the waiting record: a second write waits
        holder.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(Exception, match="lock timeout"):
            with holder.begin_nested():
                holder.execute(text(
                    "INSERT INTO orchestration_saga_steps (saga_id, name, position, status, "
                    "attempts) VALUES (:saga, 'reserve', 0, 'succeeded', 1) "
                    "ON CONFLICT DO NOTHING"), {"saga": saga_id})
    assert recording.outcome() is None  # not terminal: nothing to publish
    with transaction() as s:
        assert s.get(Saga, saga_id).status == "reserved"
        assert s.get(SagaStep, (saga_id, "reserve")).status == "succeeded"
