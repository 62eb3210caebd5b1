"""Opaque cursors for keyset pagination: ``{items, next_cursor}`` everywhere."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from flask_smorest import abort


def aware_datetime(value: str) -> datetime:
    """A cursor's timestamp: ISO 8601 with its UTC offset (a naive one or a bare date is
    not one of ours)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a cursor's timestamp carries its UTC offset")
    return parsed


def encode(*values) -> str:
    raw = json.dumps([str(v) if not isinstance(v, (int, float)) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str | None, *parsers):
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        return tuple(parse(v) for parse, v in zip(parsers, values, strict=True))
    except (ValueError, TypeError, AttributeError):
        abort(422, message="invalid cursor", errors={"query": {"cursor": ["invalid cursor"]}})


def page(items: list, limit: int, key) -> dict:
    """``items`` holds up to ``limit`` + 1 rows; the extra one says there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode(*key(items[-1])) if more else None}
