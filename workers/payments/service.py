"""Business rules of the payments domain.

A saga is charged at most once and refunded at most once: the (saga, kind) unique key
in the database decides, not a check in Python, so duplicate deliveries racing each
other still record one charge.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from settings import get_settings
from workers.db import transaction
from workers.payments import simulator
from workers.payments.errors import InsufficientFunds, PaymentDeclined
from workers.payments.models import Payment
from workers.steps import utcnow


def _find(s, saga_id, kind) -> Payment | None:
    return s.scalar(select(Payment).where(Payment.saga_id == saga_id, Payment.kind == kind))


def _outcome(p: Payment) -> dict:
    if p.status == "declined":
        error = InsufficientFunds if p.decline_code == "insufficient_funds" else PaymentDeclined
        raise error(p.decline_code)
    return {"saga_id": p.saga_id, "payment_id": p.id, "amount_cents": p.amount_cents,
            "currency": p.currency}


def charge(*, saga_id, payment_token: str, amount_cents: int, currency: str) -> dict:
    """Capture the amount once; a repeat returns (or re-raises) the first outcome."""
    with transaction() as s:
        existing = _find(s, saga_id, "charge")
    if existing is not None:
        return _outcome(existing)
    status, code = "succeeded", None
    try:
        simulator.authorize(payment_token, amount_cents,
                            latency_ms=get_settings().payment_latency_ms)
    except PaymentDeclined as exc:
        status, code = "declined", str(exc.args[0]) if exc.args else "declined"
    payment = _record(saga_id, "charge", status, code, amount_cents, currency)
    return _outcome(payment)


def _record(saga_id, kind, status, code, amount_cents, currency) -> Payment:
    try:
        with transaction() as s:
            p = Payment(saga_id=saga_id, kind=kind, status=status, decline_code=code,
                        amount_cents=amount_cents, currency=currency, created_at=utcnow())
            s.add(p)
        return p
    except IntegrityError:
        with transaction() as s:
            return _find(s, saga_id, kind)


def refund(*, saga_id) -> dict:
    """Refund a saga's successful charge once; with no charge there is nothing to refund."""
    with transaction() as s:
        charged = _find(s, saga_id, "charge")
        done = _find(s, saga_id, "refund")
    if done is not None:
        return {"saga_id": saga_id, "refunded_cents": done.amount_cents}
    if charged is None or charged.status != "succeeded":
        return {"saga_id": saga_id, "refunded_cents": 0}
    p = _record(saga_id, "refund", "succeeded", None, charged.amount_cents, charged.currency)
    return {"saga_id": saga_id, "refunded_cents": p.amount_cents}


def payment_of_saga(saga_id) -> dict:
    """What the buyer was charged and refunded for a saga."""
    with transaction() as s:
        charged = _find(s, saga_id, "charge")
        refunded = _find(s, saga_id, "refund")
    charged_cents = charged.amount_cents if charged and charged.status == "succeeded" else 0
    refunded_cents = refunded.amount_cents if refunded else 0
    if refunded_cents:
        status = "refunded"
    elif charged is None:
        status = "none"
    else:
        status = "charged" if charged.status == "succeeded" else "declined"
    return {"status": status, "charged_cents": charged_cents, "refunded_cents": refunded_cents}
