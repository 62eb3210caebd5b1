"""Rules of the saga record (start, outcomes, failures, re-drives), on a migrated SQLite file.

The broker is the ``sent`` recorder: what a rule publishes is asserted, not delivered.
"""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from workers.db import transaction
from workers.orchestration import service, watchdog
from workers.orchestration.errors import IdempotencyConflict, SagaFinished, SagaNotFound
from workers.orchestration.models import OutboxMessage, Saga, SagaStep
from workers.steps import utcnow

pytestmark = pytest.mark.usefixtures("sqlite_db")

PURCHASE = ["tickets.reserve_seats", "payments.charge", "tickets.confirm_seats",
            "orchestration.record_step"]
COMPENSATION = ["payments.refund", "tickets.release_seats", "orchestration.record_step"]
BUYER = uuid.uuid4()


def start(key=None, user_id=BUYER, quantity=2, event_id=None, **body):
    request = dict(event_id=event_id or uuid.uuid4(), tier_id=uuid.uuid4(), quantity=quantity,
                   payment_token="tok_visa")
    request.update(body)
    return service.start_purchase(user_id=user_id, idempotency_key=key, **request)


def saga(saga_id) -> Saga:
    with transaction() as s:
        return s.get(Saga, saga_id)


def outbox(saga_id) -> list[OutboxMessage]:
    with transaction() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.saga_id == saga_id)
                              .order_by(OutboxMessage.created_at)))


def set_status(saga_id, status) -> None:
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(status=status))


def outcome(saga_id, contract, step, **fields) -> dict:
    now = utcnow()
    return {"contract": contract, "saga_id": saga_id, **fields,
            "step": {"name": step, "attempts": 1, "started_at": now, "finished_at": now}}


def failure(saga_id, step, error_type, message="refused") -> dict:
    return {"saga_id": saga_id, "step": step, "error_type": error_type, "message": message,
            "attempts": 1, "failed_at": utcnow()}


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


# --- record_outcome ----------------------------------------------------------------------

def test_outcomes_move_the_saga_forward_and_record_each_step(sent):
    saga_id, _ = start()

    service.record_outcome(outcome(saga_id, "SeatsReserved", "reserve", amount_cents=5000,
                                   currency="EUR"))
    assert saga(saga_id).status == "reserved"
    service.record_outcome(outcome(saga_id, "PaymentCaptured", "charge"))
    assert saga(saga_id).status == "paid"
    service.record_outcome(outcome(saga_id, "SeatsConfirmed", "confirm"))

    record = saga(saga_id)
    assert (record.status, record.amount_cents, record.currency) == ("confirmed", 5000, "EUR")
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
    assert sent.messages == []


@pytest.mark.parametrize("step, error_type, reason", [
    ("charge", "PaymentDeclined", "payment_declined"),
    ("charge", "InsufficientFunds", "insufficient_funds"),
    ("confirm", "HoldExpired", "hold_expired"),
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
    assert sent.messages == []


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
    assert sent.flows() == [COMPENSATION, COMPENSATION]


def test_requesting_an_event_cancellation_sends_one_command(sent):
    event_id = uuid.uuid4()

    service.request_event_cancellation(event_id)

    assert sent.names() == ["orchestration.cancel_event_sagas"]
    (command,), = sent.args_of("orchestration.cancel_event_sagas")
    assert (command["event_id"], command["after"]) == (str(event_id), None)


def test_the_watchdog_redrives_a_stuck_saga_then_compensates_it(sent, monkeypatch):
    monkeypatch.setenv("SAGA_MAX_REDRIVES", "1")
    from settings import reset_settings

    reset_settings()
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
