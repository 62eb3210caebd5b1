"""Business rules of the orchestration domain: the saga record and its outbox."""
from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from contracts import CancelEventSagas
from workers import outbox, telemetry
from workers.db import execute_alone, transaction
from workers.orchestration import caps
from workers.orchestration.completion import finished, signature_of
from workers.orchestration.errors import (
    NOTHING_RESERVED, IdempotencyConflict, SagaAlreadyConfirmed, SagaFinished, SagaNotFound,
    reason_for,
)
from workers.orchestration.models import RANK, TERMINAL, OutboxMessage, Saga, SagaStep
from workers.steps import utcnow

log = logging.getLogger(__name__)

SUPERSEDED = ("compensating", "canceled", "failed")
STEP_ORDER = {"reserve": 0, "charge": 1, "confirm": 2, "refund": 3, "release": 4}
#: what each outcome event means for the saga
OUTCOME_STATUS = {"SeatsReserved": "reserved", "PaymentCaptured": "paid",
                  "SeatsConfirmed": "confirmed", "PaymentRefunded": None, "SeatsReleased": "canceled"}


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def start_purchase(*, user_id, event_id, tier_id, quantity, payment_token,
                   idempotency_key=None) -> tuple[uuid.UUID, bool]:
    """Record a purchase saga and its start message in one transaction, then publish.

    Returns the saga id and whether it was created now (``False``: an earlier request
    with the same idempotency key and body).
    """
    body = {"event_id": event_id, "tier_id": tier_id, "quantity": quantity,
            "payment_token": payment_token}
    digest = request_hash(body)
    try:
        with transaction() as s:
            if idempotency_key is not None:
                first = s.scalar(select(Saga).where(Saga.user_id == user_id,
                                                    Saga.idempotency_key == idempotency_key))
                if first is not None:
                    return _repeated(first, idempotency_key, digest)
            caps.check(s, user_id, quantity)
            now = utcnow()
            saga = Saga(user_id=user_id, event_id=event_id, tier_id=tier_id,  # status: the default, pending
                        quantity=quantity, payment_token=payment_token, request_hash=digest,
                        idempotency_key=idempotency_key, created_at=now, updated_at=now,
                        traceparent=telemetry.current_traceparent())
            s.add(saga)
            s.flush()
            message = OutboxMessage(saga_id=saga.id, kind="purchase", created_at=now)
            s.add(message)
    except IntegrityError:
        if idempotency_key is None:
            raise
        with transaction() as s:
            first = s.scalar(select(Saga).where(Saga.user_id == user_id,
                                                Saga.idempotency_key == idempotency_key))
        return _repeated(first, idempotency_key, digest)
    publish(message, saga, retry=False)
    return saga.id, True


def _repeated(first: Saga, idempotency_key: str, digest: str) -> tuple[uuid.UUID, bool]:
    if first.request_hash != digest:
        raise IdempotencyConflict(idempotency_key)
    return first.id, False


#: after a failed publish, this process leaves publishing to the relay for a while, so
#: that requests are not held up by connection attempts to a broker that is down
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def publish(message: OutboxMessage, saga: Saga | None, *, retry: bool = True) -> bool:
    """Send an outbox message's canvas (or event: ``saga`` None) and mark it sent; on
    failure the relay resends."""
    global _broker_down_until
    if not retry and time.monotonic() < _broker_down_until:
        return False
    try:
        with telemetry.continuing(saga.traceparent if saga is not None else None):
            signature_of(message, saga).apply_async(retry=retry)
    except Exception:  # noqa: BLE001  the outbox keeps it; the relay will try again
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        log.warning("outbox %s (%s of saga %s) not published yet", message.id, message.kind,
                    message.saga_id, exc_info=True)
        return False
    execute_alone(update(OutboxMessage).where(OutboxMessage.id == message.id)
                  .values(sent_at=utcnow()))
    return True


def relay_outbox(*, older_than_seconds: float = 2.0, batch: int = 500) -> int:
    """Publish outbox messages that were not sent right after their commit.

    The rows are read without a lock and published outside any transaction, then marked
    sent: a relay racing another may send a message twice, which idempotent steps absorb.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with transaction() as s:
        due = s.execute(
            select(OutboxMessage, Saga).join(Saga, Saga.id == OutboxMessage.saga_id)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < cutoff)
            .order_by(OutboxMessage.created_at).limit(batch)
        ).all()
    sent, done = 0, []
    try:
        for message, saga in due:
            # a purchase overtaken by its compensation need not run (it would be refused)
            if not (message.kind == "purchase" and saga.status in SUPERSEDED):
                with telemetry.continuing(saga.traceparent if saga is not None else None):
                    signature_of(message, saga).apply_async()
                sent += 1
            done.append(message.id)
    finally:
        if done:
            with transaction() as s:
                s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(done))
                          .values(sent_at=utcnow()))
    return sent


def _upsert_step(s, saga_id, *, name, status, attempts, started_at, finished_at, error=None):
    values = dict(saga_id=saga_id, name=name, position=STEP_ORDER[name], status=status,
                  attempts=attempts, started_at=started_at, finished_at=finished_at, error=error)
    dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SagaStep).values(**values)
    s.execute(stmt.on_conflict_do_update(
        index_elements=["saga_id", "name"],
        set_={k: v for k, v in values.items() if k not in ("saga_id", "name")}))


def record_outcome(event: dict) -> None:
    """Write a step's outcome event into the saga record; publish its ``SagaCompleted``
    after the commit if the outcome ended the saga."""
    completed = _record_outcome(event)
    if completed is not None:
        publish(completed, None)


def _record_outcome(event: dict) -> OutboxMessage | None:
    """The step, and the saga's status moved forward (never back) with its progress in
    one UPDATE; the saga's ``SagaCompleted`` if that UPDATE ended it."""
    step = event["step"]
    saga_id = event["saga_id"]
    status = OUTCOME_STATUS[event["contract"]]
    values = {"updated_at": utcnow()}  # the watchdog's measure of life
    if event.get("amount_cents") is not None:  # SeatsReserved, SeatsConfirmed
        values.update(amount_cents=event["amount_cents"], currency=event["currency"])
    if status is not None:
        before = (["compensating"] if status == "canceled"
                  else [k for k, rank in RANK.items() if rank < RANK[status]])
        values["status"] = case((Saga.status.in_(before), status), else_=Saga.status)
    saga = (update(Saga).where(Saga.id == saga_id, Saga.status.notin_(TERMINAL))
            .values(**values))
    with transaction() as s:
        # the step row first, then the saga row, always in this order: two deliveries of
        # one step recording at once wait for each other instead of deadlocking
        _upsert_step(s, saga_id, name=step["name"], status="succeeded",
                     attempts=step["attempts"], started_at=step["started_at"],
                     finished_at=step["finished_at"])
        row = s.execute(saga.returning(Saga.status, Saga.reason)).first()
        if row is not None and row.status in TERMINAL:  # it was not terminal before
            return finished(s, saga_id, row.status, row.reason,
                            ticket_ids=event.get("ticket_ids") or ())
    return None


def handle_step_failure(failure: dict) -> None:
    """A step failed for good: cancel, compensate in reverse, or give up as ``failed``."""
    with transaction() as s:
        saga = s.get(Saga, failure["saga_id"], with_for_update=True)
        if saga is None:
            log.error("step %s failed for unknown saga %s", failure["step"], failure["saga_id"])
            return
        if saga.status in TERMINAL:
            return
        message = _after_step_failure(s, saga, failure)
    if message is not None:
        publish(message, saga)


def _after_step_failure(s, saga: Saga, failure: dict) -> OutboxMessage | None:
    step, error_type = failure["step"], failure["error_type"]
    _upsert_step(s, saga.id, name=step, status="failed", attempts=failure["attempts"],
                 started_at=None, finished_at=failure["failed_at"],
                 error=f"{error_type}: {failure['message']}")
    saga.updated_at = utcnow()
    if step in ("refund", "release"):
        saga.status, saga.error = "failed", f"{step} failed: {error_type}: {failure['message']}"
        log.error("saga %s needs an operator: %s", saga.id, saga.error)
        return finished(s, saga, "failed", saga.reason)
    if step == "reserve" and error_type in NOTHING_RESERVED and saga.status == "pending":
        saga.status, saga.reason = "canceled", reason_for(error_type)
        return finished(s, saga, "canceled", saga.reason)
    return _begin_compensation(s, saga, reason_for(error_type))


def handle_hold_expired(saga_id) -> None:
    """The saga's seats went back on sale: cancel it, refunding any charge."""
    with transaction() as s:
        saga = s.get(Saga, saga_id, with_for_update=True)
        if saga is None or saga.status in TERMINAL:
            return
        message = _begin_compensation(s, saga, "hold_expired")
    if message is not None:
        publish(message, saga)


def _begin_compensation(s, saga: Saga, reason: str) -> OutboxMessage | None:
    """Mark a saga compensating and queue its compensation (once); the outbox message."""
    if saga.status == "compensating":
        return None
    saga.status, saga.reason, saga.updated_at = "compensating", reason, utcnow()
    message = OutboxMessage(saga_id=saga.id, kind="compensate", created_at=saga.updated_at)
    s.add(message)
    return message


def _redrive(saga_id, *, compensate: bool, reason: str | None = None) -> str:
    with transaction() as s:
        saga = s.get(Saga, saga_id, with_for_update=True)
        if saga is None:
            raise SagaNotFound(str(saga_id))
        if saga.status in ("confirmed", "canceled"):
            raise SagaFinished(f"saga {saga_id} is already {saga.status}")
        if compensate or saga.status in ("failed", "compensating"):
            kind = "compensate"
            saga.status, saga.error = "compensating", None
            saga.reason = saga.reason or reason or "operator_canceled"
        else:
            kind = "purchase"
        saga.updated_at = utcnow()
        message = OutboxMessage(saga_id=saga.id, kind=kind, created_at=saga.updated_at)
        s.add(message)
    publish(message, saga)
    return kind


def retry(saga_id) -> str:
    """Re-drive a saga from where it stands: an unfinished purchase is re-sent (every step
    is idempotent), a failed or unfinished compensation is run again. Returns which."""
    return _redrive(saga_id, compensate=False)


def compensate(saga_id, reason: str = "operator_canceled") -> str:
    """Cancel an unfinished or failed saga: refund if charged, release if reserved."""
    return _redrive(saga_id, compensate=True, reason=reason)


def cancel_by_buyer(saga_id) -> str:
    """The buyer calls off a purchase that is not confirmed: it is compensated (refund if
    charged, release if held) and ends ``canceled`` as ``buyer_canceled``. A saga that is
    already being undone, or was, is left as it is (a second cancel changes nothing).
    Returns the saga's status now; ``SagaAlreadyConfirmed`` once it is confirmed."""
    with transaction() as s:
        saga = s.get(Saga, saga_id, with_for_update=True)
        if saga is None:
            raise SagaNotFound(str(saga_id))
        if saga.status == "confirmed":
            raise SagaAlreadyConfirmed(f"saga {saga_id} is confirmed: it can no longer be canceled")
        if saga.status in SUPERSEDED:
            return saga.status
        message = _begin_compensation(s, saga, "buyer_canceled")
    publish(message, saga)
    return "compensating"


CANCEL_BATCH = 50


def cancel_sagas_of_event(event_id, *, after=None, batch: int = CANCEL_BATCH):
    """Compensate the next batch of an event's sagas that are not yet canceled.

    Confirmed purchases are refunded and their tickets voided through the same
    compensation as a failed purchase. A full batch owes the command for the next one
    (through the task outbox, in the same transaction). Returns the last saga id of the
    batch, or ``None`` when there are no more.
    """
    with transaction() as s:
        q = (select(Saga).where(Saga.event_id == event_id,
                                Saga.status.notin_(("compensating", "canceled", "failed")))
             .order_by(Saga.id).limit(batch).with_for_update())
        if after is not None:
            q = q.where(Saga.id > after)
        sagas = list(s.scalars(q))
        sent = [(_begin_compensation(s, saga, "event_canceled"), saga) for saga in sagas]
        if len(sagas) == batch:
            outbox.add(s, "orchestration.cancel_event_sagas",
                       CancelEventSagas.build(event_id=event_id, after=sagas[-1].id))
    for message, saga in sent:
        publish(message, saga)
    return sagas[-1].id if len(sagas) == batch else None
