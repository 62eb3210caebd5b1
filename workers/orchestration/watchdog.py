"""No saga waits forever.

A saga that made no progress for ``saga_step_timeout_seconds`` (doubling with each
re-drive) is re-driven: its purchase
(or its compensation) is sent again from the start -- every step is idempotent, so what
was done is not done twice. After ``saga_max_redrives`` re-drives a stuck purchase is
compensated (reason ``timed_out``) and a stuck compensation ends ``failed``, recorded
for an operator.

A saga whose next message is only waiting in a queue is not stuck: while the queue its
next step is read from holds messages, the saga is left alone (up to
``QUEUED_GRACE`` timeouts), so that a backlog is not met with copies of its own
purchases, adding work when there is none to spare.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from contracts.statuses import OutboxKind, SagaReason, SagaStatus
from workers import runtime
from workers.celery_app import app
from workers.db import transaction
from workers.orchestration.completion import finished
from workers.orchestration.models import OutboxMessage, Saga
from workers.orchestration.service import begin_compensation, publish
from workers.steps import utcnow

log = logging.getLogger(__name__)
IN_FLIGHT = SagaStatus.in_flight()
#: where the next message of a saga in each status waits
NEXT_QUEUES = {SagaStatus.PENDING: ("tickets",), SagaStatus.RESERVED: ("payments",),
               SagaStatus.PAID: ("tickets",),
               SagaStatus.COMPENSATING: ("orchestration", "payments", "tickets")}
#: a saga behind a queue is re-driven anyway once this many timeouts overdue
QUEUED_GRACE = 10


def queue_depths() -> dict:
    """Messages waiting (ready) in each domain queue; ``{}`` if the broker cannot say."""
    depths = {}
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            for queue in ("tickets", "payments", "orchestration"):
                depths[queue] = channel.queue_declare(queue, passive=True).message_count
    except Exception:  # noqa: BLE001  without depths the deadline alone decides
        log.warning("watchdog: queue depths unknown", exc_info=True)
        return {}
    return depths


def _queued(saga: Saga, depths: dict, now, timeout) -> bool:
    """Whether the saga's next message may just be waiting its turn in a queue."""
    if saga.updated_at < now - timeout * QUEUED_GRACE * 2 ** saga.redrives:
        return False
    return any(depths.get(q, 0) > 0 for q in NEXT_QUEUES.get(saga.status, ()))


def redrive_overdue(*, batch: int = 200) -> int:
    """Re-drive, compensate or fail every overdue saga; the number handled."""
    settings = runtime.settings()
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.saga_step_timeout_seconds)
    timeout = timedelta(seconds=settings.saga_step_timeout_seconds)
    depths = queue_depths()  # before any saga is locked: the broker may be slow to answer
    with transaction() as s:
        candidates = s.scalars(
            select(Saga).where(Saga.status.in_(IN_FLIGHT), Saga.updated_at < cutoff)
            .order_by(Saga.updated_at).limit(batch).with_for_update(skip_locked=True))
        # Each re-drive doubles the wait before the next: a saga only queued behind a
        # backlog is not flooded with copies of its own purchase.
        overdue = [saga for saga in candidates
                   if saga.updated_at < now - timeout * 2 ** saga.redrives]
        overdue = [saga for saga in overdue if not _queued(saga, depths, now, timeout)]
        sends = [(_handle(s, saga, settings.saga_max_redrives, now), saga) for saga in overdue]
    for message, saga in sends:
        if message is not None:
            publish(message, saga)
    return len(overdue)


def _handle(s, saga: Saga, budget: int, now) -> OutboxMessage | None:
    compensating = saga.status == SagaStatus.COMPENSATING
    if saga.redrives < budget:
        saga.redrives += 1
        saga.updated_at = now
        log.warning("saga %s stuck in %s: re-driving (%d/%d)", saga.id, saga.status,
                    saga.redrives, budget)
        message = OutboxMessage(saga_id=saga.id, created_at=now,
                                kind=OutboxKind.COMPENSATE if compensating else OutboxKind.PURCHASE)
        s.add(message)
        return message
    saga.redrives = 0
    if compensating:
        saga.status, saga.updated_at = SagaStatus.FAILED, now
        saga.error = f"compensation made no progress after {budget} re-drives"
        log.error("saga %s needs an operator: %s", saga.id, saga.error)
        return finished(s, saga, SagaStatus.FAILED, saga.reason)
    log.warning("saga %s stuck in %s after %d re-drives: compensating", saga.id,
                saga.status, budget)
    return begin_compensation(s, saga, SagaReason.TIMED_OUT)
