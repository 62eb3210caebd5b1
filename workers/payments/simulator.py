"""A payment processor simulator speaking Stripe's test tokens.

``tok_visa`` succeeds; ``tok_chargeDeclined`` is declined;
``tok_chargeDeclinedInsufficientFunds`` is declined for insufficient funds;
``tok_processingError`` fails transiently, every time. Any other token is declined.
With fault injection on (tests only), ``tok_visa_delay_<ms>`` is ``tok_visa`` answering
after ``<ms>`` milliseconds.

``charge`` is the processor's API: it takes an idempotency key (the saga id), as Stripe's
``Idempotency-Key`` header, and keeps a ledger per key (``payments_processor_ledger``, a
table that stands for the processor's own books, shared by every worker process and
outliving them). A repeat of a key answers the first outcome and captures nothing again;
a transient failure records nothing, so a retry is a fresh attempt. The ledger's ``calls``
counts the requests that reached the processor per key: what tests and chaos runs check.
"""
import time

from sqlalchemy import select

from contracts.statuses import ChargeOutcome
from workers.db import autocommit, transaction
from workers.payments.errors import (
    InsufficientFunds, PaymentDeclined, PaymentProcessingError, UnknownPaymentToken,
)
from workers.payments.models import ProcessorCharge
from workers.steps import utcnow
from workers.upserts import insert_on_conflict

OUTCOMES = {
    "tok_visa": None,
    "tok_mastercard": None,
    "tok_chargeDeclined": PaymentDeclined("card_declined"),
    "tok_chargeDeclinedInsufficientFunds": InsufficientFunds("insufficient_funds"),
    "tok_processingError": PaymentProcessingError("processing_error"),
}


SLOW_TOKEN_PREFIX = "tok_visa_delay_"


def authorize(token: str, amount_cents: int, *, latency_ms: int = 0,
              slow_tokens: bool = False) -> None:
    """Return if the processor captures ``amount_cents`` on ``token``, else raise."""
    if slow_tokens and token.startswith(SLOW_TOKEN_PREFIX):
        latency_ms, token = int(token[len(SLOW_TOKEN_PREFIX):] or 0), "tok_visa"
    if latency_ms:
        time.sleep(latency_ms / 1000)
    if token not in OUTCOMES:
        raise UnknownPaymentToken(f"unknown payment token {token[:12]!r}")
    failure = OUTCOMES[token]
    if failure is not None:
        raise type(failure)(*failure.args)


def charge(idempotency_key, token: str, amount_cents: int, currency: str, *,
           latency_ms: int = 0, slow_tokens: bool = False) -> None:
    """Capture once per key: return if captured, raise the decline; a repeat answers the first
    (the ledger keeps the first outcome and counts the call)."""
    try:
        authorize(token, amount_cents, latency_ms=latency_ms, slow_tokens=slow_tokens)
        outcome, code = ChargeOutcome.SUCCEEDED, None
    except PaymentDeclined as exc:
        outcome, code = ChargeOutcome.DECLINED, str(exc.args[0]) if exc.args else "declined"
    _answer(_record(str(idempotency_key), token, amount_cents, currency, outcome, code, calls=1))


def lookup(idempotency_key) -> dict | None:
    """The processor's record of a key (retrieving it is not a charge request), or ``None``."""
    with transaction() as s:
        row = s.get(ProcessorCharge, str(idempotency_key))
        return None if row is None else _as_dict(row)


def ledger(idempotency_keys=None) -> list[dict]:
    """The processor's records, all or of the given keys."""
    q = select(ProcessorCharge)
    if idempotency_keys is not None:
        q = q.where(ProcessorCharge.idempotency_key.in_([str(k) for k in idempotency_keys]))
    with transaction() as s:
        return [_as_dict(r) for r in s.scalars(q)]


def _record(key, token, amount_cents, currency, outcome, code, *, calls) -> dict:
    """Insert the key's first outcome, or count one more call of it; the first outcome.
    One statement, committed by itself."""
    with autocommit() as conn:
        row = conn.execute(_RECORD, dict(
            idempotency_key=key, token=token[:64], amount_cents=amount_cents, currency=currency,
            outcome=outcome, decline_code=code, calls=calls, created_at=utcnow())).one()
    return {"outcome": row.outcome, "decline_code": row.decline_code}


_LEDGER = ProcessorCharge.__table__
#: the processor's first outcome for a key, or one more call of it
_RECORD = insert_on_conflict(
    _LEDGER, ("idempotency_key", "token", "amount_cents", "currency", "outcome", "decline_code",
              "calls", "created_at"), ("idempotency_key",),
    set_={"calls": f'"{_LEDGER.name}"."calls" + 1'}, returning=("outcome", "decline_code"))


def _answer(recorded: dict) -> None:
    if recorded["outcome"] == ChargeOutcome.SUCCEEDED:
        return
    code = recorded["decline_code"]
    raise (InsufficientFunds if code == "insufficient_funds" else PaymentDeclined)(code)


def _as_dict(row: ProcessorCharge) -> dict:
    return {"idempotency_key": row.idempotency_key, "outcome": row.outcome,
            "decline_code": row.decline_code, "amount_cents": row.amount_cents,
            "currency": row.currency, "calls": row.calls}
