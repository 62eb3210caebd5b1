"""Readiness checks of the parts a process depends on."""
from __future__ import annotations

from sqlalchemy import text

from settings import get_settings
from workers.celery_app import app
from workers.db import engine


def database() -> None:
    with engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        if not get_settings().embedded_broker:
            conn.default_channel  # noqa: B018  opens a channel: the broker answers


def redis() -> None:
    url = get_settings().redis_url
    if url is None:
        return
    import redis as redis_lib

    client = redis_lib.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


CHECKS = {"database": database, "broker": broker, "redis": redis}


def readiness() -> dict[str, str]:
    """``{part: "ok" | error}`` for every part."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok" if name != "redis" or get_settings().redis_url else "not configured"
        except Exception as exc:  # noqa: BLE001  any failure means not ready
            results[name] = f"{type(exc).__name__}: {exc}"[:200]
    return results
