"""An event's sales, tier by tier."""
from marshmallow import Schema, fields


class TierSalesOut(Schema):
    tier_id = fields.UUID()
    name = fields.String()
    currency = fields.String()
    price_cents = fields.Integer()
    capacity = fields.Integer()
    sold = fields.Integer(metadata={"description": "seats of confirmed purchases"})
    held = fields.Integer(metadata={"description": "seats reserved, not yet confirmed"})
    available = fields.Integer(metadata={"description": "seats left now (live)"})
    charged_cents = fields.Integer(metadata={"description": "every successful charge"})
    refunded_cents = fields.Integer(metadata={"description": "every refund"})
    revenue_cents = fields.Integer(metadata={"description": "charged minus refunded: kept"})


class EventSalesOut(Schema):
    event_id = fields.UUID()
    tiers = fields.List(fields.Nested(TierSalesOut))
