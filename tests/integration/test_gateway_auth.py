"""Every route needs a client's API key; protected ones a user's token as well."""
import uuid

import pytest

OPEN = {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/<path:filename>"}
#: the GraphiQL page: static HTML, reads nothing; the operations it sends need the key
OPEN_PAGES = {("GET", "/graphql")}
#: POST /graphql: public fields need only the key; private ones are GraphQL errors
#: areas with a login of their own instead of the API key: the dashboard (session cookie,
#: tested in test_dashboard.py) and /metrics (operator token, tested in test_metrics.py)
OWN_AUTH = ("dashboard.", "metrics.")
PUBLIC_WITH_KEY = {("POST", "/users"), ("POST", "/auth/login"), ("GET", "/events"),
                   ("GET", "/events/<uuid:event_id>"), ("POST", "/graphql")}


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in OPEN or rule.endpoint.startswith(OWN_AUTH):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) in OPEN_PAGES:
                continue
            path = rule.rule.replace("<uuid:event_id>", str(uuid.uuid4()))
            path = path.replace("<uuid:saga_id>", str(uuid.uuid4()))
            path = path.replace("<uuid:ticket_id>", str(uuid.uuid4()))
            yield method, rule.rule, path


def test_there_are_routes_to_check(app):
    assert len(list(routes(app))) >= 12


@pytest.mark.parametrize("key", [None, "bo_not-a-real-key", "garbage"])
def test_every_route_refuses_a_missing_or_invalid_api_key(app, key):
    client = app.test_client()
    for method, _, path in routes(app):
        headers = {"X-API-Key": key} if key else {}
        r = client.open(path, method=method, headers=headers, json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert "X-API-Key" in r.get_json()["message"]


@pytest.mark.parametrize("token", [None, "not.a.jwt", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_protected_routes_refuse_a_missing_or_bad_token(api, app, token):
    for method, rule, path in routes(app):
        if (method, rule) in PUBLIC_WITH_KEY:
            continue
        r = api.call(method, path, token, json={})
        assert r.status_code == 401, (method, path, r.status_code, r.get_json())
        assert set(r.get_json()) == {"code", "status", "message", "errors"}


def test_a_revoked_api_key_stops_working_at_once(api):
    from workers.users.service import create_api_key, revoke_api_key

    name = f"client-{uuid.uuid4().hex[:6]}"
    key = create_api_key(name)
    assert api.client.get("/events", headers={"X-API-Key": key}).status_code == 200
    revoke_api_key(name)
    assert api.client.get("/events", headers={"X-API-Key": key}).status_code == 401


def test_a_user_reading_another_users_saga_gets_404(api, organizer):
    event, owner, other = api.event(organizer), api.user(), api.user()
    saga_id = api.start(owner, event).get_json()["saga_id"]

    assert api.call("GET", f"/sagas/{saga_id}", other["token"]).status_code == 404
    assert api.call("GET", f"/sagas/{saga_id}", owner["token"]).status_code == 200
    assert api.call("GET", f"/sagas/{saga_id}", api.user("admin")["token"]).status_code == 200


def test_buyers_cannot_create_events(api):
    r = api.call("POST", "/events", api.user()["token"], json={
        "name": "x", "venue": "y", "starts_at": "2031-01-01T00:00:00+00:00",
        "tiers": [{"name": "a", "price_cents": 1, "currency": "EUR", "capacity": 1}]})
    assert r.status_code == 403


def test_logout_revokes_the_token(api):
    user = api.user()
    assert api.call("POST", "/auth/logout", user["token"], json={}).status_code == 204
    assert api.call("GET", "/users/me", user["token"]).status_code == 401


def test_refresh_rotates_the_refresh_token(api):
    user = api.user()
    r = api.call("POST", "/auth/refresh", user["refresh"])
    assert r.status_code == 200
    assert api.call("GET", "/users/me", r.get_json()["access_token"]).status_code == 200
    assert api.call("POST", "/auth/refresh", user["refresh"]).status_code == 401


def test_validation_errors_are_422_with_field_messages(api, organizer):
    r = api.call("POST", "/saga/start", api.user()["token"],
                 json={"event_id": "nope", "quantity": 0})
    assert r.status_code == 422
    fields = r.get_json()["errors"]["json"]
    assert {"event_id", "tier_id", "quantity", "payment_token"} <= set(fields)
