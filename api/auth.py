"""Who is calling: the client application (API key) and the user (JWT)."""
from __future__ import annotations

import uuid
from copy import deepcopy
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import JWTManager, get_jwt_identity, verify_jwt_in_request
from flask_smorest import abort

from api.errors import error_response
from workers.steps import utcnow
from workers.users import service as users
from workers.users import queries as user_queries

API_KEY_HEADER = "X-API-Key"
#: endpoints anyone may call without an API key
OPEN_ENDPOINTS = {"health.healthz", "health.readyz", "api-docs.openapi_json",
                  "docs.swagger_ui", "static",
                  "graphql.graphiql"}  # GET /graphql: the GraphiQL page only, no data
#: areas with a login of their own (the dashboard's session, the metrics token)
OWN_AUTH_BLUEPRINTS = {"dashboard", "metrics"}

jwt = JWTManager()


def init_auth(app, settings) -> None:
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.jwt_access_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.jwt_refresh_days),
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ERROR_MESSAGE_KEY="message",
    )
    jwt.init_app(app)
    app.before_request(_require_api_key)


def _require_api_key():
    if (request.endpoint in OPEN_ENDPOINTS or request.blueprint in OWN_AUTH_BLUEPRINTS
            or request.method == "OPTIONS"):
        return None
    if users.api_key_client(request.headers.get(API_KEY_HEADER)) is None:
        abort(401, message=f"a valid {API_KEY_HEADER} header is required")
    return None


@jwt.token_in_blocklist_loader
def _revoked(_header, payload) -> bool:
    """Every token, on every request: is the account active, is the token, its session
    or its password generation still valid? Remembers the account's current role."""
    try:
        user_id = uuid.UUID(str(payload.get("sub")))
    except ValueError:
        return True
    state = user_queries.token_state(user_id, payload["jti"], payload.get("fam"), payload.get("gen"))
    g.token_state = state
    if state.token_revoked and payload.get("type") == "refresh" and payload.get("fam"):
        # a refresh token presented after it was redeemed: someone else may hold it
        users.end_session(payload["fam"], session_expiry())
    return state.refusal is not None


def session_expiry():
    """When the last token of a session still going now will have expired."""
    return utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


@jwt.unauthorized_loader
def _missing_token(reason):
    return error_response(401, f"a bearer token is required: {reason}")


@jwt.invalid_token_loader
def _invalid_token(reason):
    return error_response(401, f"invalid token: {reason}")


@jwt.expired_token_loader
def _expired_token(_header, _payload):
    return error_response(401, "token has expired")


@jwt.revoked_token_loader
def _revoked_token(_header, _payload):
    state = g.get("token_state")
    return error_response(401, state.refusal if state else "token has been revoked")


@jwt.needs_fresh_token_loader
def _stale_token(_header, _payload):
    return error_response(401, "a fresh token is required")


def current_user_id() -> uuid.UUID:
    return uuid.UUID(get_jwt_identity())


def current_role() -> str:
    """The account's role now (read with the token's checks), not the one at login."""
    state = g.get("token_state")
    return state.role if state is not None and state.role else "buyer"


def login_required(*roles: str, refresh: bool = False):
    """Require a valid access token (or refresh token), and one of ``roles`` if given."""
    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            if roles and current_role() not in roles:
                abort(403, message=f"this needs the role {' or '.join(roles)}")
            return fn(*args, **kwargs)
        # the OpenAPI document says which routes need the bearer token too, and which
        # roles (api.openapi adds the answers these can get)
        doc = deepcopy(getattr(wrapper, "_apidoc", {}))
        manual = doc.setdefault("manual_doc", {})
        manual["security"] = [{"apiKey": [], "bearer": []}]
        if roles:
            manual["x-roles"] = list(roles)
        if refresh:
            manual["x-token"] = "refresh"
        wrapper._apidoc = doc
        return wrapper
    return decorator


def issue_tokens(user: dict, family: str | None = None) -> dict:
    """A token pair of a session (``family``; a new one for a login)."""
    from flask_jwt_extended import create_access_token, create_refresh_token

    claims = {"role": user["role"], "gen": user["token_generation"],
              "fam": family or uuid.uuid4().hex}
    identity = str(user["id"])
    return {"access_token": create_access_token(identity, additional_claims=claims),
            "refresh_token": create_refresh_token(identity, additional_claims=claims)}
