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
