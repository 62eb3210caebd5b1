"""Contracts of the users domain."""
from marshmallow import fields

from contracts.base import Contract


class AnonymiseUser(Contract):
    name = "AnonymiseUser"
    user_id = fields.UUID(required=True)
