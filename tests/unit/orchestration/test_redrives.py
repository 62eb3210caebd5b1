"""Sagas undone or driven again: an expired hold, operators' retry and compensate, an event's
cancellation, the watchdog; on a migrated SQLite file, with the broker recorded (``sent``)."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.unit.orchestration.support import (
    COMPENSATION, PURCHASE, failure, saga, set_status, start,
)
from workers.db import transaction
from workers.orchestration import service, watchdog
from workers.orchestration.errors import SagaFinished, SagaNotFound
from workers.orchestration.models import Saga
from workers.steps import utcnow

pytestmark = pytest.mark.usefixtures("sqlite_db")


# --- an expired hold ---------------------------------------------------------------------

def test_an_expired_hold_compensates_an_unfinished_saga_once(sent):
    saga_id, _ = start()
    sent.messages.clear()

    service.handle_hold_expired(saga_id)
    service.handle_hold_expired(saga_id)

    assert (saga(saga_id).status, saga(saga_id).reason) == ("compensating", "hold_expired")
    assert sent.flows() == [COMPENSATION]


# --- operators: retry and compensate -----------------------------------------------------

def test_retry_resends_an_unfinished_purchase(sent):
    saga_id, _ = start()
    set_status(saga_id, "reserved")
    sent.messages.clear()

    assert service.retry(saga_id) == "purchase"

    assert saga(saga_id).status == "reserved"
    assert sent.flows() == [PURCHASE]


def test_retry_runs_a_failed_compensation_again(sent):
    saga_id, _ = start()
    service.handle_step_failure(failure(saga_id, "charge", "PaymentDeclined"))
    service.handle_step_failure(failure(saga_id, "refund", "OperationalError"))
    sent.messages.clear()

    assert service.retry(saga_id) == "compensate"

    record = saga(saga_id)
    assert (record.status, record.error, record.reason) == ("compensating", None,
                                                            "payment_declined")
    assert sent.flows() == [COMPENSATION]


def test_compensate_cancels_an_unfinished_saga_for_the_operator(sent):
    saga_id, _ = start()
    sent.messages.clear()

    assert service.compensate(saga_id) == "compensate"

    assert (saga(saga_id).status, saga(saga_id).reason) == ("compensating", "operator_canceled")
    assert sent.flows() == [COMPENSATION]


@pytest.mark.parametrize("status", ["confirmed", "canceled"])
@pytest.mark.parametrize("redrive", [service.retry, service.compensate])
def test_a_finished_saga_is_not_redriven(sent, status, redrive):
    saga_id, _ = start()
    set_status(saga_id, status)
    sent.messages.clear()

    with pytest.raises(SagaFinished):
        redrive(saga_id)

    assert saga(saga_id).status == status
    assert sent.messages == []


def test_redriving_an_unknown_saga_is_refused(sent):
    with pytest.raises(SagaNotFound):
        service.retry(uuid.uuid4())


# --- event cancellation and the watchdog -------------------------------------------------

def test_an_event_cancellation_compensates_its_open_and_confirmed_sagas_in_batches(sent):
    event_id = uuid.uuid4()
    ids = [start(event_id=event_id)[0] for _ in range(3)]
    set_status(ids[0], "confirmed")
    set_status(ids[1], "canceled")
    other_event, _ = start()
    sent.messages.clear()

    first = service.cancel_sagas_of_event(event_id, batch=1)
    second = service.cancel_sagas_of_event(event_id, after=first, batch=1)
    assert service.cancel_sagas_of_event(event_id, after=second, batch=1) is None

    assert sorted([first, second]) == sorted([ids[0], ids[2]])

    assert saga(ids[1]).status == "canceled"
    assert {(saga(i).status, saga(i).reason) for i in (ids[0], ids[2])} == {
        ("compensating", "event_canceled")}
    assert saga(other_event).status == "pending"
    next_batch = ["orchestration.cancel_event_sagas"]
    assert sent.flows() == [next_batch, COMPENSATION, next_batch, COMPENSATION]
    assert [cmd["after"] for (cmd,) in sent.args_of("orchestration.cancel_event_sagas")] == [
        str(first), str(second)]


def test_the_watchdog_redrives_a_stuck_saga_then_compensates_it(sent, monkeypatch):
    monkeypatch.setenv("SAGA_MAX_REDRIVES", "1")
    from settings import reset_settings
    from workers.bootstrap import bootstrap

    reset_settings()
    bootstrap()
    saga_id, _ = start()
    stuck, fresh = utcnow() - timedelta(days=1), start()[0]
    sent.messages.clear()

    def make_stuck():
        with transaction() as s:
            s.execute(update(Saga).where(Saga.id == saga_id).values(updated_at=stuck))

    make_stuck()
    assert watchdog.redrive_overdue() == 1
    assert (saga(saga_id).status, saga(saga_id).redrives) == ("pending", 1)
    make_stuck()
    assert watchdog.redrive_overdue() == 1

    assert (saga(saga_id).status, saga(saga_id).reason) == ("compensating", "timed_out")
    assert saga(fresh).status == "pending"
    assert sent.flows() == [PURCHASE, COMPENSATION]
