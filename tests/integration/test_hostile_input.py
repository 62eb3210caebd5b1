"""What an attacker sends the gateway is refused with a 4xx JSON answer, never a 500."""
import base64
import json

import pytest

SURROGATE = '"\\ud800"'  # a lone UTF-16 surrogate, as JSON text
DEEP = "[" * 1000 + "]" * 1000
HUGE_INT = "9" * 5000


def raw(api, method, path, body: str, token=None):
    return api.call(method, path, token, data=body.encode(),
                    headers={"Content-Type": "application/json"})


@pytest.fixture
def routes(api, organizer):
    """Every JSON route, with a body template holding one ``VALUE`` slot."""
    event, buyer = api.event(organizer), api.user()
    return [
        ("POST", "/auth/login", None, '{"email": VALUE, "password": "pass-word-1"}'),
        ("POST", "/users", None, '{"email": "a@example.com", "password": VALUE, "name": "A"}'),
        ("PATCH", "/users/me", buyer["token"], '{"name": VALUE}'),
        ("POST", "/events", organizer["token"],
         '{"name": VALUE, "venue": "v", "starts_at": "2031-01-01T00:00:00+00:00", "tiers": []}'),
        ("PATCH", f"/events/{event['id']}", organizer["token"], '{"venue": VALUE}'),
        ("POST", "/saga/start", buyer["token"],
         '{"event_id": "%s", "tier_id": "%s", "quantity": 1, "payment_token": VALUE}'
         % (event["id"], event["tiers"][0]["id"])),
        ("POST", "/checkin", api.user("staff")["token"], '{"code": VALUE}'),
        ("POST", "/auth/logout", buyer["token"], '{"refresh_token": VALUE}'),
        ("POST", "/graphql", buyer["token"],
         '{"query": "query($id: UUID!) { event(id: $id) { id } }", "variables": {"id": VALUE}}'),
    ]


def test_a_lone_surrogate_is_422_on_every_json_route(api, routes):
    for method, path, token, template in routes:
        r = raw(api, method, path, template.replace("VALUE", SURROGATE), token)
        assert r.status_code == 422, (path, r.status_code, r.get_data(as_text=True)[:300])
        assert set(r.get_json()) == {"code", "status", "message", "errors"}


@pytest.mark.parametrize("value", [HUGE_INT, DEEP], ids=["4300+ digits", "1000 deep"])
def test_a_huge_integer_or_deep_nesting_is_400_on_every_json_route(api, routes, value):
    for method, path, token, template in routes:
        r = raw(api, method, path, template.replace("VALUE", value), token)
        assert r.status_code == 400, (path, r.status_code, r.get_data(as_text=True)[:300])
        assert r.get_json()["code"] == 400


def test_graphql_variables_nested_3000_deep_are_400(api):
    body = '{"query": "{ __typename }", "variables": {"x": %s}}' % ("[" * 3000 + "]" * 3000)
    assert len(body) < 64 * 1024

    assert raw(api, "POST", "/graphql", body).status_code == 400


def test_a_graphql_document_nested_3000_deep_is_an_error_not_a_crash(api):
    query = "{" + "events {" * 3000 + "id" + "}" * 3001
    r = api.call("POST", "/graphql", json={"query": query[:60000]})

    assert r.status_code < 500
    assert r.get_json()["errors"]


def test_a_lone_surrogate_escaped_inside_a_graphql_document_is_refused(api):
    r = api.call("POST", "/graphql", json={"query": '{ event(id: "\\ud800") { id } }'})

    assert r.status_code < 500
    assert r.get_json()["errors"]


def test_a_new_tier_missing_its_fields_is_422_naming_them(api, organizer):
    event = api.event(organizer)

    r = api.call("PATCH", f"/events/{event['id']}", organizer["token"], json={"tiers": [{}]})

    assert r.status_code == 422, r.get_json()
    named = r.get_json()["errors"]["json"]["tiers"]["0"]
    assert {"name", "price_cents", "currency", "capacity"} <= set(named)


@pytest.mark.parametrize("stamp", ["2030-01-01T00:00:00", "2030-01-01"])
def test_a_cursor_with_a_naive_time_or_a_bare_date_is_422(api, stamp):
    user = api.user()
    cursor = base64.urlsafe_b64encode(
        json.dumps([stamp, "00000000-0000-0000-0000-000000000000"]).encode()).decode()

    r = api.call("GET", f"/sagas?cursor={cursor}", user["token"])

    assert r.status_code == 422 and r.get_json()["message"] == "invalid cursor"


def test_a_body_over_the_size_limit_is_413_json(api):
    body = '{"email": "a@example.com", "password": "%s"}' % ("x" * (2 * 1024 * 1024))

    r = raw(api, "POST", "/auth/login", body)

    assert r.status_code == 413 and r.get_json()["code"] == 413


def test_graphql_keeps_its_smaller_body_limit(api):
    body = '{"query": "{ __typename }", "variables": {"x": "%s"}}' % ("x" * 70_000)

    assert raw(api, "POST", "/graphql", body).status_code == 413


def test_passwords_have_a_maximum_length_and_a_minimum_strength(api):
    def register(password):
        return api.call("POST", "/users", json={"email": "pw-%s@example.com" % len(password),
                                                "password": password, "name": "P"})

    assert register("p" * 129 + "assword").status_code == 422
    assert register("password123").status_code == 422  # a well-known one
    assert register("aaaaaaaaaaaa").status_code == 422  # too few different characters
    r = register("short1!")
    assert r.status_code == 422 and "password" in r.get_json()["errors"]["json"]
    login = api.call("POST", "/auth/login", json={"email": "a@example.com",
                                                  "password": "x" * 10_000})
    assert login.status_code == 422


def test_a_graphql_document_of_two_operations_needs_an_operation_name(api):
    query = "query A { events { items { id } } } query B { __typename }"

    without = api.call("POST", "/graphql", json={"query": query}).get_json()
    named = api.call("POST", "/graphql", json={"query": query, "operationName": "B"}).get_json()

    assert without["data"] is None and "operationName" in without["errors"][0]["message"]
    assert named["data"] == {"__typename": "Query"}
