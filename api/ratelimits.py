"""Request rate limits on the routes worth attacking: log in, register, refresh, start a
purchase. Each is limited per client application (API key), per account and per IP
address; past a limit the answer is 429 with ``Retry-After``.

Counters live in Redis (``RATELIMIT_STORAGE_URI``, by default ``REDIS_URL``), shared by
every gateway process. When Redis is unreachable the limits are kept in this process's
memory instead, so the gateway keeps serving (and limiting) until Redis is back.
``RATELIMIT_ENABLED=false`` turns them all off (load tests and benchmarks).
"""
from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_jwt_extended import decode_token
from flask_limiter import Limiter

from api.auth import API_KEY_HEADER
from settings import Settings

#: endpoint -> (method, which account limit applies, how the account is named)
LIMITED = {
    "users.login": ("POST", "account", "email"),
    "users.Users": ("POST", "account", "email"),
    "users.refresh": ("POST", "account", "token"),
    "sagas.start_purchase": ("POST", "purchase", "token"),
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def client_key() -> str:
    return "client:" + _digest(request.headers.get(API_KEY_HEADER, ""))


def ip_key() -> str:
    return f"ip:{request.remote_addr or 'unknown'}"


def email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "email:" + _digest(email.strip().lower() if isinstance(email, str) else "")


def token_key() -> str:
    """The account of the bearer token, if its signature holds (its other checks come
    in the view); an unusable token counts against one shared bucket."""
    header = request.headers.get("Authorization", "")
    try:
        return "user:" + str(decode_token(header.removeprefix("Bearer ").strip())["sub"])
    except Exception:  # noqa: BLE001  refused by the view anyway
        return "user:invalid"


ACCOUNT_KEYS = {"email": email_key, "token": token_key}


def init_rate_limits(app: Flask, settings: Settings) -> Limiter | None:
    """Limit the ``LIMITED`` endpoints of ``app`` (call after its routes are registered)."""
    app.config.update(
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        if settings.ratelimit_storage_uri.startswith("redis") else {},
        RATELIMIT_KEY_PREFIX=settings.ratelimit_key_prefix,
    )
    limiter = Limiter(key_func=ip_key, storage_uri=settings.ratelimit_storage_uri,
                      strategy="moving-window", in_memory_fallback_enabled=True)
    limiter.init_app(app)
    if not settings.ratelimit_enabled:
        return None
    per_account = {"account": settings.ratelimit_account, "purchase": settings.ratelimit_purchase}
    for endpoint, (method, kind, account) in LIMITED.items():
        view = app.view_functions[endpoint]
        for limit, key in ((settings.ratelimit_client, client_key),
                           (per_account[kind], ACCOUNT_KEYS[account]),
                           (settings.ratelimit_ip, ip_key)):
            view = limiter.limit(limit, key_func=key, methods=[method])(view)
        app.view_functions[endpoint] = view
    return limiter
