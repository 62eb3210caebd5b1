"""No saga waits forever.

A saga that made no progress for ``saga_step_timeout_seconds`` (doubling with each
re-drive) is re-driven: its purchase
(or its compensation) is sent again from the start -- every step is idempotent, so what
was done is not done twice. After ``saga_max_redrives`` re-drives a stuck purchase is
compensated (reason ``timed_out``) and a stuck compensation ends ``failed``, recorded
for an operator.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from settings import get_settings
from workers.db import transaction
from workers.orchestration.completion import finished
from workers.orchestration.models import OutboxMessage, Saga
from workers.orchestration.service import _begin_compensation, publish
from workers.steps import utcnow

log = logging.getLogger(__name__)
IN_FLIGHT = ("pending", "reserved", "paid", "compensating")


def redrive_overdue(*, batch: int = 200) -> int:
    """Re-drive, compensate or fail every overdue saga; the number handled."""
    settings = get_settings()
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.saga_step_timeout_seconds)
    timeout = timedelta(seconds=settings.saga_step_timeout_seconds)
    with transaction() as s:
        candidates = s.scalars(
            select(Saga).where(Saga.status.in_(IN_FLIGHT), Saga.updated_at < cutoff)
            .order_by(Saga.updated_at).limit(batch).with_for_update(skip_locked=True))
        # Each re-drive doubles the wait before the next: a saga only queued behind a
        # backlog is not flooded with copies of its own purchase.
        overdue = [saga for saga in candidates
                   if saga.updated_at < now - timeout * 2 ** saga.redrives]
        sends = [(_handle(s, saga, settings.saga_max_redrives, now), saga) for saga in overdue]
    for message, saga in sends:
        if message is not None:
            publish(message, saga)
    return len(overdue)


def _handle(s, saga: Saga, budget: int, now) -> OutboxMessage | None:
    compensating = saga.status == "compensating"
    if saga.redrives < budget:
        saga.redrives += 1
        saga.updated_at = now
        log.warning("saga %s stuck in %s: re-driving (%d/%d)", saga.id, saga.status,
                    saga.redrives, budget)
        message = OutboxMessage(saga_id=saga.id, created_at=now,
                                kind="compensate" if compensating else "purchase")
        s.add(message)
        return message
    saga.redrives = 0
    if compensating:
        saga.status, saga.updated_at = "failed", now
        saga.error = f"compensation made no progress after {budget} re-drives"
        log.error("saga %s needs an operator: %s", saga.id, saga.error)
        return finished(s, saga, "failed", saga.reason)
    log.warning("saga %s stuck in %s after %d re-drives: compensating", saga.id,
                saga.status, budget)
    return _begin_compensation(s, saga, "timed_out")
