"""A batch of ``SagaCompleted`` events makes one notification per saga and status,
however often an event comes (twice in a batch, again in a later one, or alone)."""
import uuid

import pytest

from contracts import SagaCompleted, SagaCompletedBatch
from workers.steps import utcnow
from workers.users import notifications

pytestmark = pytest.mark.usefixtures("sqlite_db")
BUYER = uuid.uuid4()


def event(saga_id, status, reason=None) -> dict:
    return SagaCompleted.build(saga_id=saga_id, user_id=BUYER, status=status, reason=reason,
                               amount_cents=1000, currency="EUR", ticket_ids=[],
                               completed_at=utcnow())


def batch(*events) -> list[dict]:
    """The events as the users task reads them: through the batch's contract."""
    return SagaCompletedBatch.parse(SagaCompletedBatch.build(events=list(events)))["events"]


def test_a_batch_makes_one_notification_per_saga_and_status():
    first, second = uuid.uuid4(), uuid.uuid4()
    events = batch(event(first, "confirmed"), event(second, "canceled", "sold_out"),
                   event(first, "confirmed"), event(first, "canceled", "event_canceled"))

    assert notifications.record_sagas_completed(events) == 3

    notes = notifications.notifications_of(BUYER, limit=10)
    assert sorted((n["saga_id"], n["status"]) for n in notes) == sorted(
        [(first, "confirmed"), (second, "canceled"), (first, "canceled")])


def test_a_batch_delivered_again_or_an_event_sent_alone_adds_nothing():
    saga_id = uuid.uuid4()
    events = batch(event(saga_id, "confirmed"))
    assert notifications.record_sagas_completed(events) == 1

    assert notifications.record_sagas_completed(events) == 0
    assert notifications.record_saga_completed(events[0]) is False
    assert len(notifications.notifications_of(BUYER, limit=10)) == 1


def test_an_empty_batch_writes_nothing():
    assert notifications.record_sagas_completed([]) == 0
    assert notifications.notifications_of(BUYER, limit=10) == []
