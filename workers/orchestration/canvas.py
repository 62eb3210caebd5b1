"""The Celery canvases a saga runs as.

A purchase is one chain across three queues, reserve -> charge -> confirm -> record,
with no hop back to orchestration between steps; reserve and charge also report their
outcome to the saga record through a link, off the critical path. Any failing step
calls ``on_step_failed`` inside the failing worker, which hands the failure to the
orchestration queue, where the saga is compensated in reverse.
"""
from celery import chain

from contracts import ChargePayment, ConfirmSeats, RefundPayment, ReleaseSeats, ReserveSeats
from workers.celery_app import app


def _sig(name, *args):
    return app.signature(name, args=args)


def purchase(saga) -> chain:
    sid = saga.id
    reserve = _sig("tickets.reserve_seats", ReserveSeats.build(
        saga_id=sid, user_id=saga.user_id, event_id=saga.event_id, tier_id=saga.tier_id,
        quantity=saga.quantity))
    reserve.link(_sig("orchestration.record_step"))
    charge = _sig("payments.charge", ChargePayment.build(saga_id=sid, payment_token=saga.payment_token))
    charge.link(_sig("orchestration.record_step"))
    confirm = _sig("tickets.confirm_seats", ConfirmSeats.build(saga_id=sid))
    flow = chain(reserve, charge, confirm, _sig("orchestration.record_step"))
    flow.on_error(_sig("orchestration.on_step_failed"))
    return flow


def compensation(saga) -> chain:
    """Undo in reverse: refund (a no-op without a charge), then release the seats."""
    refund = _sig("payments.refund", RefundPayment.build(saga_id=saga.id))
    refund.link(_sig("orchestration.record_step"))
    release = _sig("tickets.release_seats", ReleaseSeats.build(
        saga_id=saga.id, user_id=saga.user_id, tier_id=saga.tier_id))
    flow = chain(refund, release, _sig("orchestration.record_step"))
    flow.on_error(_sig("orchestration.on_step_failed"))
    return flow


def saga_completed(payload: dict):
    """A ``SagaCompleted`` event (built when the saga ended) for the users queue."""
    return _sig("users.saga_completed", payload)


CANVASES = {"purchase": purchase, "compensate": compensation}
