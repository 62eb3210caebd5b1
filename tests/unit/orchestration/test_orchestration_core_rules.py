"""The idempotency conflict, on SQLite: one saga per (buyer, Idempotency-Key); the same
key with another body is refused, not answered with the first saga."""
import hashlib
import uuid

import pytest

from workers.db import transaction
from workers.orchestration import service
from workers.orchestration.errors import IdempotencyConflict
from workers.orchestration.models import OutboxMessage, Saga

pytestmark = pytest.mark.usefixtures("sqlite_db")


@pytest.fixture
def published(monkeypatch):
    sent = []
    def publish(message, saga, **kw):
        assert kw == {"retry": False}  # a request never waits on a broker that is down
        sent.append((message.kind, saga.id))

    monkeypatch.setattr(service, "publish", publish)
    return sent


def start(user, key, quantity=1, token="tok_visa", event=uuid.UUID(int=1)):
    return service.start_purchase(user_id=user, event_id=event, tier_id=uuid.UUID(int=2),
                                  quantity=quantity, payment_token=token, idempotency_key=key)


def test_a_purchase_is_recorded_pending_with_its_start_message(published):
    saga_id, created = start(uuid.uuid4(), "k-0")
    with transaction() as s:
        saga = s.get(Saga, saga_id)
        kinds = [m.kind for m in s.query(OutboxMessage).filter_by(saga_id=saga_id)]
    assert created and saga.status == "pending" and saga.idempotency_key == "k-0"
    assert kinds == ["purchase"]
    assert published == [("purchase", saga_id)]


def test_a_repeat_with_the_same_key_and_body_returns_the_first_saga(published):
    user = uuid.uuid4()
    first, created = start(user, "k-1")
    again, created_again = start(user, "k-1")
    assert (again, created, created_again) == (first, True, False)
    assert published == [("purchase", first)]


@pytest.mark.parametrize("change", [{"quantity": 2}, {"token": "tok_mastercard"},
                                    {"event": uuid.UUID(int=3)}])
def test_the_same_key_with_another_body_is_a_conflict(published, change):
    user = uuid.uuid4()
    first, _ = start(user, "k-2")
    with pytest.raises(IdempotencyConflict) as conflict:
        start(user, "k-2", **change)
    assert conflict.value.args == ("k-2",)
    assert published == [("purchase", first)]


def test_a_repeat_finds_its_own_buyer_s_saga_when_another_buyer_used_the_key(published):
    theirs, _ = start(uuid.uuid4(), "shared", quantity=3)  # first in the table
    user = uuid.uuid4()
    mine, _ = start(user, "shared")
    assert start(user, "shared") == (mine, False)
    assert theirs != mine


def test_no_key_means_a_new_saga_each_time(published):
    user = uuid.uuid4()
    assert start(user, None)[0] != start(user, None)[0]


def test_a_buyer_s_repeat_finds_the_saga_of_that_key_among_the_buyer_s_sagas(published):
    user = uuid.uuid4()
    first, _ = start(user, "one")
    second, _ = start(user, "two", quantity=2)
    assert start(user, "two", quantity=2) == (second, False)
    assert start(user, "one") == (first, False)


def test_the_recorded_request_hash_is_the_digest_of_the_request_s_named_fields(published):
    """The hash is stored with the saga: a repeat after an upgrade must still match it, so
    its canonical form (these field names, sorted; ids as text) is part of the record."""
    saga_id, _ = start(uuid.uuid4(), "k-hash", quantity=2, token="tok_visa")
    canonical = ('{"event_id": "00000000-0000-0000-0000-000000000001", '
                 '"payment_token": "tok_visa", "quantity": 2, '
                 '"tier_id": "00000000-0000-0000-0000-000000000002"}')
    with transaction() as s:
        recorded = s.get(Saga, saga_id).request_hash
    assert recorded == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.fixture
def capped(monkeypatch):
    """Buyers may have two purchases and three seats in flight at once."""
    import settings

    monkeypatch.setenv("MAX_OPEN_PURCHASES_PER_USER", "2")
    monkeypatch.setenv("MAX_HELD_SEATS_PER_USER", "3")
    settings.reset_settings()
    from workers.bootstrap import bootstrap

    bootstrap()  # the process's parts, rebuilt from these settings


def test_a_repeat_is_answered_with_its_saga_even_when_the_buyer_is_at_a_cap(published, capped):
    from workers.orchestration.errors import PurchaseCapReached

    user = uuid.uuid4()
    first, _ = start(user, "two-seats", quantity=2)
    assert start(user, "two-seats", quantity=2) == (first, False)  # not counted again
    with pytest.raises(PurchaseCapReached, match="hold 2 seats"):
        start(user, "two-more", quantity=2)
    start(user, "one-more", quantity=1)
    with pytest.raises(PurchaseCapReached, match="2 purchases in progress"):
        start(user, "a-third")
    assert start(uuid.uuid4(), "two-seats", quantity=3)[1]  # another buyer's caps are their own
    assert [saga for _, saga in published][0] == first and len(published) == 3


def test_a_purchase_keeps_the_trace_of_the_request_that_started_it(published, monkeypatch):
    from workers import telemetry

    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    monkeypatch.setattr(telemetry, "current_traceparent", lambda: traceparent)
    saga_id, _ = start(uuid.uuid4(), "traced")
    with transaction() as s:
        assert s.get(Saga, saga_id).traceparent == traceparent
