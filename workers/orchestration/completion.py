"""A saga reached a terminal status: the ``SagaCompleted`` it owes, through the outbox.

Every place that makes a saga ``confirmed``, ``canceled`` or ``failed`` calls
``finished`` in the same transaction, so the event is published exactly when the
transition commits (once per transition; a saga that fails and is later compensated to
``canceled``, or is confirmed and then canceled with its event, makes two).
"""
from __future__ import annotations

import uuid

from sqlalchemy import bindparam, insert

from contracts import SagaCompleted
from contracts.statuses import OutboxKind
from workers.orchestration import canvas
from workers.orchestration.models import OutboxMessage, Saga
from workers.steps import utcnow


def finished(s, saga_or_id, status: str, reason: str | None = None, *,
             ticket_ids=()) -> OutboxMessage:
    """The saga (a ``Saga``, a row with its ``id``, ``user_id``, ``amount_cents`` and
    ``currency``, or its id) just reached ``status`` in this transaction: write its
    ``SagaCompleted`` to the outbox (the caller publishes the returned message after the
    commit)."""
    saga = saga_or_id if hasattr(saga_or_id, "user_id") else s.get(Saga, saga_or_id)
    now = utcnow()
    payload = SagaCompleted.build(
        saga_id=saga.id, user_id=saga.user_id, status=status, reason=reason,
        amount_cents=saga.amount_cents, currency=saga.currency, ticket_ids=list(ticket_ids),
        completed_at=now)
    message = OutboxMessage(id=uuid.uuid4(), saga_id=saga.id, kind=OutboxKind.COMPLETED,
                            payload=payload, created_at=now)
    s.execute(_INSERT, dict(id=message.id, saga_id=message.saga_id, kind=message.kind,
                            payload=payload, created_at=now))
    return message


_INSERT = insert(OutboxMessage.__table__).values(
    {c: bindparam(c) for c in ("id", "saga_id", "kind", "payload", "created_at")})


def signature_of(message: OutboxMessage, saga: Saga | None):
    """What an outbox message sends: a saga's canvas, or the event frozen in its payload."""
    if message.kind == OutboxKind.COMPLETED:
        return canvas.saga_completed(message.payload)
    return canvas.CANVASES[message.kind](saga)
