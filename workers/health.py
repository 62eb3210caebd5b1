"""Readiness checks of the parts a process depends on.

Each part answers ``"ok"`` or ``"down"``; why it is down goes to the log, never to the
caller. Probes reuse connections: the database pool, a pooled broker connection and one
Redis client per process.
"""
from __future__ import annotations

import logging
import os

from sqlalchemy import text

from workers import runtime
from workers.celery_app import app
from workers.db import engine

log = logging.getLogger(__name__)
_redis: dict[int, object] = {}


def database() -> None:
    with engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def broker() -> None:
    with app.pool.acquire(block=True, timeout=2) as conn:
        try:
            conn.ensure_connection(max_retries=1, timeout=2)
            if not runtime.settings().embedded_broker:
                # a round trip on the pooled connection: the broker answers now
                conn.default_channel.exchange_declare("amq.direct", "direct", passive=True)
        except Exception:
            conn.collect()  # a broken connection is not handed to the next probe
            raise


def redis() -> None:
    url = runtime.settings().redis_url
    if url is None:
        return
    client = _redis.get(os.getpid())
    if client is None:
        import redis as redis_lib

        client = _redis[os.getpid()] = redis_lib.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)
    client.ping()


CHECKS = {"database": database, "broker": broker, "redis": redis}


def readiness() -> dict[str, str]:
    """``{part: "ok" | "down"}`` for every part (Redis: ``"not configured"`` without a URL)."""
    results = {}
    for name, check in CHECKS.items():
        if name == "redis" and not runtime.settings().redis_url:
            results[name] = "not configured"
            continue
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001  any failure means not ready
            log.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
            results[name] = "down"
    return results
