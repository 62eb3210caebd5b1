"""Tables of the users domain."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from contracts.statuses import SagaStatus, check_in
from workers.db import Base, UTCDateTime

ROLES = ("buyer", "organizer", "staff", "admin")


class User(Base):
    __tablename__ = "users_users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="buyer")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: every token carries the generation it was issued under; raising it (a password
    #: change) ends every session at once
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiKey(Base):
    """A client application's key, stored as a keyed hash (HMAC) of the key.

    Keys are 256-bit random, so a keyed hash is as safe as a slow password hash and
    lets every request be checked with one indexed lookup.
    """

    __tablename__ = "users_api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RevokedToken(Base):
    """A JWT revoked before its expiry (logout, refresh rotation), or a whole session:
    ``jti`` is then ``family:<id>`` and ends every token descended from one login."""

    __tablename__ = "users_revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """What a buyer was told when one of their purchases ended: the row a mailer would send.

    One per saga and terminal status, so a repeated ``SagaCompleted`` writes nothing new.
    """

    __tablename__ = "users_notifications"
    __table_args__ = (UniqueConstraint("saga_id", "status"),
                      CheckConstraint(check_in("status", SagaStatus.terminal()), name="status"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    amount_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    ticket_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
