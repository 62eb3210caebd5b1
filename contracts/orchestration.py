"""Contracts of the orchestration domain: how a saga learns that a step failed."""
from marshmallow import fields, validate

from contracts.base import Contract

STEPS = ("reserve", "charge", "confirm", "refund", "release")


class StepFailed(Contract):
    """A saga step failed for good (a domain refusal, or retries exhausted)."""

    name = "StepFailed"
    saga_id = fields.UUID(required=True)
    step = fields.String(required=True, validate=validate.OneOf(STEPS))
    error_type = fields.String(required=True)
    message = fields.String(required=True)
    attempts = fields.Integer(required=True)
    failed_at = fields.AwareDateTime(required=True)


class CancelEventSagas(Contract):
    """Cancel every open or confirmed saga of a canceled event, a batch at a time."""

    name = "CancelEventSagas"
    event_id = fields.UUID(required=True)
    after = fields.UUID(load_default=None, allow_none=True)
