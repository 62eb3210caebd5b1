"""No saga waits forever: the watchdog re-drives, then compensates, then gives up loudly."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.integration.conftest import payments_of, recorded_purchase, wait_terminal
from tests.support.processes import wait_for
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
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id)
                  .values(updated_at=utcnow() - timedelta(hours=1), **values))


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
