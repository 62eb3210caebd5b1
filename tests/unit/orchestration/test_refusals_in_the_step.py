"""A step's refusal is handled in the step's own transaction: the saga is canceled, or its
compensation queued, in the commit that keeps what the step kept (a refused hold), and
the chain's error callback then has nothing left to do. A refusal whose recording fails
is left to the error callback, as before, and the step's own work is kept."""
import uuid
from types import SimpleNamespace

import pytest

from contracts import ChargePayment, ReserveSeats
from contracts.statuses import OutboxKind, SagaReason, SagaStatus, StepStatus
from tests.unit.orchestration.support import outbox, saga
from tests.unit.tickets.support import hold_of, new_event
from workers.db import transaction
from workers.orchestration import service
from workers.orchestration import tasks as orchestration_tasks
from workers.orchestration.models import SagaStep
from workers.payments import tasks as payment_tasks
from workers.tickets import tasks as ticket_tasks
from workers.tickets.errors import OrderLimitExceeded, SoldOut


@pytest.fixture(params=["sqlite_db", "postgres_db"])
def database(request):
    return request.getfixturevalue(request.param)


def _run(task, *messages):
    task.push_request(id=str(uuid.uuid4()), retries=0, args=messages)
    try:
        return task(*messages)
    finally:
        task.pop_request()


def _reserve(event_id, tier_id, quantity):
    user_id = uuid.uuid4()
    saga_id, _ = service.start_purchase(user_id=user_id, event_id=event_id, tier_id=tier_id,
                                        quantity=quantity, payment_token="tok_visa")
    message = ReserveSeats.build(saga_id=saga_id, user_id=user_id, event_id=event_id,
                                 tier_id=tier_id, quantity=quantity)
    return saga_id, message


def _failed(message, exc):
    """The chain's error callback, as the worker calls it after the step raised."""
    request = SimpleNamespace(task="tickets.reserve_seats", id=str(uuid.uuid4()),
                              args=[message], retries=0)
    orchestration_tasks.on_step_failed(request, exc, None)


def _step(saga_id, name):
    with transaction() as s:
        return s.get(SagaStep, (saga_id, name))


def _completions(saga_id):
    return [m for m in outbox(saga_id) if m.kind == OutboxKind.COMPLETED]


@pytest.mark.parametrize("quantity, refusal", [(3, SoldOut), (5, OrderLimitExceeded)],
                         ids=["sold-out-at-the-commit", "refused-before-any-seat"])
def test_a_refused_reserve_cancels_its_saga_in_its_own_commit(database, sent, quantity,
                                                               refusal):
    event_id, tier_id = new_event(capacity=2, max_per_order=4)
    saga_id, message = _reserve(event_id, tier_id, quantity)

    with pytest.raises(refusal) as raised:
        _run(ticket_tasks.reserve_seats, message)

    assert raised.value.recorded is True
    assert (saga(saga_id).status, saga(saga_id).reason) == (
        SagaStatus.CANCELED, SagaReason.SOLD_OUT if refusal is SoldOut else SagaReason.INVALID_REQUEST)
    assert _step(saga_id, "reserve").status == StepStatus.FAILED
    assert len(_completions(saga_id)) == 1
    if refusal is SoldOut:  # the step's own work is kept beside the record
        assert hold_of(saga_id).status == "refused"
    # the chain's error callback, in the same worker, changes nothing more
    _failed(message, raised.value)
    assert len(_completions(saga_id)) == 1


def test_a_declined_charge_queues_the_compensation_and_publishes_it_after_the_commit(
        database, sent):
    event_id, tier_id = new_event(capacity=5)
    saga_id, message = _reserve(event_id, tier_id, 1)
    reserved = _run(ticket_tasks.reserve_seats, message)
    charge = ChargePayment.build(saga_id=saga_id, payment_token="tok_chargeDeclined")

    with pytest.raises(Exception) as raised:
        _run(payment_tasks.charge, reserved, charge)

    assert raised.value.recorded is True
    assert (saga(saga_id).status, saga(saga_id).reason) == (
        SagaStatus.COMPENSATING, SagaReason.PAYMENT_DECLINED)
    assert sent.names()[-1] == "payments.refund"  # the compensation chain, sent at once
    assert [m.sent_at is not None for m in outbox(saga_id)
            if m.kind == OutboxKind.COMPENSATE] == [True]


def test_a_refusal_whose_recording_fails_is_left_to_the_error_callback(database, sent,
                                                                       monkeypatch):
    event_id, tier_id = new_event(capacity=2)
    saga_id, message = _reserve(event_id, tier_id, 3)

    def broken(s, failure):
        raise RuntimeError("a bug in the recorder")

    monkeypatch.setattr(service, "step_failure_in", broken)
    with pytest.raises(SoldOut) as raised:
        _run(ticket_tasks.reserve_seats, message)

    assert getattr(raised.value, "recorded", False) is False
    assert saga(saga_id).status == SagaStatus.PENDING  # nothing of the recording kept
    assert hold_of(saga_id).status == "refused"  # the step's own work kept
    monkeypatch.undo()
    _failed(message, raised.value)
    assert (saga(saga_id).status, saga(saga_id).reason) == (SagaStatus.CANCELED,
                                                           SagaReason.SOLD_OUT)
