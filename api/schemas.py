"""Request and response shapes of the HTTP API (they also make the OpenAPI document).

Requests are strict: a field a schema does not declare is refused (422 naming it), in
bodies and query strings alike (``api.parsing``), and a body's integers must be JSON
integers (``2.9`` and ``"1"`` are refused, not rounded or parsed).
"""
from functools import partial

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from contracts.statuses import EventStatus, SagaStatus
from workers.tickets.service import MAX_PER_ORDER
from workers.users import service as users

Currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
#: an integer of a request body (query strings are text: their integers are parsed)
Int = partial(fields.Integer, strict=True)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


NEW_PASSWORD = {"description": f"{users.PASSWORD_MIN_LENGTH}-{users.PASSWORD_MAX_LENGTH} characters, "
                               f"{users.PASSWORD_MIN_DISTINCT}+ different, not a well-known one",
                "minLength": users.PASSWORD_MIN_LENGTH, "maxLength": users.PASSWORD_MAX_LENGTH}


def _check_password(data: dict, field: str = "password") -> None:
    if data.get(field) is not None:
        found = users.password_problems(data[field], data.get("email"))
        if found:
            raise ValidationError({field: [f"the password {p}" for p in found]})


class RegisterIn(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, metadata=NEW_PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def _password_rules(self, data, **_):
        _check_password(data)


class UserOut(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = fields.String(validate=validate.OneOf(users.ROLES))
    created_at = fields.AwareDateTime()


class ProfilePatch(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    password = fields.String(load_only=True, metadata=NEW_PASSWORD)
    current_password = fields.String(load_only=True, validate=validate.Length(max=200),
                                     metadata={"description": "needed to set a new password"})

    @validates_schema
    def _password_rules(self, data, **_):
        _check_password(data)
        if data.get("password") is not None and not data.get("current_password"):
            raise ValidationError({"current_password": ["needed to set a new password"]})


class LoginIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokensOut(Schema):
    access_token = fields.String()
    refresh_token = fields.String()


class ProfileOut(UserOut):
    access_token = fields.String(metadata={"description": "after a password change only"})
    refresh_token = fields.String(metadata={"description": "after a password change only"})


class LogoutIn(StrictSchema):
    refresh_token = fields.String(load_default=None)


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


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


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


class NotificationOut(Schema):
    id = fields.UUID()
    saga_id = fields.UUID()
    status = fields.String(metadata={"description": "how the purchase ended: confirmed, "
                                                    "canceled or failed"})
    reason = fields.String(allow_none=True)
    subject = fields.String()
    body = fields.String()
    amount_cents = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    ticket_ids = fields.List(fields.UUID())
    created_at = fields.AwareDateTime()


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    next_cursor = fields.String(allow_none=True)
