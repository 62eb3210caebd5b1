"""Business rules of the payments domain.

A saga has at most one charge row and one refund row: the (saga, kind) unique key
decides, not a check in Python. The charge row is claimed (``pending``) before the
processor is called, so a refund that arrives first claims it as ``voided`` instead and
no later charge can happen; a refund that finds the charge still ``pending`` records that
it is waiting (a ``requested`` refund row) and waits for it: the charge, once settled, then
reports the saga compensated rather than captured, so the purchase goes no further (no
tickets are issued for a purchase being undone) and the refund returns the money.
The processor is asked once per saga, by the claimer, with the saga id as idempotency key.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from settings import get_settings
from workers.db import transaction
from workers.payments import simulator
from workers.payments.errors import (
    ChargeInFlight, InsufficientFunds, PaymentDeclined, PaymentProcessingError, SagaCompensated,
)
from workers.payments.models import Payment
from workers.steps import utcnow


#: the ``INSERT … ON CONFLICT`` of each database the app runs on
DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _find(s, saga_id, kind, *, lock=False) -> Payment | None:
    q = select(Payment).where(Payment.saga_id == saga_id, Payment.kind == kind)
    return s.scalar(q.with_for_update() if lock else q)


def _claim(saga_id, kind, status, amount_cents, currency) -> Payment | None:
    """Insert the saga's ``kind`` row in one statement: the row as stored, or ``None`` if
    the saga already has one."""
    with transaction() as s:
        return s.scalar(
            DIALECT_INSERT[s.bind.dialect.name](Payment).values(
                saga_id=saga_id, kind=kind, status=status, amount_cents=amount_cents,
                currency=currency, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["saga_id", "kind"])
            .returning(Payment))


def _captured(p: Payment, refunding: bool = False) -> dict:
    if refunding:
        raise SagaCompensated(f"saga {p.saga_id} is being compensated: its charge is refunded")
    if p.status == "voided":
        raise SagaCompensated(f"saga {p.saga_id} was compensated before it was charged")
    if p.status == "declined":
        error = InsufficientFunds if p.decline_code == "insufficient_funds" else PaymentDeclined
        raise error(p.decline_code)
    return {"saga_id": p.saga_id, "payment_id": p.id, "amount_cents": p.amount_cents,
            "currency": p.currency}


def charge(*, saga_id, payment_token: str, amount_cents: int, currency: str) -> dict:
    """Capture the amount once; a repeat returns (or re-raises) the first outcome.

    Only the delivery that claimed the charge asks the processor. Another delivery finding
    the claim ``pending`` waits (``ChargeInFlight`` is retried) until it is settled, unless
    the claim is older than the lease: its claimer died, so this delivery takes the claim
    over and settles it from the processor's record of the saga, asking the processor
    only if it has none. The processor's idempotency key (the saga id) makes even that
    request capture nothing twice.
    """
    row = _claim(saga_id, "charge", "pending", amount_cents, currency)
    if row is None:
        with transaction() as s:
            row = _find(s, saga_id, "charge")
        if row.status != "pending":
            with transaction() as s:
                refunding = _refund_requested(s, row)
            return _captured(row, refunding)
        _take_over(row)
        recorded = simulator.lookup(saga_id)
        if recorded is not None:
            return _settle(row, recorded["outcome"], recorded["decline_code"])
    status, code = "succeeded", None
    try:
        settings = get_settings()
        simulator.charge(saga_id, payment_token, amount_cents, currency,
                         latency_ms=settings.payment_latency_ms,
                         slow_tokens=settings.fault_injection)
    except PaymentDeclined as exc:
        status, code = "declined", str(exc)  # a decline's one argument is its code
    except PaymentProcessingError:
        # Nothing was captured: give the claim up, so that a retry claims it afresh and a
        # refund arriving meanwhile can void it instead of waiting for a charge that
        # may never come.
        with transaction() as s:
            s.execute(delete(Payment).where(Payment.id == row.id, Payment.status == "pending"))
        raise
    return _settle(row, status, code)


def _take_over(row: Payment) -> None:
    """Take a stale ``pending`` claim over (one taker wins); else wait for its claimer."""
    lease = timedelta(seconds=get_settings().payment_claim_lease_seconds)
    now = utcnow()
    if row.created_at > now - lease:
        raise ChargeInFlight(f"charge of saga {row.saga_id} is in flight")
    with transaction() as s:
        taken = s.execute(update(Payment).where(
            Payment.id == row.id, Payment.status == "pending",
            Payment.created_at == row.created_at).values(created_at=now)).rowcount
    if not taken:
        raise ChargeInFlight(f"charge of saga {row.saga_id} is being taken over")


def _settle(row: Payment, status: str, code: str | None) -> dict:
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == row.id, Payment.status == "pending")
                  .values(status=status, decline_code=code))
        row = _find(s, row.saga_id, "charge")  # what was recorded, whoever settled it
        refunding = _refund_requested(s, row)
    return _captured(row, refunding)  # outside the transaction: it must not roll back a record


def _refund_requested(s, charged: Payment) -> bool:
    """A refund waits for (or has returned) this successful charge: the saga is being undone."""
    return charged.status == "succeeded" and _find(s, charged.saga_id, "refund") is not None


def refund(*, saga_id) -> dict:
    """Refund a saga's successful charge once; with no charge, make sure none can follow."""
    _claim(saga_id, "charge", "voided", 0, "XXX")  # with no charge yet, none can follow
    with transaction() as s:
        charged = _find(s, saga_id, "charge", lock=True)
        if charged.status == "succeeded":
            _settle_refund(s, charged)
        elif charged.status != "pending":  # declined, voided: nothing to give back, so a
            # refund that waited for it (``requested``, the only kind there can be) is dropped
            s.execute(delete(Payment).where(Payment.saga_id == saga_id, Payment.kind == "refund"))
        elif _find(s, saga_id, "refund") is None:
            s.add(Payment(saga_id=saga_id, kind="refund", status="requested", amount_cents=0,
                          currency=charged.currency, created_at=utcnow()))
    if charged.status == "pending":  # raised after the commit, which keeps the request
        raise ChargeInFlight(f"charge of saga {saga_id} is still in flight")
    with transaction() as s:
        done = _find(s, saga_id, "refund")
    return {"saga_id": saga_id, "refunded_cents": done.amount_cents if done else 0}


def _settle_refund(s, charged: Payment) -> None:
    """Refund a successful charge in full, once (the charge row is locked)."""
    done = _find(s, charged.saga_id, "refund")
    if done is None:
        s.add(Payment(saga_id=charged.saga_id, kind="refund", status="succeeded",
                      amount_cents=charged.amount_cents, currency=charged.currency,
                      created_at=utcnow()))
    elif done.status == "requested":
        done.status, done.amount_cents = "succeeded", charged.amount_cents


def payment_of_saga(saga_id) -> dict:
    """What the buyer was charged and refunded for a saga."""
    with transaction() as s:
        charged = _find(s, saga_id, "charge")
        refunded = _find(s, saga_id, "refund")
    charged_cents = charged.amount_cents if charged and charged.status == "succeeded" else 0
    refunded_cents = refunded.amount_cents if refunded else 0
    if refunded_cents:
        status = "refunded"
    elif charged is None or charged.status == "voided":
        status = "none"
    else:
        status = {"succeeded": "charged"}.get(charged.status, charged.status)
    return {"status": status, "charged_cents": charged_cents, "refunded_cents": refunded_cents}
