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

import uuid
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from contracts.statuses import PaymentKind, PaymentStatus, SagaPayment
from workers import runtime
from workers.db import autocommit, step_transaction, transaction
from workers.payments import simulator
from workers.payments.errors import (
    ChargeInFlight, InsufficientFunds, PaymentDeclined, PaymentProcessingError, SagaCompensated,
)
from workers.payments.models import Payment
from workers.steps import utcnow
from workers.upserts import insert_on_conflict

# Core statements in the hot path, built once and executed with parameters
_PAYMENTS = Payment.__table__
_SETTLE = (update(_PAYMENTS).where(_PAYMENTS.c.id == bindparam("claim_id"),
                                   _PAYMENTS.c.status == PaymentStatus.PENDING)
           .values(status=bindparam("settled"), decline_code=bindparam("code")))
_OF_SAGA = select(_PAYMENTS).where(_PAYMENTS.c.saga_id == bindparam("saga_id"))



def _find(s, saga_id, kind, *, lock=False) -> Payment | None:
    q = select(Payment).where(Payment.saga_id == saga_id, Payment.kind == kind)
    return s.scalar(q.with_for_update() if lock else q)


def _claim(saga_id, kind, status, amount_cents, currency):
    """Insert the saga's ``kind`` row in one statement, committed at once (a claim is seen
    by every other delivery before the processor is asked): the row as stored, or ``None``
    if the saga already has one."""
    with autocommit() as conn:
        return conn.execute(_CLAIM, dict(
            id=uuid.uuid4(), saga_id=saga_id, kind=kind, status=status,
            amount_cents=amount_cents, currency=currency, created_at=utcnow())).first()


_CLAIM = insert_on_conflict(
    _PAYMENTS, ("id", "saga_id", "kind", "status", "amount_cents", "currency", "created_at"),
    ("saga_id", "kind"), returning=tuple(_PAYMENTS.c.keys()))


def _captured(p: Payment, refunding: bool = False) -> dict:
    if refunding:
        raise SagaCompensated(f"saga {p.saga_id} is being compensated: its charge is refunded")
    if p.status == PaymentStatus.VOIDED:
        raise SagaCompensated(f"saga {p.saga_id} was compensated before it was charged")
    if p.status == PaymentStatus.DECLINED:
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
    row = _claim(saga_id, PaymentKind.CHARGE, PaymentStatus.PENDING, amount_cents, currency)
    if row is None:
        with transaction() as s:
            row, refunding = _charge_and_refund(s, saga_id)
        if row.status != PaymentStatus.PENDING:
            return _captured(row, refunding)
        _take_over(row)
        recorded = simulator.lookup(saga_id)
        if recorded is not None:
            return _settle(row, recorded["outcome"], recorded["decline_code"])
    return _ask_processor(row, payment_token)


def _ask_processor(row, payment_token: str) -> dict:
    """Ask the processor for the claimed charge (keyed by the saga id) and settle the claim
    with its answer."""
    status, code = PaymentStatus.SUCCEEDED, None
    try:
        settings = runtime.settings()
        simulator.charge(row.saga_id, payment_token, row.amount_cents, row.currency,
                         latency_ms=settings.payment_latency_ms,
                         slow_tokens=settings.fault_injection)
    except PaymentDeclined as exc:
        status, code = PaymentStatus.DECLINED, str(exc)  # a decline's one argument is its code
    except PaymentProcessingError:
        # Nothing was captured: give the claim up, so that a retry claims it afresh and a
        # refund arriving meanwhile can void it instead of waiting for a charge that
        # may never come.
        with transaction() as s:
            s.execute(delete(Payment).where(Payment.id == row.id,
                                            Payment.status == PaymentStatus.PENDING))
        raise
    return _settle(row, status, code)


def _take_over(row: Payment) -> None:
    """Take a stale ``pending`` claim over (one taker wins); else wait for its claimer."""
    lease = timedelta(seconds=runtime.settings().payment_claim_lease_seconds)
    now = utcnow()
    if row.created_at > now - lease:
        raise ChargeInFlight(f"charge of saga {row.saga_id} is in flight")
    with transaction() as s:
        taken = s.execute(update(Payment).where(
            Payment.id == row.id, Payment.status == PaymentStatus.PENDING,
            Payment.created_at == row.created_at).values(created_at=now)).rowcount
    if not taken:
        raise ChargeInFlight(f"charge of saga {row.saga_id} is being taken over")


def _settle(row, status: str, code: str | None) -> dict:
    """Settle the claim (the step's own transaction, in which its outcome is recorded)."""
    with step_transaction() as s:
        s.execute(_SETTLE, {"claim_id": row.id, "settled": status, "code": code})
        row, refunding = _charge_and_refund(s, row.saga_id)  # whoever settled it
    return _captured(row, refunding)  # outside the block: it must not roll back a record


def _charge_and_refund(s, saga_id):
    """The saga's charge row as recorded, and whether a refund waits for (or has returned)
    it when it succeeded: the saga is being undone. One query."""
    rows = {r.kind: r for r in s.execute(_OF_SAGA, {"saga_id": saga_id})}
    charged = rows[PaymentKind.CHARGE]
    return charged, charged.status == PaymentStatus.SUCCEEDED and PaymentKind.REFUND in rows


def refund(*, saga_id) -> dict:
    """Refund a saga's successful charge once; with no charge, make sure none can follow."""
    # with no charge yet, none can follow
    _claim(saga_id, PaymentKind.CHARGE, PaymentStatus.VOIDED, 0, "XXX")
    with step_transaction() as s:
        charged = _find(s, saga_id, PaymentKind.CHARGE, lock=True)
        if charged.status == PaymentStatus.SUCCEEDED:
            _settle_refund(s, charged)
        elif charged.status != PaymentStatus.PENDING:  # declined, voided: nothing to give
            # back, so a refund that waited for it (``requested``, the only kind there can
            # be) is dropped
            s.execute(delete(Payment).where(Payment.saga_id == saga_id,
                                            Payment.kind == PaymentKind.REFUND))
        elif _find(s, saga_id, PaymentKind.REFUND) is None:
            s.add(Payment(saga_id=saga_id, kind=PaymentKind.REFUND,
                          status=PaymentStatus.REQUESTED, amount_cents=0,
                          currency=charged.currency, created_at=utcnow()))
    if charged.status == PaymentStatus.PENDING:  # raised after the commit, which keeps the request
        raise ChargeInFlight(f"charge of saga {saga_id} is still in flight", charged.created_at)
    with step_transaction() as s:
        done = _find(s, saga_id, PaymentKind.REFUND)
    return {"saga_id": saga_id, "refunded_cents": done.amount_cents if done else 0}


def _settle_refund(s, charged: Payment) -> None:
    """Refund a successful charge in full, once (the charge row is locked)."""
    done = _find(s, charged.saga_id, PaymentKind.REFUND)
    if done is None:
        s.add(Payment(saga_id=charged.saga_id, kind=PaymentKind.REFUND,
                      status=PaymentStatus.SUCCEEDED,
                      amount_cents=charged.amount_cents, currency=charged.currency,
                      created_at=utcnow()))
    elif done.status == PaymentStatus.REQUESTED:
        done.status, done.amount_cents = PaymentStatus.SUCCEEDED, charged.amount_cents


def payment_of_saga(saga_id) -> dict:
    """What the buyer was charged and refunded for a saga."""
    with transaction() as s:
        charged = _find(s, saga_id, PaymentKind.CHARGE)
        refunded = _find(s, saga_id, PaymentKind.REFUND)
    succeeded = charged is not None and charged.status == PaymentStatus.SUCCEEDED
    charged_cents = charged.amount_cents if succeeded else 0
    refunded_cents = refunded.amount_cents if refunded else 0
    if refunded_cents:
        status = SagaPayment.REFUNDED
    elif charged is None or charged.status == PaymentStatus.VOIDED:
        status = SagaPayment.NONE
    else:
        status = {PaymentStatus.SUCCEEDED: SagaPayment.CHARGED}.get(charged.status,
                                                                charged.status)
    return {"status": status, "charged_cents": charged_cents, "refunded_cents": refunded_cents}
