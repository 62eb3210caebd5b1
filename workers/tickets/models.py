"""Tables of the tickets domain."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.statuses import EventStatus, HoldStatus, TicketStatus
from workers.db import Base, UTCDateTime, vocabulary

#: the most seats any tier may allow in one order: a tier's ``max_per_order`` is 1..this
MAX_PER_ORDER = 100


class Event(Base):
    __tablename__ = "tickets_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[EventStatus] = mapped_column(vocabulary(EventStatus, "status"),
                                                default=EventStatus.ON_SALE)
    #: how long a reservation holds its seats before they go back on sale
    hold_seconds: Mapped[int] = mapped_column(Integer, default=900, server_default="900")
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tiers: Mapped[list["Tier"]] = relationship(
        back_populates="event", order_by="Tier.created_at", lazy="selectin"
    )


class Tier(Base):
    """A kind of ticket with its own price and capacity.

    ``available`` is capacity minus held and sold seats; it only ever changes through
    a conditional UPDATE so that concurrent buyers can never take more than there is.
    """

    __tablename__ = "tickets_tiers"
    __table_args__ = (
        CheckConstraint("available >= 0 AND available <= capacity", name="available_in_range"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_events.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    capacity: Mapped[int] = mapped_column(Integer)
    available: Mapped[int] = mapped_column(Integer)
    max_per_order: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[Event] = relationship(back_populates="tiers")


class Hold(Base):
    """Seats of one saga: ``held`` until ``confirmed``, ``released`` or ``expired``;
    ``refused`` (empty) when there were not enough.

    A held hold past ``expires_at`` no longer counts against availability; the seats go
    back (status ``expired``) when the next reserve needs them or the sweeper runs.
    """

    __tablename__ = "tickets_holds"
    __table_args__ = (Index("ix_tickets_holds_status_expires_at", "status", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    tier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_tiers.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[HoldStatus] = mapped_column(vocabulary(HoldStatus, "status"),
                                               default=HoldStatus.HELD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the saga was told its hold expired (the hold row is its own outbox)
    expiry_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Ticket(Base):
    __tablename__ = "tickets_tickets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hold_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_holds.id"), index=True)
    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    tier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[TicketStatus] = mapped_column(vocabulary(TicketStatus, "status"),
                                                 default=TicketStatus.VALID)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when and by which staff member it was scanned at the door (status ``used``); set once
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
