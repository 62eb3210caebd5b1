"""Accounts: registration, login and tokens, the profile, and the buyer's notifications."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.base import StrictSchema
from workers.users import service as users


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
