"""Every error leaves the gateway as JSON ``{code, status, message, errors}``.

Domain refusals are mapped to HTTP here, once.
"""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from api.parsing import unknown_fields
from workers.orchestration.errors import (
    IdempotencyConflict, PurchaseCapReached, SagaAlreadyConfirmed, SagaNotFound,
)
from workers.steps import DomainError
from workers.tickets.errors import (
    EventNotFound, EventStatusConflict, NotAllowed, TicketAlreadyUsed, TicketForAnotherEvent,
    TicketVoid, TierNotFound, UnknownTicketCode,
)
from workers.users.errors import EmailTaken, InvalidCredentials, UserNotFound, WrongPassword

DOMAIN_STATUS = {
    EmailTaken: (409, "an account with this email already exists"),
    InvalidCredentials: (401, "wrong email or password"),
    UserNotFound: (404, "no such user"),
    EventNotFound: (404, "no such event"),
    TierNotFound: (404, "no such ticket tier for this event"),
    NotAllowed: (403, None),
    IdempotencyConflict: (422, "this Idempotency-Key was already used with a different request"),
    SagaNotFound: (404, "no such saga"),
    SagaAlreadyConfirmed: (409, "this purchase is confirmed: it can no longer be canceled"),
    UnknownTicketCode: (404, "no ticket has this code"),
    TicketAlreadyUsed: (409, None),
    TicketVoid: (410, None),
    TicketForAnotherEvent: (422, "this ticket is for another event"),
    EventStatusConflict: (409, None),
    WrongPassword: (403, "current_password is not this account's password"),
    PurchaseCapReached: (429, None),
}
#: extra headers of a domain refusal's answer
DOMAIN_HEADERS = {PurchaseCapReached: {"Retry-After": "10"}}


def error_response(code: int, message: str, errors: dict | None = None):
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": message,
            "errors": errors or {}}
    return jsonify(body), code


def _http_error(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or data.get("errors") or {}
    message = data.get("message")
    if message is None and exc.code == 422:
        unknown = unknown_fields(errors)
        message = f"unknown {', '.join(unknown)}" if unknown else "invalid request"
    elif message is None and exc.code == 429:  # a rate limit: its description is the limit
        message = f"too many requests (at most {exc.description}): retry after Retry-After seconds"
    elif message is None:
        message = exc.description
    response, code = error_response(exc.code, message, errors)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response, code


def _domain_error(exc: DomainError):
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            code, message = DOMAIN_STATUS[cls]
            response, code = error_response(code, message or str(exc))
            response.headers.update(DOMAIN_HEADERS.get(cls, {}))
            return response, code
    raise exc


def _database_unavailable(exc):
    return error_response(503, "the database is unavailable; retry shortly")


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    for error in (OperationalError, InterfaceError):
        app.register_error_handler(error, _database_unavailable)
