"""A security test matrix generated from /openapi.json, so a new route cannot escape it.

For every documented operation, every way in that should be refused is: no key, a wrong
or revoked key; and where a token is needed, none, an expired, tampered or unsigned
(``alg: none``) one, a refresh token for an access token (and the reverse), a token of a
closed account, another user's resource and a role below the one required. Each is
refused with a status the document lists for the operation, and nothing answers 5xx.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import timedelta

import pytest

from tests.integration.conftest import Api, wait_terminal

METHODS = {"get", "post", "put", "patch", "delete"}
ROLE_ORDER = ("buyer", "staff", "organizer", "admin")


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, op


def security_of(doc, op) -> list:
    return op.get("security", doc.get("security", []))


# OpenAPI's security is a list of alternatives: a credential is needed when every
# alternative names it (GET /events takes a key alone, or a key and an optional token)
def needs_key(doc, op) -> bool:
    alternatives = security_of(doc, op)
    return bool(alternatives) and all("apiKey" in s for s in alternatives)


def needs_token(doc, op) -> bool:
    alternatives = security_of(doc, op)
    return bool(alternatives) and all("bearer" in s for s in alternatives)


@pytest.fixture(scope="module")
def world(app, api_key, worker_processes):
    """Real things to point at: an organizer's event, a buyer's confirmed purchase and
    ticket, other users of every role, a closed account, a revoked key."""
    from workers.users.service import create_api_key, revoke_api_key

    api = Api(app.test_client(use_cookies=False), api_key)
    organizer, buyer = api.user("organizer"), api.user()
    event = api.event(organizer, capacity=5)
    saga_id = api.start(buyer, event).get_json()["saga_id"]
    saga = wait_terminal([saga_id], timeout=180)[saga_id]
    assert saga["status"] == "confirmed", saga
    ticket_id = api.call("GET", "/tickets", buyer["token"]).get_json()["items"][0]["id"]
    closed = api.user()
    closed_other = api.call("POST", "/auth/login", json={"email": closed["email"],
                                                         "password": "pass-word-1"}).get_json()
    assert api.call("DELETE", "/users/me", closed["token"]).status_code == 204
    name = f"revoked-{uuid.uuid4().hex[:6]}"
    revoked_key = create_api_key(name)
    revoke_api_key(name)
    return {
        "api": api, "doc": api.client.get("/openapi.json").get_json(),
        "ids": {"event_id": event["id"], "saga_id": saga_id, "ticket_id": ticket_id,
                "id": saga_id},
        "owner": {"event_id": organizer, "saga_id": buyer, "ticket_id": buyer, "id": buyer},
        "users": {role: api.user(role) for role in ROLE_ORDER},
        "buyer": buyer, "closed": closed_other, "revoked_key": revoked_key,
    }


def concrete(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def call(world, method, path, *, key="default", token=None):
    api = world["api"]
    headers = {"X-API-Key": api.key if key == "default" else key} if key else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return api.client.open(concrete(path, world["ids"]), method=method, headers=headers,
                           json=body)


def check(failures, method, path, op, r, expected: set[int]):
    documented = {int(c) for c in op["responses"] if c.isdigit()}
    if r.status_code >= 500 or r.status_code not in expected or r.status_code not in documented:
        failures.append((method, path, r.status_code, sorted(expected & documented),
                         r.get_data(as_text=True)[:200]))


def token_for(op, user) -> str:
    return user["refresh"] if op.get("x-token") == "refresh" else user["token"]


def test_the_document_lists_operations_of_every_kind(world):
    ops = list(operations(world["doc"]))
    assert len(ops) >= 15
    assert sum(needs_token(world["doc"], op) for _, _, op in ops) >= 10
    assert any(op.get("x-roles") for _, _, op in ops)


@pytest.mark.parametrize("case", ["no key", "wrong key", "revoked key"])
def test_every_keyed_operation_refuses_a_bad_api_key(world, case):
    key = {"no key": None, "wrong key": "bo_" + "x" * 43, "revoked key": world["revoked_key"]}[case]
    failures = []
    for method, path, op in operations(world["doc"]):
        if needs_key(world["doc"], op):
            user = world["users"][(op.get("x-roles") or ["buyer"])[0]]
            r = call(world, method, path, key=key, token=token_for(op, user))
            check(failures, method, path, op, r, {401})
    assert failures == []


def forged_tokens(app, user: dict) -> dict:
    """Tokens that must not work, each made from a real one of ``user``."""
    from flask_jwt_extended import create_access_token, decode_token

    with app.app_context():
        claims = decode_token(user["token"])
        extra = {k: claims[k] for k in ("role", "gen", "fam")}
        expired = create_access_token(claims["sub"], additional_claims=extra,
                                      expires_delta=timedelta(seconds=-60))
    header, payload, signature = user["token"].split(".")

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    padded = payload + "=" * (-len(payload) % 4)
    body = json.loads(base64.urlsafe_b64decode(padded))
    tampered = f"{header}.{b64({**body, 'role': 'admin'})}.{signature}"
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    return {"expired token": expired, "tampered token": tampered, "alg none": unsigned}


@pytest.mark.parametrize("case", ["no token", "expired token", "tampered token", "alg none",
                                  "wrong token type", "closed account"])
def test_every_operation_that_needs_a_token_refuses_a_bad_one(world, app, case):
    failures = []
    for method, path, op in operations(world["doc"]):
        if not needs_token(world["doc"], op):
            if case == "no token":  # documented as open to any keyed client: so it is
                r = call(world, method, path)
                if r.status_code == 401 or r.status_code >= 500:
                    failures.append((method, path, r.status_code, "undocumented token need"))
            continue
        user = world["users"][(op.get("x-roles") or ["buyer"])[0]]
        if case == "no token":
            token = None
        elif case == "wrong token type":  # a refresh token as access token, or the reverse
            token = user["token"] if op.get("x-token") == "refresh" else user["refresh"]
        elif case == "closed account":
            token = token_for(op, {"token": world["closed"]["access_token"],
                                   "refresh": world["closed"]["refresh_token"]})
        else:
            token = forged_tokens(app, user)[case]
        check(failures, method, path, op, call(world, method, path, token=token), {401})
    assert failures == []


def test_every_role_restricted_operation_refuses_a_lower_role(world):
    failures = []
    for method, path, op in operations(world["doc"]):
        roles = op.get("x-roles")
        if not roles:
            continue
        for role in ROLE_ORDER:
            if role in roles or role == "admin":
                continue
            r = call(world, method, path, token=token_for(op, world["users"][role]))
            check(failures, method, path, op, r, {403})
    assert failures == []


def test_another_users_resources_are_not_found_or_forbidden(world):
    failures = []
    for method, path, op in operations(world["doc"]):
        params = re.findall(r"\{(\w+)\}", path)
        if not params or not needs_token(world["doc"], op):
            continue
        roles = [r for r in (op.get("x-roles") or ["buyer"]) if r != "admin"]
        if not roles:
            continue  # admins may see everything: there is no "another user" to be
        stranger = world["users"][roles[0]]
        if any(world["owner"].get(p) is not None and world["owner"][p]["id"] == stranger["id"]
               for p in params):
            continue
        r = call(world, method, path, token=token_for(op, stranger))
        check(failures, method, path, op, r, {403, 404})
    assert failures == []


def test_the_document_states_security_and_refusals_of_every_operation(world):
    doc = world["doc"]
    bearer = {("GET", "/users/me"), ("GET", "/sagas"), ("GET", "/sagas/{saga_id}"),
              ("GET", "/tickets"), ("GET", "/tickets/{ticket_id}")}
    ops = {(m, p): op for m, p, op in operations(doc)}
    for key in bearer:
        assert needs_token(doc, ops[key]), key
    for (method, path), op in ops.items():
        codes = set(op["responses"])
        if security_of(doc, op):
            assert "401" in codes, (method, path)
        if op.get("x-roles"):
            assert "403" in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if "requestBody" in op:
            assert {"400", "413", "422"} <= codes, (method, path)
    for key in (("POST", "/auth/login"), ("POST", "/users"), ("POST", "/auth/refresh"),
                ("POST", "/saga/start")):
        assert "429" in ops[key]["responses"], key
    assert "409" in ops[("PATCH", "/events/{event_id}")]["responses"]
