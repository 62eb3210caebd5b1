"""A step that succeeded and was then reported failed, because the broker refused the
chain's next message (Celery calls the error callback with the broker's error): the saga is
sent on, never compensated for it; on a migrated SQLite file, the broker recorded (``sent``).
"""
import pytest
from sqlalchemy import update

from tests.unit.orchestration.support import (
    COMPENSATION, PURCHASE, failure, outbox, outcome, relayed_completions, saga, set_status,
    start,
)
from workers.db import transaction
from workers.orchestration import service
from workers.orchestration.models import Saga

pytestmark = pytest.mark.usefixtures("sqlite_db")

RESERVED = ("SeatsReserved", "reserve", {"amount_cents": 3000, "currency": "EUR"})
CAPTURED = ("PaymentCaptured", "charge", {})


def steps(saga_id) -> list[tuple]:
    return [(st.name, st.status) for st in saga(saga_id).steps]


@pytest.mark.parametrize("step, recorded, status", [
    ("reserve", [RESERVED], "reserved"), ("charge", [RESERVED, CAPTURED], "paid")])
@pytest.mark.parametrize("error_type", ["OperationalError", "InterfaceError"])
def test_a_step_that_succeeded_and_could_not_send_its_next_message_sends_the_saga_on(
        sent, step, recorded, status, error_type):
    saga_id, _ = start()
    for contract, name, fields in recorded:
        service.record_outcome(outcome(saga_id, contract, name, **fields))
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, step, error_type, "MessageNacked"))

    record = saga(saga_id)
    assert (record.status, record.reason, record.redrives) == (status, None, 1)
    assert (step, "succeeded") in steps(saga_id)
    assert sent.flows() == [PURCHASE]
    assert [m.kind for m in outbox(saga_id)] == ["purchase", "purchase"]


def test_the_purchase_sent_on_ends_confirmed_not_canceled(sent):
    saga_id, _ = start()
    service.record_outcome(outcome(saga_id, RESERVED[0], RESERVED[1], **RESERVED[2]))
    service.handle_step_failure(failure(saga_id, "reserve", "OperationalError"))

    for contract, step, fields in (RESERVED, CAPTURED):  # the purchase, run again
        service.record_outcome(outcome(saga_id, contract, step, **fields))
    service.record_outcome(outcome(saga_id, "SeatsConfirmed", "confirm", ticket_ids=[]))

    assert (saga(saga_id).status, saga(saga_id).reason) == ("confirmed", None)
    [completed] = relayed_completions(sent)
    assert completed["status"] == "confirmed"


def test_a_refund_that_succeeded_and_could_not_send_the_release_sends_the_compensation_on(
        sent):
    saga_id, _ = start()
    set_status(saga_id, "compensating")
    service.record_outcome(outcome(saga_id, "PaymentRefunded", "refund"))
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "refund", "OperationalError"))

    assert (saga(saga_id).status, saga(saga_id).error) == ("compensating", None)
    assert steps(saga_id) == [("refund", "succeeded")]
    assert sent.flows() == [COMPENSATION]


def test_a_purchase_step_s_lost_message_while_compensating_sends_nothing(sent):
    saga_id, _ = start()
    service.record_outcome(outcome(saga_id, RESERVED[0], RESERVED[1], **RESERVED[2]))
    set_status(saga_id, "compensating")
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "reserve", "OperationalError"))

    assert saga(saga_id).status == "compensating"
    assert sent.messages == []


def test_a_refusal_of_a_step_recorded_as_succeeded_still_compensates(sent):
    saga_id, _ = start()
    service.record_outcome(outcome(saga_id, RESERVED[0], RESERVED[1], **RESERVED[2]))
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "reserve", "HoldReleased"))

    assert (saga(saga_id).status, saga(saga_id).reason) == ("compensating", "hold_expired")
    assert sent.flows() == [COMPENSATION]


def test_a_broker_error_of_a_step_never_recorded_still_compensates(sent):
    saga_id, _ = start()
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "reserve", "OperationalError"))

    assert (saga(saga_id).status, saga(saga_id).reason) == ("compensating", "step_failed")
    assert steps(saga_id) == [("reserve", "failed")]


def test_once_the_re_drives_are_spent_the_saga_is_compensated_as_before(sent, monkeypatch):
    monkeypatch.setenv("SAGA_MAX_REDRIVES", "1")
    from settings import reset_settings
    from workers.bootstrap import bootstrap

    reset_settings()
    bootstrap()
    saga_id, _ = start()
    service.record_outcome(outcome(saga_id, RESERVED[0], RESERVED[1], **RESERVED[2]))
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(redrives=1))
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "reserve", "OperationalError"))

    assert (saga(saga_id).status, saga(saga_id).reason) == ("compensating", "step_failed")
    assert sent.flows() == [COMPENSATION]
