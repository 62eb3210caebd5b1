"""Events and their tiers: creation, changes, listing."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.base import Currency, Int, PageArgs, StrictSchema
from contracts.statuses import EventStatus
from workers.tickets.service import MAX_PER_ORDER


class TierIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    price_cents = Int(required=True, validate=validate.Range(min=0, max=10**9))
    currency = Currency
    capacity = Int(required=True, validate=validate.Range(min=0, max=10**7))
    max_per_order = Int(load_default=10, validate=validate.Range(min=1, max=MAX_PER_ORDER),
                        metadata={"description": "the most seats of this tier in one order"})


class TierPatch(StrictSchema):
    id = fields.UUID(load_default=None)
    name = fields.String(validate=validate.Length(min=1, max=100))
    price_cents = Int(validate=validate.Range(min=0, max=10**9))
    currency = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    capacity = Int(validate=validate.Range(min=0, max=10**7))
    max_per_order = Int(validate=validate.Range(min=1, max=MAX_PER_ORDER))

    @validates_schema
    def _new_tier_is_complete(self, data, **_):
        """A tier without ``id`` is a new one: it needs what ``TierIn`` requires."""
        if data.get("id") is None:
            missing = [name for name, field in TierIn().fields.items()
                       if field.required and name not in data]
            if missing:
                raise ValidationError({name: ["Missing data for required field."]
                                       for name in missing})


EVENT_STATUSES = tuple(str(s) for s in EventStatus)


class EventOptions(StrictSchema):
    status = fields.String(validate=validate.OneOf([str(s) for s in EventStatus.settable()]),
                           metadata={"description": "cancel with POST /events/{id}/cancel"})
    hold_seconds = Int(validate=validate.Range(min=1, max=86400), metadata={
        "description": "how long a reservation holds seats (default 900)"})
    sale_starts_at = fields.AwareDateTime(allow_none=True)
    sale_ends_at = fields.AwareDateTime(allow_none=True)


class EventIn(EventOptions):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    venue = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = fields.AwareDateTime(required=True)
    tiers = fields.List(fields.Nested(TierIn), required=True, validate=validate.Length(min=1, max=50))


class EventPatch(EventOptions):
    name = fields.String(validate=validate.Length(min=1, max=200))
    venue = fields.String(validate=validate.Length(min=1, max=200))
    starts_at = fields.AwareDateTime()
    tiers = fields.List(fields.Nested(TierPatch), validate=validate.Length(max=50))


class TierOut(Schema):
    id = fields.UUID()
    name = fields.String()
    price_cents = fields.Integer()
    currency = fields.String()
    capacity = fields.Integer()
    available = fields.Integer(metadata={
        "description": "seats left now: capacity - sold - unexpired holds, exact"})
    max_per_order = fields.Integer()


class EventOut(Schema):
    id = fields.UUID()
    name = fields.String()
    venue = fields.String()
    starts_at = fields.AwareDateTime()
    status = fields.String()
    hold_seconds = fields.Integer()
    sale_starts_at = fields.AwareDateTime(allow_none=True)
    sale_ends_at = fields.AwareDateTime(allow_none=True)
    tiers = fields.List(fields.Nested(TierOut))


class EventListArgs(PageArgs):
    mine = fields.Boolean(load_default=False, metadata={
        "description": "only your own events, drafts included (needs a bearer token)"})
    status = fields.String(load_default=None, validate=validate.OneOf(EVENT_STATUSES), metadata={
        "description": "only events of this status, among those you may see (buyers: "
                       "on_sale, sold_out; admins: all)"})
    starts_from = fields.AwareDateTime(data_key="from", load_default=None, metadata={
        "description": "events starting at or after this time (ISO 8601, e.g. 2031-05-01T00:00:00Z)"})
    starts_to = fields.AwareDateTime(data_key="to", load_default=None, metadata={
        "description": "events starting before this time"})
    venue = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                          metadata={"description": "events at this venue (any case)"})
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                      metadata={"description": "events whose name contains this (any case)"})


class EventPage(Schema):
    items = fields.List(fields.Nested(EventOut))
    next_cursor = fields.String(allow_none=True)
