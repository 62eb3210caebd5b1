"""The Celery canvases a saga runs as.

A purchase is one chain across three queues, reserve -> charge -> confirm: three
messages, with no hop back to orchestration. Each step's outcome is written into the saga
record by the worker that ran the step, in the step's own transaction, before the chain
goes on (``workers.steps.record_outcomes_with``), so the record needs no message or
transaction of its own. Any failing step calls ``on_step_failed`` inside the failing worker, which
cancels the saga or starts its compensation in reverse (or, if it cannot now, hands the
failure to the orchestration queue).
"""
from celery import chain

from contracts import (
    ChargePayment, ConfirmSeats, RefundPayment, ReleaseSeats, ReserveSeats, SagaCompletedBatch,
)
from contracts.statuses import OutboxKind
from workers.celery_app import app


def _sig(name, *args):
    return app.signature(name, args=args)


def purchase(saga) -> chain:
    sid = saga.id
    reserve = _sig("tickets.reserve_seats", ReserveSeats.build(
        saga_id=sid, user_id=saga.user_id, event_id=saga.event_id, tier_id=saga.tier_id,
        quantity=saga.quantity))
    charge = _sig("payments.charge", ChargePayment.build(saga_id=sid, payment_token=saga.payment_token))
    confirm = _sig("tickets.confirm_seats", ConfirmSeats.build(saga_id=sid))
    flow = chain(reserve, charge, confirm)
    flow.on_error(_sig("orchestration.on_step_failed"))
    return flow


def compensation(saga) -> chain:
    """Undo in reverse: refund (a no-op without a charge), then release the seats."""
    refund = _sig("payments.refund", RefundPayment.build(saga_id=saga.id))
    release = _sig("tickets.release_seats", ReleaseSeats.build(
        saga_id=saga.id, user_id=saga.user_id, tier_id=saga.tier_id))
    flow = chain(refund, release)
    flow.on_error(_sig("orchestration.on_step_failed"))
    return flow


def saga_completed(payload: dict):
    """A ``SagaCompleted`` event (built when the saga ended) for the users queue: what
    earlier versions sent, one per saga; the relay now sends them in batches."""
    return _sig("users.saga_completed", payload)


def sagas_completed(payloads: list) -> object:
    """``SagaCompleted`` events, sent together as one ``SagaCompletedBatch``."""
    return _sig("users.sagas_completed", SagaCompletedBatch.build(events=payloads))


CANVASES = {OutboxKind.PURCHASE: purchase, OutboxKind.COMPENSATE: compensation}
