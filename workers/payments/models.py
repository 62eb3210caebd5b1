"""Tables of the payments domain."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from contracts.statuses import ChargeOutcome, PaymentKind, PaymentStatus
from workers.db import Base, UTCDateTime, vocabulary


class Payment(Base):
    """One charge or one refund of a saga; the unique key makes each happen at most once."""

    __tablename__ = "payments_payments"
    __table_args__ = (UniqueConstraint("saga_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[PaymentKind] = mapped_column(vocabulary(PaymentKind, "kind", length=10))
    status: Mapped[PaymentStatus] = mapped_column(vocabulary(PaymentStatus, "status"))
    decline_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessorCharge(Base):
    """The payment processor's own record of a charge, by idempotency key.

    It stands for the external processor's books (Stripe keeps one per ``Idempotency-Key``):
    only ``simulator`` reads or writes it, never the payments service. ``calls`` counts the
    charge requests that reached the processor with this key, replays included.
    """

    __tablename__ = "payments_processor_ledger"

    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[ChargeOutcome] = mapped_column(vocabulary(ChargeOutcome, "outcome"))
    decline_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    calls: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
