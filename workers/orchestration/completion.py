"""A saga reached a terminal status: the ``SagaCompleted`` it owes, through the outbox.

Every place that makes a saga ``confirmed``, ``canceled`` or ``failed`` calls
``finished`` in the same transaction, so the event exists exactly when the transition
commits (once per transition; a saga that fails and is later compensated to
``canceled``, or is confirmed and then canceled with its event, makes two). It is not
published after that commit: ``relay_completed`` (run by beat with the outbox relay, every
``outbox_relay_seconds``) sends every unsent one in a single ``users.sagas_completed``
message and marks them sent in one statement. If the broker is down they stay unsent and
go with the next relay; a batch sent twice (two relays racing) is harmless, as the users
worker records one notification per saga and status.
"""
from __future__ import annotations

import uuid

from sqlalchemy import bindparam, insert, select

from contracts import SagaCompleted
from contracts.statuses import OutboxKind
from workers.db import transaction
from workers.orchestration import canvas, sent_marks
from workers.orchestration.models import OutboxMessage, Saga
from workers.steps import utcnow


def finished(s, saga_or_id, status: str, reason: str | None = None, *,
             ticket_ids=()) -> OutboxMessage:
    """The saga (a ``Saga``, a row with its ``id``, ``user_id``, ``amount_cents`` and
    ``currency``, or its id) just reached ``status`` in this transaction: write its
    ``SagaCompleted`` to the outbox, for ``relay_completed`` to send."""
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


_OUTBOX = OutboxMessage.__table__
_UNSENT = (select(_OUTBOX.c.id, _OUTBOX.c.payload)
           .where(_OUTBOX.c.kind == OutboxKind.COMPLETED, _OUTBOX.c.sent_at.is_(None))
           .order_by(_OUTBOX.c.created_at))

#: the most ``SagaCompleted`` events one message carries
BATCH = 500


def relay_completed(*, batch: int = BATCH) -> int:
    """Send every unsent ``SagaCompleted`` (up to ``batch``) in one message and mark them
    sent in one statement; how many. No age cutoff: nothing else publishes them. A publish
    that fails leaves them unsent for the next relay."""
    with transaction() as s:
        due = s.execute(_UNSENT.limit(batch)).all()
    if not due:
        return 0
    canvas.sagas_completed([row.payload for row in due]).apply_async()
    sent_marks.write_now(row.id for row in due)
    return len(due)
