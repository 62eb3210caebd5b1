"""Business rules of the orchestration domain: the saga record and its outbox."""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import uuid
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from sqlalchemy.exc import IntegrityError

from contracts import CancelEventSagas
from contracts.statuses import OutboxKind, SagaReason, SagaStatus, StepName, StepStatus
from workers import outbox, telemetry
from workers.db import autocommit, transaction
from workers.orchestration import caps, sent_marks
from workers.orchestration.completion import finished, signature_of
from workers.orchestration.errors import (
    NOTHING_RESERVED, IdempotencyConflict, SagaAlreadyConfirmed, SagaFinished, SagaNotFound,
    reason_for,
)
from workers.orchestration.lost_messages import only_its_message_failed, send_on
from workers.orchestration.models import TERMINAL, OutboxMessage, Saga
from workers.orchestration.new_sagas import insert_purchase, inserts_once
from workers.orchestration.recording import record_outcome_in, upsert_step
from workers.steps import utcnow

log = logging.getLogger(__name__)

SUPERSEDED = SagaStatus.undoing()


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def start_purchase(*, user_id, event_id, tier_id, quantity, payment_token,
                   idempotency_key=None) -> tuple[uuid.UUID, bool]:
    """Record a purchase saga and its start message in one transaction, then publish.

    Returns the saga id and whether it was created now (``False``: an earlier request
    with the same idempotency key and body).
    """
    digest = request_hash({"event_id": event_id, "tier_id": tier_id, "quantity": quantity,
                           "payment_token": payment_token})
    # A cap is checked in one transaction (its lock lasts until the commit); else, on
    # PostgreSQL, the saga and its message are one statement in autocommit, whose insert
    # finds a repeat. Else a repeat is looked for first (answered, not counted by a cap).
    capped = caps.enabled()
    look_first = idempotency_key is not None and (capped or not inserts_once())
    try:
        with transaction() if capped else autocommit() as s:
            if look_first and (first := s.execute(_FIRST, {"user_id": user_id,
                                                           "key": idempotency_key}).first()):
                return _repeated(first, idempotency_key, digest)
            caps.check(s, user_id, quantity)
            inserted = insert_purchase(s, dict(
                user_id=user_id, event_id=event_id, tier_id=tier_id, quantity=quantity,
                payment_token=payment_token, request_hash=digest,
                idempotency_key=idempotency_key))
    except IntegrityError:
        if idempotency_key is None:
            raise
        inserted = None
    if inserted is None:  # the key's saga was inserted by an earlier (or racing) request
        return _repeated(_first(user_id, idempotency_key), idempotency_key, digest)
    saga, message = inserted
    publish(message, saga, retry=False)
    return saga.id, True


_FIRST = (select(Saga.__table__.c.id, Saga.__table__.c.request_hash)
          .where(Saga.__table__.c.user_id == bindparam("user_id"),
                 Saga.__table__.c.idempotency_key == bindparam("key")))


def _first(user_id, idempotency_key: str):
    with transaction() as s:
        return s.execute(_FIRST, {"user_id": user_id, "key": idempotency_key}).first()


def _repeated(first, idempotency_key: str, digest: str) -> tuple[uuid.UUID, bool]:
    if first.request_hash != digest:
        raise IdempotencyConflict(idempotency_key)
    return first.id, False


#: after a failed publish, this process leaves publishing to the relay for a while, so
#: that requests are not held up by connection attempts to a broker that is down
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def publish(message: OutboxMessage, saga: Saga | None, *, retry: bool = True) -> bool:
    """Send an outbox message's canvas and mark it sent; on failure the relay resends. A
    ``SagaCompleted`` is left to the relay, which sends them in batches."""
    global _broker_down_until
    if message.kind == OutboxKind.COMPLETED:
        return False
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
    sent_marks.mark_sent(message.id)
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
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < cutoff,
                   OutboxMessage.kind != OutboxKind.COMPLETED)  # relay_completed's
            .order_by(OutboxMessage.created_at).limit(batch)
        ).all()
    sent, done = 0, []
    try:
        for message, saga in due:
            # a purchase overtaken by its compensation need not run (it would be refused)
            if not (message.kind == OutboxKind.PURCHASE and saga.status in SUPERSEDED):
                with telemetry.continuing(saga.traceparent if saga is not None else None):
                    signature_of(message, saga).apply_async()
                sent += 1
            done.append(message.id)
    finally:
        if done:
            sent_marks.write_now(done)
    return sent


def record_outcome(event: dict) -> None:
    """Write a step's outcome event into the saga record in a transaction of its own (a
    step task writes it inside its own: ``recording``)."""
    with transaction() as s:
        record_outcome_in(s, event)


def handle_step_failure(failure: dict) -> None:
    """A step failed for good: cancel, compensate in reverse, or give up as ``failed``."""
    with transaction() as s:
        then = step_failure_in(s, failure)
    if then is not None:
        then()


def step_failure_in(s, failure: dict):
    """``handle_step_failure`` inside ``s`` (a step refused in its own transaction, or the
    failure's own); what to call once ``s`` committed, or ``None``."""
    saga = s.get(Saga, failure["saga_id"], with_for_update=True, options=[lazyload(Saga.steps)])
    if saga is None:
        log.error("step %s failed for unknown saga %s", failure["step"], failure["saga_id"])
        return None
    if saga.status in TERMINAL:
        return None
    message = _after_step_failure(s, saga, failure)
    return None if message is None else functools.partial(publish, message, saga)


def _after_step_failure(s, saga: Saga, failure: dict) -> OutboxMessage | None:
    step, error_type = failure["step"], failure["error_type"]
    if only_its_message_failed(s, saga, step, error_type):  # the step is done, not failed
        return send_on(s, saga, step)
    upsert_step(s, saga.id, name=step, status=StepStatus.FAILED, attempts=failure["attempts"],
                 started_at=None, finished_at=failure["failed_at"],
                 error=f"{error_type}: {failure['message']}")
    saga.updated_at = utcnow()
    if step in StepName.compensation():
        saga.status = SagaStatus.FAILED
        saga.error = f"{step} failed: {error_type}: {failure['message']}"
        log.error("saga %s needs an operator: %s", saga.id, saga.error)
        return finished(s, saga, SagaStatus.FAILED, saga.reason)
    reason = reason_for(failure)
    if (step == StepName.RESERVE and reason in NOTHING_RESERVED
            and saga.status == SagaStatus.PENDING):
        saga.status, saga.reason = SagaStatus.CANCELED, reason
        return finished(s, saga, SagaStatus.CANCELED, saga.reason)
    return begin_compensation(s, saga, reason)


def handle_hold_expired(saga_id) -> None:
    """The saga's seats went back on sale: cancel it, refunding any charge."""
    with transaction() as s:
        saga = s.get(Saga, saga_id, with_for_update=True)
        if saga is None or saga.status in TERMINAL:
            return
        message = begin_compensation(s, saga, SagaReason.HOLD_EXPIRED)
    if message is not None:
        publish(message, saga)


def begin_compensation(s, saga: Saga, reason: str) -> OutboxMessage | None:
    """Mark a saga compensating and queue its compensation (once); the outbox message."""
    if saga.status == SagaStatus.COMPENSATING:
        return None
    saga.status, saga.reason, saga.updated_at = SagaStatus.COMPENSATING, reason, utcnow()
    message = OutboxMessage(saga_id=saga.id, kind=OutboxKind.COMPENSATE, created_at=saga.updated_at)
    s.add(message)
    return message


def _redrive(saga_id, *, compensate: bool, reason: str | None = None) -> str:
    with transaction() as s:
        saga = s.get(Saga, saga_id, with_for_update=True)
        if saga is None:
            raise SagaNotFound(str(saga_id))
        if saga.status in (SagaStatus.CONFIRMED, SagaStatus.CANCELED):
            raise SagaFinished(f"saga {saga_id} is already {saga.status}")
        if compensate or saga.status in (SagaStatus.FAILED, SagaStatus.COMPENSATING):
            kind = OutboxKind.COMPENSATE
            saga.status, saga.error = SagaStatus.COMPENSATING, None
            saga.reason = saga.reason or reason or SagaReason.OPERATOR_CANCELED
        else:
            kind = OutboxKind.PURCHASE
        saga.updated_at = utcnow()
        message = OutboxMessage(saga_id=saga.id, kind=kind, created_at=saga.updated_at)
        s.add(message)
    publish(message, saga)
    return kind


def retry(saga_id) -> str:
    """Re-drive a saga from where it stands: an unfinished purchase is re-sent (every step
    is idempotent), a failed or unfinished compensation is run again. Returns which."""
    return _redrive(saga_id, compensate=False)


def compensate(saga_id, reason: str = SagaReason.OPERATOR_CANCELED) -> str:
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
        if saga.status == SagaStatus.CONFIRMED:
            raise SagaAlreadyConfirmed(f"saga {saga_id} is confirmed: it can no longer be canceled")
        if saga.status in SUPERSEDED:
            return saga.status
        message = begin_compensation(s, saga, SagaReason.BUYER_CANCELED)
    publish(message, saga)
    return SagaStatus.COMPENSATING


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
                                Saga.status.notin_(SagaStatus.undoing()))
             .order_by(Saga.id).limit(batch).with_for_update())
        if after is not None:
            q = q.where(Saga.id > after)
        sagas = list(s.scalars(q))
        sent = [(begin_compensation(s, saga, SagaReason.EVENT_CANCELED), saga) for saga in sagas]
        if len(sagas) == batch:
            outbox.add(s, "orchestration.cancel_event_sagas",
                       CancelEventSagas.build(event_id=event_id, after=sagas[-1].id))
    for message, saga in sent:
        publish(message, saga)
    return sagas[-1].id if len(sagas) == batch else None
