"""A step that is done, reported failed because its chain's next message was not sent.

A step records its outcome in the worker that ran it, after its own commit, and only then
does Celery publish the chain's next message. If that publish fails (the broker lost the
node leading the queue, a quorum queue without a leader nacks it), Celery reports the
step as failed, with the broker's error, and the chain's error callback runs: the saga
would be compensated although the step succeeded -- seats confirmed a moment later by a
redelivery are then voided and the charge refunded. Such a failure is told apart by the
saga record: the step's row says it succeeded, and the error is the broker's or the
database's, not a refusal. The saga is then sent on from where it stands (every step is
idempotent), counted as a re-drive so that a broker that keeps refusing ends, as the
watchdog does, in the usual compensation.
"""
from __future__ import annotations

import logging

from contracts.statuses import OutboxKind, SagaStatus, StepName, StepStatus
from workers import runtime
from workers.orchestration.models import OutboxMessage, Saga, SagaStep
from workers.steps import TRANSIENT, utcnow

log = logging.getLogger(__name__)

#: what a broker or database failure is called in a ``StepFailed`` message
INFRASTRUCTURE_ERRORS = frozenset(cls.__name__ for cls in TRANSIENT)
COMPENSATION_STEPS = StepName.compensation()


def only_its_message_failed(s, saga: Saga, step: str, error_type: str) -> bool:
    """Whether ``step`` is recorded as succeeded and failed only by what came after it."""
    if error_type not in INFRASTRUCTURE_ERRORS:
        return False
    if saga.redrives >= runtime.settings().saga_max_redrives:
        return False
    row = s.get(SagaStep, (saga.id, step))
    return row is not None and row.status == StepStatus.SUCCEEDED


def send_on(s, saga: Saga, step: str) -> OutboxMessage | None:
    """The saga's canvas sent again from the start: its purchase, or its compensation if
    a compensation step's next message was lost. Nothing while a compensation runs and a
    purchase step's message was lost: the purchase is being undone anyway."""
    compensating = saga.status == SagaStatus.COMPENSATING
    if compensating and step not in COMPENSATION_STEPS:
        return None
    saga.redrives += 1
    saga.updated_at = utcnow()
    log.warning("saga %s: step %s succeeded but its next message was not sent: "
                "sending the saga on (%d)", saga.id, step, saga.redrives)
    message = OutboxMessage(saga_id=saga.id, created_at=saga.updated_at,
                            kind=OutboxKind.COMPENSATE if compensating else OutboxKind.PURCHASE)
    s.add(message)
    return message
