"""The idempotency conflict, on SQLite: one saga per (buyer, Idempotency-Key); the same
key with another body is refused, not answered with the first saga."""
import uuid

import pytest

from workers.orchestration import service
from workers.orchestration.errors import IdempotencyConflict

pytestmark = pytest.mark.usefixtures("sqlite_db")


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(service, "publish", lambda message, saga, **kw: sent.append(saga.id))
    return sent


def start(user, key, quantity=1, token="tok_visa", event=uuid.UUID(int=1)):
    return service.start_purchase(user_id=user, event_id=event, tier_id=uuid.UUID(int=2),
                                  quantity=quantity, payment_token=token, idempotency_key=key)


def test_a_repeat_with_the_same_key_and_body_returns_the_first_saga(published):
    user = uuid.uuid4()
    first, created = start(user, "k-1")
    again, created_again = start(user, "k-1")
    assert (again, created, created_again) == (first, True, False)
    assert published == [first]


@pytest.mark.parametrize("change", [{"quantity": 2}, {"token": "tok_mastercard"},
                                    {"event": uuid.UUID(int=3)}])
def test_the_same_key_with_another_body_is_a_conflict(published, change):
    user = uuid.uuid4()
    first, _ = start(user, "k-2")
    with pytest.raises(IdempotencyConflict):
        start(user, "k-2", **change)
    assert published == [first]


def test_keys_are_per_buyer_and_no_key_means_a_new_saga_each_time(published):
    mine, _ = start(uuid.uuid4(), "shared")
    theirs, created = start(uuid.uuid4(), "shared")
    assert created and theirs != mine
    user = uuid.uuid4()
    assert start(user, None)[0] != start(user, None)[0]
