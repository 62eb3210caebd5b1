"""Purchases: starting one, and its saga as the buyer follows it."""
from marshmallow import Schema, fields, validate

from api.schemas.base import Int, PageArgs, StrictSchema
from contracts.statuses import SagaStatus
from workers.tickets.service import MAX_PER_ORDER


class StartPurchaseIn(StrictSchema):
    event_id = fields.UUID(required=True)
    tier_id = fields.UUID(required=True)
    quantity = Int(required=True, validate=validate.Range(min=1, max=MAX_PER_ORDER), metadata={
        "description": "seats to buy: at most the tier's max_per_order"})
    payment_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StartPurchaseOut(Schema):
    saga_id = fields.UUID()
    status = fields.String()


class StepOut(Schema):
    name = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    error = fields.String(allow_none=True)


class TicketRef(Schema):
    id = fields.UUID()
    code = fields.String()


class PaymentOut(Schema):
    status = fields.String()
    charged_cents = fields.Integer()
    refunded_cents = fields.Integer()


class SagaOut(Schema):
    id = fields.UUID()
    status = fields.String()
    reason = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    event_id = fields.UUID()
    tier_id = fields.UUID()
    quantity = fields.Integer()
    amount_cents = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    steps = fields.List(fields.Nested(StepOut))
    tickets = fields.List(fields.Nested(TicketRef))
    payment = fields.Nested(PaymentOut)


class SagaListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(
        [str(s) for s in SagaStatus]))


class SagaPage(Schema):
    items = fields.List(fields.Nested(SagaOut))
    next_cursor = fields.String(allow_none=True)
