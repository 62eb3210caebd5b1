"""The idempotency conflict on PostgreSQL, where two requests with one Idempotency-Key
really arrive at once: the one that loses the race for the buyer's key answers with the
winner's saga, or refuses if its body differs, and never with another buyer's saga."""
import uuid

import pytest

from tests.unit.concurrency import Running, blocked
from workers.db import transaction
from workers.orchestration import service
from workers.orchestration.errors import IdempotencyConflict
from workers.orchestration.models import Saga

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
