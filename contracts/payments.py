"""Contracts of the payments domain."""
from marshmallow import fields, validate

from contracts.base import Contract, StepTiming


class ChargePayment(Contract):
    """Charge the buyer; the amount comes from the reservation, never from the client."""

    name = "ChargePayment"
    saga_id = fields.UUID(required=True)
    payment_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PaymentCaptured(Contract):
    name = "PaymentCaptured"
    saga_id = fields.UUID(required=True)
    payment_id = fields.UUID(required=True)
    amount_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    step = fields.Nested(StepTiming, required=True)


class RefundPayment(Contract):
    name = "RefundPayment"
    saga_id = fields.UUID(required=True)


class PaymentRefunded(Contract):
    """Also emitted, with ``refunded_cents`` 0, when there was no charge to refund."""

    name = "PaymentRefunded"
    saga_id = fields.UUID(required=True)
    refunded_cents = fields.Integer(required=True)
    step = fields.Nested(StepTiming, required=True)
