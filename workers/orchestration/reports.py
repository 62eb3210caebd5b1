"""Read-only figures of the saga record for operators: the dashboard and the metrics
(re-exported by ``queries``, the domain's public face for reads)."""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.statuses import SagaStatus, StepStatus
from workers.db import is_postgres, transaction
from workers.orchestration.models import OutboxMessage, Saga, SagaStep
from workers.steps import utcnow

STATUSES = tuple(SagaStatus)
IN_FLIGHT = SagaStatus.in_flight()


def counts_by_status() -> dict[str, int]:
    """Every status with its number of sagas (zero included)."""
    with transaction() as s:
        rows = s.execute(select(Saga.status, func.count()).group_by(Saga.status)).all()
    found = dict(rows)
    return {status: found.get(status, 0) for status in STATUSES}


def counts_by_status_and_reason() -> list[tuple[str, str, int]]:
    """``(status, reason or "", count)`` for every pair that occurs."""
    with transaction() as s:
        rows = s.execute(select(Saga.status, Saga.reason, func.count())
                         .group_by(Saga.status, Saga.reason)).all()
    return [(status, reason or "", n) for status, reason, n in rows]


def reasons() -> list[str]:
    with transaction() as s:
        return sorted(r for r in s.scalars(select(Saga.reason).distinct()) if r)


def outbox_backlog() -> tuple[int, float]:
    """Unsent outbox messages and the age in seconds of the oldest (0 when none)."""
    with transaction() as s:
        count, oldest = s.execute(select(func.count(), func.min(OutboxMessage.created_at))
                                  .where(OutboxMessage.sent_at.is_(None))).one()
    if not count or oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:  # SQLite aggregates lose the column type
        from datetime import timezone, datetime

        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=timezone.utc)
    return count, max(0.0, (utcnow() - oldest).total_seconds())


def step_durations() -> list[tuple[str, int, float]]:
    """``(step, count, total seconds)`` of the steps that succeeded."""
    if is_postgres():
        seconds = func.extract("epoch", SagaStep.finished_at - SagaStep.started_at)
    else:
        seconds = (func.julianday(SagaStep.finished_at) - func.julianday(SagaStep.started_at)) * 86400
    with transaction() as s:
        rows = s.execute(select(SagaStep.name, func.count(), func.coalesce(func.sum(seconds), 0))
                         .where(SagaStep.status == StepStatus.SUCCEEDED,
                                SagaStep.started_at.is_not(None),
                                SagaStep.finished_at.is_not(None))
                         .group_by(SagaStep.name).order_by(SagaStep.name)).all()
    return [(name, n, float(total)) for name, n, total in rows]
