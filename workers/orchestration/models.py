"""Tables of the orchestration domain: sagas, their steps, and the outbox."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.statuses import OutboxKind, SagaStatus, StepName, StepStatus
from workers.db import Base, UTCDateTime, vocabulary

#: how far along each status is; a status only ever moves to a higher rank
RANK = {status: status.rank for status in SagaStatus}
TERMINAL = SagaStatus.terminal()


class Saga(Base):
    __tablename__ = "orchestration_sagas"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_orchestration_sagas_status_id", "status", "id"),
        Index("ix_orchestration_sagas_status_updated_at", "status", "updated_at"),
        # an event's sagas in batches, in id order (cancelling the event)
        Index("ix_orchestration_sagas_event_id_id", "event_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[SagaStatus] = mapped_column(vocabulary(SagaStatus, "status"),
                                               default=SagaStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    tier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    quantity: Mapped[int] = mapped_column(Integer)
    payment_token: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: last progress; the watchdog re-drives sagas that made none for too long
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: times the watchdog re-drove the current phase (purchase, then compensation)
    redrives: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: W3C trace context of the request that started it: later publishes continue its trace
    traceparent: Mapped[str | None] = mapped_column(String(55), nullable=True)
    steps: Mapped[list["SagaStep"]] = relationship(
        order_by="SagaStep.position", lazy="selectin", cascade="all, delete-orphan"
    )


class SagaStep(Base):
    __tablename__ = "orchestration_saga_steps"

    saga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orchestration_sagas.id"), primary_key=True)
    name: Mapped[StepName] = mapped_column(vocabulary(StepName, "name"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[StepStatus] = mapped_column(vocabulary(StepStatus, "status"))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutboxMessage(Base):
    """A message owed to the broker, written in the transaction that made it due."""

    __tablename__ = "orchestration_outbox"
    __table_args__ = (Index("ix_orchestration_outbox_unsent", "sent_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[OutboxKind] = mapped_column(vocabulary(OutboxKind, "kind"))
    #: the message itself when it is an event frozen at its transition (``completed``)
    payload: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
