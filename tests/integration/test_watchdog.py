"""No saga waits forever: the watchdog re-drives, then compensates, then gives up loudly;
a saga that only waits its turn in a queue is left alone."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from harness.processes import wait_for
from tests.integration.conftest import payments_of, recorded_purchase, wait_terminal
from workers.db import transaction
from workers.orchestration import service, watchdog
from workers.orchestration.models import Saga
from workers.orchestration.queries import get_saga
from workers.steps import utcnow

pytestmark = pytest.mark.usefixtures("worker_processes")


@pytest.fixture
def lost_saga(api, organizer, monkeypatch):
    return recorded_purchase(api, organizer, monkeypatch, lost=True)


def make_overdue(saga_id, **values):
    values.setdefault("updated_at", utcnow() - timedelta(hours=1))
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(**values))


def test_a_saga_whose_message_was_lost_is_re_driven_to_the_end(api, lost_saga):
    event, saga_id = lost_saga
    make_overdue(saga_id)

    watchdog.redrive_overdue()
    with transaction() as s:  # this saga was re-driven (by this call or beat's watchdog)
        assert s.get(Saga, saga_id).redrives == 1
    saga = wait_terminal([saga_id])[str(saga_id)]

    assert saga["status"] == "confirmed"
    assert [p[1:] for p in payments_of([saga_id])] == [("charge", "succeeded", 3000)]
    assert api.available(event) == 2


def test_a_saga_stuck_past_its_re_drive_budget_is_compensated(api, lost_saga):
    event, saga_id = lost_saga
    make_overdue(saga_id, redrives=3)

    watchdog.redrive_overdue()
    saga = wait_terminal([saga_id])[str(saga_id)]

    assert (saga["status"], saga["reason"]) == ("canceled", "timed_out")
    assert api.available(event) == 4


def test_a_compensation_stuck_past_its_budget_fails_for_an_operator_who_can_retry(api, lost_saga):
    event, saga_id = lost_saga
    make_overdue(saga_id, status="compensating", reason="timed_out", redrives=3)

    watchdog.redrive_overdue()
    failed = get_saga(saga_id)
    assert failed["status"] == "failed" and "re-drives" in failed["error"]

    assert service.retry(saga_id) == "compensate"
    wait_for(lambda: get_saga(saga_id)["status"] == "canceled", timeout=30,
             what="the retried compensation")
    assert api.available(event) == 4


def test_a_saga_whose_next_message_waits_in_a_queue_is_not_re_driven(
        api, organizer, monkeypatch, worker_processes):
    event, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    tickets = worker_processes["tickets"]
    tickets.stop()  # nobody reads the tickets queue for a while: a backlog
    try:
        queued_event, buyer = api.event(organizer, capacity=4), api.user()
        queued, _ = service.start_purchase(
            user_id=uuid.UUID(buyer["id"]), event_id=uuid.UUID(queued_event["id"]),
            tier_id=uuid.UUID(queued_event["tiers"][0]["id"]), quantity=1,
            payment_token="tok_visa")
        wait_for(lambda: watchdog.queue_depths().get("tickets"), timeout=30,
                 what="the purchase to wait in the tickets queue")
        make_overdue(saga_id, updated_at=utcnow() - timedelta(minutes=2))

        assert watchdog.redrive_overdue() == 0
        saga = get_saga(saga_id)
        assert (saga["status"], saga_redrives(saga_id)) == ("pending", 0)
    finally:
        tickets.start()
        tickets.wait_ready()
    assert wait_terminal([queued])[str(queued)]["status"] == "confirmed"
    # once the queue has drained, the saga whose message was lost is re-driven after all
    wait_for(lambda: watchdog.queue_depths().get("tickets") == 0, timeout=30,
             what="the tickets queue to drain")
    assert watchdog.redrive_overdue() >= 1
    assert wait_terminal([saga_id])[str(saga_id)]["status"] == "confirmed"


def saga_redrives(saga_id) -> int:
    with transaction() as s:
        return s.get(Saga, saga_id).redrives
