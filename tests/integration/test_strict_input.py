"""Requests are taken as written or refused: unknown fields and query parameters are a
422 naming them, integers must be integers, and the tier alone bounds an order's size."""
import uuid

import pytest

from tests.integration.conftest import wait_terminal


def purchase(event, **changes) -> dict:
    return {"event_id": event["id"], "tier_id": event["tiers"][0]["id"], "quantity": 1,
            "payment_token": "tok_visa", **changes}


def test_an_order_of_11_on_a_tier_allowing_20_is_accepted_and_confirmed(api, organizer,
                                                                      worker_processes):
    event = api.event(organizer, capacity=30, max_per_order=20)
    buyer = api.user()

    r = api.start(buyer, event, quantity=11)

    assert r.status_code == 202, r.get_json()
    saga = wait_terminal([r.get_json()["saga_id"]])[r.get_json()["saga_id"]]
    assert saga["status"] == "confirmed", saga
    assert saga["quantity"] == 11
    assert api.available(event) == 19


def test_an_order_above_the_tiers_limit_is_a_422_saying_the_limit(api, organizer):
    event = api.event(organizer, capacity=30, max_per_order=20)

    r = api.start(api.user(), event, quantity=21)

    assert r.status_code == 422
    assert r.get_json()["errors"]["json"]["quantity"] == [
        "at most 20 tickets of this tier per order"]
    assert api.available(event) == 30


def test_no_tier_may_allow_more_than_100_seats_per_order_nor_an_order_ask_for_more(
        api, organizer):
    r = api.call("POST", "/events", organizer["token"], json={
        "name": "Big", "venue": "Hall", "starts_at": "2031-05-01T19:00:00+00:00",
        "tiers": [{"name": "All", "price_cents": 1, "currency": "EUR", "capacity": 500,
                   "max_per_order": 101}]})
    event = api.event(organizer, capacity=500, max_per_order=100)

    assert r.status_code == 422
    assert "max_per_order" in r.get_json()["errors"]["json"]["tiers"]["0"]
    assert api.start(api.user(), event, quantity=101).status_code == 422


@pytest.mark.parametrize("quantity", [2.9, 2.0, "1", True, None])
def test_a_quantity_that_is_not_an_integer_is_a_422(api, organizer, quantity):
    event = api.event(organizer)

    r = api.call("POST", "/saga/start", api.user()["token"],
                 json=purchase(event, quantity=quantity))

    assert r.status_code == 422, r.get_json()
    assert "quantity" in r.get_json()["errors"]["json"]
    assert api.available(event) == 10


@pytest.mark.parametrize("field, value", [("capacity", 10.5), ("price_cents", "1500"),
                                          ("max_per_order", 4.0)])
def test_tier_integers_must_be_integers(api, organizer, field, value):
    tier = {"name": "General", "price_cents": 1500, "currency": "EUR", "capacity": 10,
            field: value}

    r = api.call("POST", "/events", organizer["token"], json={
        "name": "Show", "venue": "Hall", "starts_at": "2031-05-01T19:00:00+00:00",
        "tiers": [tier]})

    assert r.status_code == 422
    assert field in r.get_json()["errors"]["json"]["tiers"]["0"]


def test_a_misspelt_tier_field_is_a_422_naming_it(api, organizer):
    r = api.call("POST", "/events", organizer["token"], json={
        "name": "Show", "venue": "Hall", "starts_at": "2031-05-01T19:00:00+00:00",
        "tiers": [{"name": "General", "price_cents": 1500, "currency": "EUR",
                   "capacity": 10, "max_per_ordr": 4}]})

    assert r.status_code == 422
    body = r.get_json()
    assert body["errors"]["json"]["tiers"]["0"] == {"max_per_ordr": ["Unknown field."]}
    assert body["message"] == "unknown field tiers.0.max_per_ordr"


def test_an_unknown_field_starts_no_purchase(api, organizer):
    event = api.event(organizer)
    buyer = api.user()

    r = api.call("POST", "/saga/start", buyer["token"], json=purchase(event, coupon="FREE"))

    assert r.status_code == 422
    assert r.get_json()["message"] == "unknown field coupon"
    assert api.call("GET", "/sagas", buyer["token"]).get_json()["items"] == []


@pytest.mark.parametrize("path, body", [
    ("/users", {"email": "x@example.com", "password": "pass-word-1", "name": "X",
                "role": "admin"}),
    ("/auth/login", {"email": "x@example.com", "password": "pass-word-1", "remember": True}),
])
def test_unknown_fields_are_refused_on_every_body(api, path, body):
    r = api.call("POST", path, json=body)

    assert r.status_code == 422
    unknown = (set(body) - {"email", "password", "name"}).pop()
    assert r.get_json()["errors"]["json"] == {unknown: ["Unknown field."]}


def test_an_unknown_query_parameter_is_a_422_naming_it(api):
    buyer = api.user()

    r = api.call("GET", "/sagas", buyer["token"], query_string={"event_id": str(uuid.uuid4())})

    assert r.status_code == 422
    assert r.get_json()["errors"]["query"] == {"event_id": ["Unknown field."]}
    assert r.get_json()["message"] == "unknown query parameter event_id"
    assert api.call("GET", "/sagas", buyer["token"],
                    query_string={"status": "confirmed", "limit": "5"}).status_code == 200


def test_graphql_takes_the_same_limit_as_rest(api, organizer, worker_processes):
    event = api.event(organizer, capacity=30, max_per_order=20)
    mutation = ("mutation($e: UUID!, $t: UUID!, $q: Int!) { startPurchase(eventId: $e, "
                "tierId: $t, quantity: $q, paymentToken: \"tok_visa\") { sagaId status } }")
    buyer = api.user()

    def start(quantity):
        return api.call("POST", "/graphql", buyer["token"], json={"query": mutation, "variables": {
            "e": event["id"], "t": event["tiers"][0]["id"], "q": quantity}}).get_json()

    accepted, refused = start(11), start(21)

    saga_id = accepted["data"]["startPurchase"]["sagaId"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"
    assert refused["errors"][0]["extensions"]["code"] == 422
    assert "at most 20" in refused["errors"][0]["message"]
