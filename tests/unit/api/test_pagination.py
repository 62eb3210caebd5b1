"""Opaque keyset cursors: they round-trip, refuse garbage with a 422, and mark the last page."""
import base64
import json
import uuid
from datetime import datetime, timezone

import pytest
from werkzeug.exceptions import HTTPException, UnprocessableEntity

from api import pagination


def _cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_uuid_cursor_round_trips():
    key = uuid.uuid4()

    assert pagination.decode(pagination.encode(key), uuid.UUID) == (key,)


def test_a_datetime_and_uuid_cursor_round_trips():
    created = datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=timezone.utc)
    key = uuid.uuid4()

    cursor = pagination.encode(created.isoformat(), key)

    assert pagination.decode(cursor, datetime.fromisoformat, uuid.UUID) == (created, key)


def test_numbers_keep_their_type_through_a_cursor():
    cursor = pagination.encode(7, 2.5)

    assert pagination.decode(cursor, int, float) == (7, 2.5)


def test_a_cursor_is_url_safe_without_padding():
    for n in range(1, 12):  # lengths that would need every amount of "=" padding
        cursor = pagination.encode("x" * n, uuid.UUID(int=2**128 - 1))
        assert "=" not in cursor
        assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert pagination.decode(cursor, str, uuid.UUID)[0] == "x" * n


def test_no_cursor_decodes_to_none():
    assert pagination.decode(None, uuid.UUID) is None


@pytest.mark.parametrize("cursor", [
    "!!!not-base64!!!",
    "é",  # not ASCII
    "",
    _cursor_of("not json"),
    _cursor_of('"a string, not a list"'),
    _cursor_of("42"),
    _cursor_of('["not-a-uuid"]'),
    _cursor_of("[null]"),
    _cursor_of("[]"),  # too few values
    _cursor_of(json.dumps([str(uuid.uuid4()), str(uuid.uuid4())])),  # too many values
    base64.urlsafe_b64encode(b"\xff\xfe[").decode(),  # not UTF-8
], ids=["not-base64", "not-ascii", "empty", "not-json", "not-a-list", "a-number",
        "bad-uuid", "null-uuid", "too-few", "too-many", "not-utf8"])
def test_a_garbage_cursor_is_refused_with_422(cursor):
    with pytest.raises(UnprocessableEntity) as err:
        pagination.decode(cursor, uuid.UUID)

    assert err.value.code == 422
    assert err.value.data["errors"] == {"query": {"cursor": ["invalid cursor"]}}


def test_a_cursor_with_a_bad_datetime_is_refused_with_422():
    with pytest.raises(UnprocessableEntity):
        pagination.decode(pagination.encode("yesterday", uuid.uuid4()),
                          datetime.fromisoformat, uuid.UUID)


@pytest.mark.parametrize("value", [1, {"a": 1}, ["b"]], ids=["int", "object", "list"])
def test_a_cursor_holding_a_non_string_where_a_uuid_belongs_is_refused_with_422(value):
    with pytest.raises(HTTPException) as err:
        pagination.decode(_cursor_of(json.dumps([value])), uuid.UUID)

    assert err.value.code == 422


def _rows(n):
    return [{"id": uuid.UUID(int=i)} for i in range(1, n + 1)]


def _key(row):
    return (row["id"],)


def test_page_has_no_next_cursor_when_there_are_fewer_items_than_the_limit():
    result = pagination.page(_rows(3), 5, _key)

    assert result == {"items": _rows(3), "next_cursor": None}


def test_page_has_no_next_cursor_when_the_items_exactly_fill_the_limit():
    result = pagination.page(_rows(5), 5, _key)

    assert result["items"] == _rows(5)
    assert result["next_cursor"] is None


def test_page_of_nothing_is_empty_without_a_next_cursor():
    assert pagination.page([], 5, _key) == {"items": [], "next_cursor": None}


def test_page_trims_the_extra_item_and_points_the_cursor_at_the_last_returned_one():
    rows = _rows(6)

    result = pagination.page(rows, 5, _key)

    assert result["items"] == rows[:5]
    assert result["next_cursor"] is not None
    assert pagination.decode(result["next_cursor"], uuid.UUID) == (rows[4]["id"],)


def test_page_cursor_can_carry_a_compound_key():
    rows = [{"created_at": datetime(2026, 1, d, tzinfo=timezone.utc), "id": uuid.uuid4()}
            for d in (3, 2, 1)]

    result = pagination.page(rows, 2, lambda s: (s["created_at"].isoformat(), s["id"]))

    assert pagination.decode(result["next_cursor"], datetime.fromisoformat, uuid.UUID) == (
        rows[1]["created_at"], rows[1]["id"])
