"""A purchase saga as it is first recorded: the saga, pending, and its purchase message
(the outbox row its canvas is published from)."""
from __future__ import annotations

import uuid

from sqlalchemy import bindparam, insert, select

from contracts.statuses import OutboxKind, SagaStatus
from workers import telemetry
from workers.db import engine
from workers.orchestration.models import OutboxMessage, Saga
from workers.steps import utcnow
from workers.upserts import insert_on_conflict

_NEW_SAGA = ("id", "user_id", "status", "event_id", "tier_id", "quantity", "payment_token",
             "request_hash", "idempotency_key", "created_at", "updated_at", "traceparent")
_SAGAS, _OUTBOX = Saga.__table__, OutboxMessage.__table__
_INSERT_SAGA = insert(_SAGAS).values({c: bindparam(c) for c in _NEW_SAGA})
_INSERT_MESSAGE = insert(_OUTBOX).values(
    {c: bindparam(c) for c in ("id", "saga_id", "kind", "created_at")})
#: on PostgreSQL, the saga and its purchase message in one statement; a saga whose
#: idempotency key the buyer has used already is not inserted, nor is its message
_INSERT_BOTH = insert(_OUTBOX).from_select(
    ["id", "saga_id", "kind", "created_at"],
    select(bindparam("message_id", type_=_OUTBOX.c.id.type),
           insert_on_conflict(_SAGAS, _NEW_SAGA, ("user_id", "idempotency_key"),
                              returning=("id",)).cte("saga").c.id,
           bindparam("message_kind", type_=_OUTBOX.c.kind.type),
           bindparam("message_created_at", type_=_OUTBOX.c.created_at.type)))


def inserts_once() -> bool:
    """Whether ``insert_purchase`` answers a used idempotency key itself (on PostgreSQL:
    one statement, which then inserts nothing) rather than raising ``IntegrityError``."""
    return engine().dialect.name == "postgresql"


def insert_purchase(s, fields: dict) -> tuple[Saga, OutboxMessage] | None:
    """Insert a pending saga and its purchase message (a session, or a connection in
    autocommit): the saga and the message as objects for the publish; ``None`` when the
    buyer's idempotency key has a saga already (see ``inserts_once``)."""
    now = utcnow()
    saga = Saga(id=uuid.uuid4(), status=SagaStatus.PENDING, created_at=now, updated_at=now,
                traceparent=telemetry.current_traceparent(), **fields)
    message = OutboxMessage(id=uuid.uuid4(), saga_id=saga.id, kind=OutboxKind.PURCHASE,
                            created_at=now)
    row = {c: getattr(saga, c) for c in _NEW_SAGA}
    if inserts_once():
        inserted = s.execute(_INSERT_BOTH, {**row, "message_id": message.id,
                                            "message_kind": message.kind,
                                            "message_created_at": now}).rowcount
        if not inserted:
            return None
    else:
        s.execute(_INSERT_SAGA, row)
        s.execute(_INSERT_MESSAGE, {c: getattr(message, c) for c in ("id", "saga_id", "kind",
                                                                      "created_at")})
    return saga, message
