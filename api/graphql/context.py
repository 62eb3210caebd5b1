"""Who is asking: the user of the bearer token, if a valid one came with the request.

The API key was checked before the view ran (``api.auth``); the token is optional here
because public fields need none. A missing or unusable token is remembered, and only a
field that needs a user turns it into an error.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Request, Response
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from api.auth import current_role
from api.graphql.errors import refusal
from workers.tickets.queries import Viewer

AUTHENTICATION_REQUIRED = "authentication required"


@dataclass(frozen=True)
class Context:
    request: Request
    response: Response
    user_id: uuid.UUID | None = None
    role: str | None = None
    token_problem: str | None = None

    @classmethod
    def of(cls, request: Request, response: Response) -> Context:
        try:
            verify_jwt_in_request(optional=True)
        except (JWTExtendedException, PyJWTError) as exc:
            return cls(request, response, token_problem=str(exc) or type(exc).__name__)
        identity = get_jwt_identity()
        if identity is None:
            return cls(request, response)
        return cls(request, response, user_id=uuid.UUID(identity), role=current_role())

    def require_user(self) -> uuid.UUID:
        """The caller's user id; a GraphQL error (code 401) for fields that need one."""
        if self.user_id is None:
            message = AUTHENTICATION_REQUIRED
            if self.token_problem:
                message += f": {self.token_problem}"
            raise refusal(401, message)
        return self.user_id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def viewer(self) -> Viewer:
        """Who asks, for what they may see (no user without a usable token)."""
        return Viewer(self.user_id, self.role)
