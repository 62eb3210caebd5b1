"""What every request and response shape of the API is built from: the strictness of a
request (``StrictSchema``), a body's integers, a currency, the paging arguments."""
from functools import partial

from marshmallow import RAISE, Schema, fields, validate

Currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
#: an integer of a request body (query strings are text: their integers are parsed)
Int = partial(fields.Integer, strict=True)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)
