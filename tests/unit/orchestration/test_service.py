"""Rules of the saga record (start, outcomes, failures), on a migrated SQLite file.

The broker is the ``sent`` recorder: what a rule publishes is asserted, not delivered.
"""
import uuid

import pytest
from sqlalchemy import select

from tests.unit.orchestration.support import (
    BUYER, COMPENSATION, PURCHASE, failure, outbox, outcome, relayed_completions, saga,
    set_status, start,
)
from workers.db import transaction
from workers.orchestration import service
from workers.orchestration.errors import IdempotencyConflict
from workers.orchestration.models import Saga, SagaStep

pytestmark = pytest.mark.usefixtures("sqlite_db")


# --- start_purchase ----------------------------------------------------------------------

def test_a_purchase_is_recorded_pending_and_its_chain_is_published(sent):
    saga_id, created = start(quantity=3)

    assert created is True
    record = saga(saga_id)
    assert (record.status, record.user_id, record.quantity) == ("pending", BUYER, 3)
    assert sent.flows() == [PURCHASE]
    (reserve,), = sent.args_of("tickets.reserve_seats")
    assert (reserve["saga_id"], reserve["quantity"]) == (str(saga_id), 3)
    [message] = outbox(saga_id)
    assert message.kind == "purchase" and message.sent_at is not None


def test_the_same_key_and_body_return_the_first_saga_without_publishing_again(sent):
    event_id = uuid.uuid4()
    request = dict(event_id=event_id, tier_id=uuid.uuid4(), quantity=2, payment_token="tok_visa")

    first = service.start_purchase(user_id=BUYER, idempotency_key="k-1", **request)
    again = service.start_purchase(user_id=BUYER, idempotency_key="k-1", **request)

    assert first == (first[0], True) and again == (first[0], False)
    assert len(sent.messages) == 1
    with transaction() as s:
        assert len(list(s.scalars(select(Saga).where(Saga.event_id == event_id)))) == 1


def test_the_same_key_with_another_body_is_a_conflict(sent):
    request = dict(event_id=uuid.uuid4(), tier_id=uuid.uuid4(), quantity=2,
                   payment_token="tok_visa")
    service.start_purchase(user_id=BUYER, idempotency_key="k-2", **request)

    with pytest.raises(IdempotencyConflict):
        service.start_purchase(user_id=BUYER, idempotency_key="k-2", **{**request, "quantity": 3})

    assert len(sent.messages) == 1


def test_a_key_belongs_to_its_user_and_no_key_means_a_new_saga_each_time(sent):
    first, _ = start(key="shared")
    other_user, created = start(key="shared", user_id=uuid.uuid4())
    unkeyed = {start()[0], start()[0]}

    assert created is True and other_user != first
    assert len(unkeyed) == 2
    assert len(sent.messages) == 4


def test_with_the_broker_down_the_purchase_is_kept_and_the_relay_sends_it(sent, monkeypatch):
    from workers.celery_app import app

    monkeypatch.setattr(service, "_broker_down_until", 0.0)
    recorder = app.send_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", broker_down)
    saga_id, created = start()
    assert created is True and outbox(saga_id)[0].sent_at is None

    monkeypatch.setattr(app, "send_task", recorder)
    assert service.relay_outbox(older_than_seconds=0) == 1
    assert service.relay_outbox(older_than_seconds=0) == 0

    assert sent.flows() == [PURCHASE]
    assert outbox(saga_id)[0].sent_at is not None


def test_the_relay_drops_a_purchase_overtaken_by_its_compensation(sent, monkeypatch):
    from workers.celery_app import app

    monkeypatch.setattr(service, "_broker_down_until", 0.0)
    recorder = app.send_task
    monkeypatch.setattr(app, "send_task", lambda *a, **k: (_ for _ in ()).throw(ConnectionError()))
    saga_id, _ = start()
    set_status(saga_id, "canceled")
    monkeypatch.setattr(app, "send_task", recorder)

    assert service.relay_outbox(older_than_seconds=0) == 0
    assert sent.messages == []
    assert outbox(saga_id)[0].sent_at is not None


def test_the_relay_publishes_with_no_transaction_open(sent, monkeypatch):
    from workers.celery_app import app
    from workers.db import transaction

    monkeypatch.setattr(service, "_broker_down_until", 0.0)
    recorder = app.send_task
    monkeypatch.setattr(app, "send_task", lambda *a, **k: (_ for _ in ()).throw(ConnectionError()))
    saga_id, _ = start()

    def publish_outside_transactions(*args, **kwargs):
        with transaction():  # on SQLite this waits for, then fails on, a transaction left open
            pass
        return recorder(*args, **kwargs)

    monkeypatch.setattr(app, "send_task", publish_outside_transactions)
    assert service.relay_outbox(older_than_seconds=0) == 1
    assert sent.flows() == [PURCHASE]
    assert outbox(saga_id)[0].sent_at is not None


# --- record_outcome ----------------------------------------------------------------------

def test_outcomes_move_the_saga_forward_and_record_each_step(sent):
    saga_id, _ = start()

    service.record_outcome(outcome(saga_id, "SeatsReserved", "reserve", amount_cents=5000,
                                   currency="EUR"))
    assert saga(saga_id).status == "reserved"
    service.record_outcome(outcome(saga_id, "PaymentCaptured", "charge"))
    assert saga(saga_id).status == "paid"
    service.record_outcome(outcome(saga_id, "SeatsConfirmed", "confirm", ticket_ids=[]))

    record = saga(saga_id)
    assert (record.status, record.amount_cents, record.currency) == ("confirmed", 5000, "EUR")
    assert sent.args_of("users.saga_completed") == []  # not published on its own
    [completed] = relayed_completions(sent)
    assert (completed["saga_id"], completed["status"]) == (str(saga_id), "confirmed")
    assert [(st.name, st.status) for st in record.steps] == [
        ("reserve", "succeeded"), ("charge", "succeeded"), ("confirm", "succeeded")]


def test_a_late_outcome_never_moves_a_saga_back(sent):
    saga_id, _ = start()
    service.record_outcome(outcome(saga_id, "PaymentCaptured", "charge"))

    service.record_outcome(outcome(saga_id, "SeatsReserved", "reserve", amount_cents=5000,
                                   currency="EUR"))

    record = saga(saga_id)
    assert record.status == "paid"
    assert record.amount_cents == 5000  # the amount is still learnt
    assert {st.name for st in record.steps} == {"reserve", "charge"}


def test_a_finished_saga_keeps_its_status_whatever_arrives(sent):
    saga_id, _ = start()
    set_status(saga_id, "canceled")

    service.record_outcome(outcome(saga_id, "SeatsConfirmed", "confirm"))
    service.record_outcome(outcome(saga_id, "SeatsReserved", "reserve", amount_cents=1,
                                   currency="EUR"))

    record = saga(saga_id)
    assert (record.status, record.amount_cents) == ("canceled", None)


def test_seats_released_finish_a_compensation_as_canceled_but_not_a_purchase(sent):
    compensating, pending = start()[0], start()[0]
    set_status(compensating, "compensating")

    for saga_id in (compensating, pending):
        service.record_outcome(outcome(saga_id, "SeatsReleased", "release"))

    assert saga(compensating).status == "canceled"
    assert saga(pending).status == "pending"


def test_a_refund_outcome_records_the_step_and_keeps_the_status(sent):
    saga_id, _ = start()
    set_status(saga_id, "compensating")

    service.record_outcome(outcome(saga_id, "PaymentRefunded", "refund"))

    record = saga(saga_id)
    assert record.status == "compensating"
    assert [(st.name, st.status) for st in record.steps] == [("refund", "succeeded")]


# --- handle_step_failure -----------------------------------------------------------------

@pytest.mark.parametrize("error_type, reason", [
    ("SoldOut", "sold_out"), ("EventNotOnSale", "not_on_sale"),
    ("OrderLimitExceeded", "invalid_request"),
])
def test_a_reserve_that_took_nothing_cancels_without_compensation(sent, error_type, reason):
    saga_id, _ = start()
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "reserve", error_type))

    record = saga(saga_id)
    assert (record.status, record.reason) == ("canceled", reason)
    assert [(st.name, st.status) for st in record.steps] == [("reserve", "failed")]
    assert sent.names() == []  # the relay sends it, with any others, in one message
    [completed] = relayed_completions(sent)
    assert (completed["status"], completed["reason"]) == ("canceled", reason)


@pytest.mark.parametrize("step, error_type, reason", [
    ("charge", "PaymentDeclined", "payment_declined"),
    ("charge", "InsufficientFunds", "insufficient_funds"),
    ("confirm", "HoldLapsed", "hold_expired"),
    ("reserve", "OperationalError", "step_failed"),
])
def test_a_failed_step_compensates_in_reverse(sent, step, error_type, reason):
    saga_id, _ = start()
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, step, error_type, "no"))

    record = saga(saga_id)
    assert (record.status, record.reason) == ("compensating", reason)
    assert [st.error for st in record.steps] == [f"{error_type}: no"]
    assert sent.flows() == [COMPENSATION]
    (refund,), = sent.args_of("payments.refund")
    assert refund["saga_id"] == str(saga_id)
    assert [m.kind for m in outbox(saga_id)] == ["purchase", "compensate"]


def test_a_second_failure_while_compensating_starts_no_second_compensation(sent):
    saga_id, _ = start()
    service.handle_step_failure(failure(saga_id, "charge", "PaymentDeclined"))
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "confirm", "HoldReleased"))

    assert saga(saga_id).status == "compensating"
    assert sent.messages == []
    assert [m.kind for m in outbox(saga_id)] == ["purchase", "compensate"]


@pytest.mark.parametrize("step", ["refund", "release"])
def test_a_failed_compensation_step_leaves_the_saga_failed_for_an_operator(sent, step):
    saga_id, _ = start()
    set_status(saga_id, "compensating")
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, step, "OperationalError", "database gone"))

    record = saga(saga_id)
    assert record.status == "failed"
    assert record.error == f"{step} failed: OperationalError: database gone"
    assert sent.names() == []  # the relay sends it, with any others, in one message
    [completed] = relayed_completions(sent)
    assert (completed["saga_id"], completed["status"]) == (str(saga_id), "failed")


@pytest.mark.parametrize("status", ["confirmed", "canceled", "failed"])
def test_a_failure_of_a_finished_saga_changes_nothing(sent, status):
    saga_id, _ = start()
    set_status(saga_id, status)
    sent.messages.clear()

    service.handle_step_failure(failure(saga_id, "charge", "PaymentDeclined"))

    record = saga(saga_id)
    assert (record.status, record.reason, record.steps) == (status, None, [])
    assert sent.messages == []


def test_a_failure_of_an_unknown_saga_is_dropped(sent):
    service.handle_step_failure(failure(uuid.uuid4(), "charge", "PaymentDeclined"))

    assert sent.messages == []
    with transaction() as s:
        assert s.scalar(select(SagaStep)) is None
