"""Tickets: a buyer's tickets and the check-in at the door."""
from marshmallow import Schema, fields, validate

from api.schemas.base import StrictSchema


class TicketOut(Schema):
    id = fields.UUID()
    code = fields.String()
    status = fields.String()
    event_id = fields.UUID()
    tier_id = fields.UUID()
    saga_id = fields.UUID()
    issued_at = fields.AwareDateTime()
    used_at = fields.AwareDateTime(allow_none=True)


class TicketPage(Schema):
    items = fields.List(fields.Nested(TicketOut))
    next_cursor = fields.String(allow_none=True)


class CheckInIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "the code a ticket's QR carries"})
    event_id = fields.UUID(load_default=None, metadata={
        "description": "the event at whose door the scan happens: a ticket of another is refused"})


class CheckInOut(Schema):
    ticket_id = fields.UUID()
    status = fields.String(metadata={"description": "always `used`"})
    used_at = fields.AwareDateTime()
    event_id = fields.UUID()
    tier_id = fields.UUID()


class CheckInRefused(Schema):
    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Dict()
    ticket_id = fields.UUID(metadata={"description": "409 only: the ticket already used"})
    used_at = fields.AwareDateTime(metadata={"description": "409 only: when it was checked in"})
