"""Contracts of the orchestration domain: how a saga learns that a step failed, and how
the rest of the system learns that a saga ended."""
from marshmallow import fields, validate

from contracts.base import Contract
from contracts.statuses import SagaReason, SagaStatus, StepName

STEPS = tuple(str(s) for s in StepName)


class StepFailed(Contract):
    """A saga step failed for good (a domain refusal, or retries exhausted)."""

    name = "StepFailed"
    saga_id = fields.UUID(required=True)
    step = fields.String(required=True, validate=validate.OneOf(STEPS))
    error_type = fields.String(required=True)
    #: why the saga is to be canceled, as the error's class says (``None``: it says nothing)
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf([str(r) for r in SagaReason]))
    message = fields.String(required=True)
    attempts = fields.Integer(required=True)
    failed_at = fields.AwareDateTime(required=True)


class CancelEventSagas(Contract):
    """Cancel every open or confirmed saga of a canceled event, a batch at a time."""

    name = "CancelEventSagas"
    event_id = fields.UUID(required=True)
    after = fields.UUID(load_default=None, allow_none=True)


class SagaCompleted(Contract):
    """A saga reached a terminal status: ``confirmed``, ``canceled`` or ``failed``.

    One is published (through the outbox) for every transition into a terminal status. A
    saga may make two: ``failed`` and then, once an operator re-runs its compensation,
    ``canceled``; or ``confirmed`` and then ``canceled`` when its event is canceled.
    Consumers key on ``(saga_id, status)``: a repeated delivery of one is the same event.
    """

    name = "SagaCompleted"
    saga_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    status = fields.String(required=True,
                           validate=validate.OneOf([str(s) for s in SagaStatus.terminal()]))
    reason = fields.String(load_default=None, allow_none=True)
    amount_cents = fields.Integer(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True)
    ticket_ids = fields.List(fields.UUID(), load_default=list)
    completed_at = fields.AwareDateTime(required=True)


class SagaCompletedBatch(Contract):
    """``SagaCompleted`` events sent together by the outbox relay: one message for every
    saga that ended since the last relay. Each event is handled as if sent alone."""

    name = "SagaCompletedBatch"
    events = fields.List(fields.Nested(SagaCompleted), required=True)
