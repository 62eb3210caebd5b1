"""Read-only views of sagas for callers that must answer at once."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_

from workers.db import transaction
from workers.orchestration.models import Saga
from workers.orchestration.reports import (  # noqa: F401  the operators' figures
    STATUSES, counts_by_status, counts_by_status_and_reason, outbox_backlog, reasons,
    step_durations,
)
from workers.steps import utcnow


def _saga(saga: Saga) -> dict:
    return {
        "id": saga.id, "user_id": saga.user_id, "status": saga.status, "reason": saga.reason,
        "error": saga.error, "event_id": saga.event_id, "tier_id": saga.tier_id,
        "quantity": saga.quantity, "amount_cents": saga.amount_cents, "currency": saga.currency,
        "created_at": saga.created_at, "updated_at": saga.updated_at,
        "steps": [{"name": st.name, "status": st.status, "attempts": st.attempts,
                   "started_at": st.started_at, "finished_at": st.finished_at, "error": st.error}
                  for st in saga.steps],
    }


def get_saga(saga_id: uuid.UUID) -> dict | None:
    with transaction() as s:
        saga = s.get(Saga, saga_id)
        return _saga(saga) if saga else None


def list_sagas(*, user_id: uuid.UUID | None, status: str | None, limit: int,
               before: tuple[datetime, uuid.UUID] | None = None,
               event_id: uuid.UUID | None = None) -> list[dict]:
    """Newest first; ``user_id`` None lists everybody's (admins); ``event_id`` one event's."""
    with transaction() as s:
        q = select(Saga).order_by(Saga.created_at.desc(), Saga.id.desc()).limit(limit)
        if user_id is not None:
            q = q.where(Saga.user_id == user_id)
        if event_id is not None:
            q = q.where(Saga.event_id == event_id)
        if status is not None:
            q = q.where(Saga.status == status)
        if before is not None:
            q = q.where(tuple_(Saga.created_at, Saga.id) < before)
        return [_saga(x) for x in s.scalars(q)]


def tiers_of_event_sagas(event_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Every saga of an event, with the tier it bought: ``{saga_id: tier_id}``."""
    with transaction() as s:
        return dict(s.execute(select(Saga.id, Saga.tier_id).where(Saga.event_id == event_id)).all())


def search(*, status: str | None = None, reason: str | None = None,
           event_id: uuid.UUID | None = None, idle_minutes: int | None = None,
           limit: int = 100) -> list[dict]:
    """Newest first, filtered; ``idle_minutes``: no progress for at least that long."""
    q = select(Saga).order_by(Saga.created_at.desc(), Saga.id.desc()).limit(limit)
    if status:
        q = q.where(Saga.status == status)
    if reason:
        q = q.where(Saga.reason == reason)
    if event_id:
        q = q.where(Saga.event_id == event_id)
    if idle_minutes:
        q = q.where(Saga.updated_at < utcnow() - timedelta(minutes=idle_minutes))
    with transaction() as s:
        return [_saga(x) for x in s.scalars(q)]
