"""The Idempotency-Key header makes a purchase request safe to repeat."""
import uuid

import pytest

pytestmark = pytest.mark.usefixtures("worker_processes")


def test_same_key_and_body_returns_the_same_saga(api, organizer):
    event, buyer, key = api.event(organizer), api.user(), str(uuid.uuid4())

    first = api.start(buyer, event, quantity=2, key=key)
    second = api.start(buyer, event, quantity=2, key=key)

    assert first.status_code == second.status_code == 202
    assert first.get_json()["saga_id"] == second.get_json()["saga_id"]
    assert first.headers["Location"] == second.headers["Location"]
    mine = api.call("GET", "/sagas", buyer["token"]).get_json()["items"]
    assert [s["id"] for s in mine] == [first.get_json()["saga_id"]]


def test_same_key_with_a_different_body_is_422(api, organizer):
    event, buyer, key = api.event(organizer), api.user(), str(uuid.uuid4())

    api.start(buyer, event, quantity=2, key=key)
    other = api.start(buyer, event, quantity=3, key=key)

    assert other.status_code == 422
    assert "Idempotency-Key" in other.get_json()["message"]


def test_the_same_key_from_two_buyers_makes_two_sagas(api, organizer):
    event, key = api.event(organizer), str(uuid.uuid4())

    a = api.start(api.user(), event, key=key).get_json()["saga_id"]
    b = api.start(api.user(), event, key=key).get_json()["saga_id"]

    assert a != b
