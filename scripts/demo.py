"""A scripted purchase against a running gateway: create an event, buy, follow the saga.

    python scripts/demo.py --api-key KEY --admin-email EMAIL --admin-password PASSWORD

Exits 0 when the purchase reaches ``confirmed``.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid

import requests

from contracts.statuses import SagaStatus

TERMINAL = SagaStatus.terminal()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", default="http://127.0.0.1:8000")
    p.add_argument("--api-key", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-password", required=True)
    p.add_argument("--token", default="tok_visa", help="payment token (Stripe test tokens)")
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args(argv)

    call = _caller(a.base_url, a.api_key)
    admin = call("POST", "/auth/login", json={"email": a.admin_email,
                                              "password": a.admin_password}).json()["access_token"]
    event = call("POST", "/events", admin, 201, json={
        "name": "Demo night", "venue": "Main hall", "starts_at": "2030-01-01T20:00:00+00:00",
        "tiers": [{"name": "General", "price_cents": 2500, "currency": "EUR", "capacity": 100}],
    }).json()
    tier = event["tiers"][0]
    print(f"event {event['id']}: {tier['name']} {tier['available']}/{tier['capacity']} left")
    saga = _buy(call, event, a.token, a.timeout)
    left = call("GET", f"/events/{event['id']}").json()["tiers"][0]["available"]
    print(f"seats left: {left}/{tier['capacity']}")
    return 0 if saga["status"] == SagaStatus.CONFIRMED else 1


def _caller(base_url: str, api_key: str):
    """``call(method, path, token=None, expect=200, **kw)``: one request with the API key
    (and ``token`` as bearer); exits naming the answer when it is not ``expect``."""
    http = requests.Session()
    http.headers["X-API-Key"] = api_key

    def call(method, path, token=None, expect=200, **kw):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = http.request(method, base_url + path, headers=headers, timeout=10, **kw)
        if r.status_code != expect:
            sys.exit(f"{method} {path} -> {r.status_code} {r.text}")
        return r
    return call


def _buy(call, event: dict, payment_token: str, timeout: float) -> dict:
    """A new buyer buys two seats of the event's first tier; the saga as it ended (or stood
    after ``timeout`` seconds), printed."""
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    call("POST", "/users", expect=201, json={"email": email, "password": "correct horse",
                                             "name": "Demo Buyer"})
    buyer = call("POST", "/auth/login", json={"email": email, "password": "correct horse"}).json()
    started = call("POST", "/saga/start", buyer["access_token"], 202, json={
        "event_id": event["id"], "tier_id": event["tiers"][0]["id"], "quantity": 2,
        "payment_token": payment_token,
    })
    location = started.headers["Location"]
    print(f"saga {started.json()['saga_id']} accepted; following {location}")
    deadline = time.monotonic() + timeout
    saga = {"status": SagaStatus.PENDING}
    while time.monotonic() < deadline:
        saga = call("GET", location, buyer["access_token"]).json()
        if saga["status"] in TERMINAL:
            break
        time.sleep(0.2)
    _print_saga(saga)
    return saga


def _print_saga(saga: dict) -> None:
    print(f"saga {saga.get('id')}: {saga['status']}"
          + (f" ({saga['reason']})" if saga.get("reason") else ""))
    for step in saga.get("steps", []):
        print(f"  {step['name']:8} {step['status']:10} attempts={step['attempts']}")
    for t in saga.get("tickets", []):
        print(f"  ticket {t['id']} code {t['code']}")
    if saga.get("payment"):
        print(f"  payment {saga['payment']}")


if __name__ == "__main__":
    sys.exit(main())
