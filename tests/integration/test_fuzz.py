"""Schemathesis against the gateway on the real database and broker: generated requests
for every documented operation, as a buyer, an organizer and an admin, pointed at real
events, purchases and tickets half of the time. No answer may be a server error or
break the document (status, content type, headers, body schema).

Bounded and repeatable in the suite (a fixed seed, ``FUZZ_SEED``); ``make fuzz`` runs
many more cases (``FUZZ_EXAMPLES``).
"""
from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import Api, wait_terminal

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("FUZZ_SEED", "20261126"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
#: operations on the caller's own account (some end its sessions): a user of their own
SESSION_ENDING = {("DELETE", "/users/me"), ("POST", "/auth/logout"), ("PATCH", "/users/me")}

_turn = itertools.count()


def _gateway():
    from api import create_app

    app = create_app()
    app.config["TESTING"] = True
    return app


schema = schemathesis.openapi.from_wsgi("/openapi.json", _gateway())


@pytest.fixture(scope="module")
def fuzz_world(app, api_key, worker_processes):
    api = Api(app.test_client(use_cookies=False), api_key)
    organizer, buyer = api.user("organizer"), api.user()
    event = api.event(organizer, capacity=1000)
    saga_id = api.start(buyer, event).get_json()["saga_id"]
    saga = wait_terminal([saga_id], timeout=180)[saga_id]
    assert saga["status"] == "confirmed", saga
    ticket = api.call("GET", "/tickets", buyer["token"]).get_json()["items"][0]
    return {
        "key": api_key,
        "users": {"buyer": buyer, "organizer": organizer, "admin": api.user("admin")},
        "spare": [api.user()],
        "ids": {"event_id": event["id"], "tier_id": event["tiers"][0]["id"],
                "saga_id": saga_id, "ticket_id": ticket["id"], "code": ticket["code"]},
    }


def point_at_real_things(case, ids: dict) -> None:
    """Every other case: the path and body name real ids (else what was generated)."""
    if next(_turn) % 2:
        return
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    if isinstance(case.body, dict):
        for name in ("event_id", "tier_id", "code"):
            if name in case.body:
                case.body[name] = ids[name]


@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_answer_outside_the_document(case, fuzz_world):
    point_at_real_things(case, fuzz_world["ids"])
    operation = (case.method.upper(), case.operation.path)
    bearer = any("bearer" in s for s in case.operation.definition.raw.get("security", []))
    roles = list(fuzz_world["users"].items())
    if not bearer or operation in SESSION_ENDING:  # the caller's role changes nothing here
        roles = roles[:1]
    for role, user in roles:
        if operation in SESSION_ENDING:
            user = fuzz_world["spare"][0]
        token = user["refresh"] if operation == ("POST", "/auth/refresh") else user["token"]
        headers = {"X-API-Key": fuzz_world["key"], "Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)


