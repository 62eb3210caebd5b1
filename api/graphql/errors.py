"""GraphQL errors carry what a REST error body carries: ``extensions: {code, status, errors}``.

The resolvers share their checks with the REST views, so they raise what those raise:
flask-smorest ``abort`` (a werkzeug ``HTTPException``), marshmallow ``ValidationError`` and
domain refusals. They are translated here, once, after the operation; anything else is an
unexpected error and is masked, so no internals reach the client.
"""
from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus

import strawberry
from graphql import GraphQLError
from marshmallow import ValidationError
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case
from werkzeug.exceptions import HTTPException

from api.errors import DOMAIN_STATUS
from workers.steps import DomainError

#: where flask-smorest files a field's messages; GraphQL has only arguments
_LOCATIONS = ("json", "query", "headers", "path")
_ARGUMENT_NAMES = {"Idempotency-Key": "idempotencyKey"}


def _extensions(code: int, errors: dict | None = None) -> dict:
    return {"code": code, "status": HTTPStatus(code).phrase, "errors": errors or {}}


def refusal(code: int, message: str, errors: dict | None = None) -> GraphQLError:
    """An error a client caused, with the HTTP status the REST API would have answered."""
    return GraphQLError(message, extensions=_extensions(code, errors))


def _argument_errors(errors: dict) -> dict:
    """``{"json": {"tier_id": [...]}}`` as GraphQL names it: ``{"tierId": [...]}``."""
    flat: dict = {}
    for key, value in errors.items():
        if key in _LOCATIONS and isinstance(value, dict):
            flat.update(_argument_errors(value))
        else:
            flat[_ARGUMENT_NAMES.get(key, to_camel_case(str(key)))] = value
    return flat


def _summary(errors: dict) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                     for name, msgs in errors.items())


def translate(exc: BaseException) -> GraphQLError | None:
    """The client-facing error for ``exc``, or None when it is not the client's doing."""
    if isinstance(exc, ValidationError):
        errors = _argument_errors(exc.normalized_messages())
        return refusal(422, f"invalid arguments: {_summary(errors)}", errors)
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        data = getattr(exc, "data", None) or {}
        errors = _argument_errors(data.get("errors") or data.get("messages") or {})
        return refusal(exc.code, data.get("message") or exc.description, errors)
    if isinstance(exc, DomainError):
        for cls in type(exc).__mro__:
            if cls in DOMAIN_STATUS:
                code, message = DOMAIN_STATUS[cls]
                return refusal(code, message or str(exc))
    return None


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return (original is not None and not isinstance(original, GraphQLError)
            and translate(original) is None)


def public(error: GraphQLError) -> GraphQLError:
    """``error`` as the client may see it: translated, kept, or masked."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        if "code" not in (error.extensions or {}):  # parsing, validation, limits
            error.extensions = {**(error.extensions or {}), **_extensions(400)}
        return error
    shown = translate(original) or refusal(500, "unexpected error")
    return GraphQLError(shown.message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, extensions=shown.extensions)


class PublicErrors(SchemaExtension):
    """Turn every error of an operation into the one its client may see."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [public(e) for e in result.errors]


class Schema(strawberry.Schema):
    """Logs only unexpected errors: a refused or invalid query is the client's business."""

    def process_errors(self, errors, execution_context=None) -> None:
        unexpected = [e for e in errors if is_unexpected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)
