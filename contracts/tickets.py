"""Contracts of the tickets domain."""
from marshmallow import fields, validate

from contracts.base import Contract, StepTiming

class ReserveSeats(Contract):
    name = "ReserveSeats"
    saga_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    tier_id = fields.UUID(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=100))


class SeatsReserved(Contract):
    name = "SeatsReserved"
    saga_id = fields.UUID(required=True)
    hold_id = fields.UUID(required=True)
    quantity = fields.Integer(required=True)
    amount_cents = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    expires_at = fields.AwareDateTime(required=True)
    step = fields.Nested(StepTiming, required=True)


class ConfirmSeats(Contract):
    name = "ConfirmSeats"
    saga_id = fields.UUID(required=True)


class SeatsConfirmed(Contract):
    name = "SeatsConfirmed"
    saga_id = fields.UUID(required=True)
    ticket_ids = fields.List(fields.UUID(), required=True)
    #: what the confirmed seats cost, so the saga knows it even before the reserve's record
    amount_cents = fields.Integer(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True)
    step = fields.Nested(StepTiming, required=True)


class ReleaseSeats(Contract):
    """Give a saga's seats back; if none were held yet, make sure none will be."""

    name = "ReleaseSeats"
    saga_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    tier_id = fields.UUID(required=True)


class SeatsReleased(Contract):
    name = "SeatsReleased"
    saga_id = fields.UUID(required=True)
    released = fields.Integer(required=True)
    step = fields.Nested(StepTiming, required=True)


class HoldExpired(Contract):
    """A saga's seats went back on sale because its hold ran out."""

    name = "HoldExpired"
    saga_id = fields.UUID(required=True)


class TicketUsed(Contract):
    """A ticket was scanned in at the door, once and for all."""

    name = "TicketUsed"
    ticket_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    used_at = fields.AwareDateTime(required=True)
    used_by = fields.UUID(required=True)
