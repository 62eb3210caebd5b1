"""Buyers over HTTP: an API key and an admin from the operator CLI, then events, buyers
and purchases through the gateway, as a client application would.

Every purchase carries an ``Idempotency-Key``; a purchase that meets a 5xx or a broken
connection is retried with the same key (as a careful client would), and every attempt is
recorded, so a scenario can tell what the gateway answered and when.
"""
from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from harness.processes import run

TOKENS = (("tok_visa", 0.85), ("tok_chargeDeclined", 0.08),
          ("tok_chargeDeclinedInsufficientFunds", 0.07))
QUANTITIES = ((1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1))
PASSWORD = "chaos-pass-word-1"


@dataclass
class Attempt:
    at: float  # seconds since the run's start
    status: int | None
    error: str | None = None
    took: float = 0.0  # seconds the gateway took to answer


@dataclass
class Purchase:
    key: str
    buyer: int
    event_id: str
    tier_id: str
    quantity: int
    token: str
    attempts: list = field(default_factory=list)
    saga_id: str | None = None
    rejected: str | None = None


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


class Shop:
    """One client application of a running gateway."""

    def __init__(self, base_url: str, env: dict, rng: random.Random):
        self.base_url, self.env, self.rng = base_url, env, rng
        self.key = ""
        self.tiers: list[dict] = []  # {event_id, tier_id, capacity}
        self.buyer_tokens: list[str] = []
        self._local = threading.local()

    # -- HTTP ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(self, method: str, path: str, token: str | None = None, *, timeout=30, **kw):
        headers = {"X-API-Key": self.key, **kw.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._session().request(method, self.base_url + path, headers=headers,
                                       timeout=(5, timeout), **kw)

    def _ok(self, r, expected: int) -> dict:
        if r.status_code != expected:
            raise RuntimeError(f"{r.request.method} {r.request.path_url} answered "
                               f"{r.status_code}: {r.text[:300]}")
        return r.json()

    # -- set-up -------------------------------------------------------------------------

    def setup(self, *, events: list[list[int]], buyers: int, threads: int = 8) -> None:
        """An API key and an admin (operator CLI), the events (one list of tier capacities
        each) and the buyers (HTTP)."""
        suffix = uuid.uuid4().hex[:8]
        admin = f"chaos-admin-{suffix}@example.com"
        flask = [sys.executable, "-m", "flask", "--app", "api"]
        with ThreadPoolExecutor(2) as pool:
            key = pool.submit(run, [*flask, "keys", "create", f"chaos-{suffix}"], env=self.env)
            made = pool.submit(run, [*flask, "users", "create-admin", admin, "--password",
                                     PASSWORD, "--name", "Chaos admin"], env=self.env)
            self.key = key.result().stdout.strip().splitlines()[-1]
            made.result()
        admin_token = self.login(admin)
        for i, capacities in enumerate(events):
            event = self._ok(self.call("POST", "/events", admin_token, json={
                "name": f"Chaos night {i + 1}", "venue": "Hall",
                "starts_at": "2031-05-01T19:00:00+00:00",
                "tiers": [{"name": f"Tier {j + 1}", "price_cents": 1000 + 500 * j,
                           "currency": "EUR", "capacity": c, "max_per_order": 10}
                          for j, c in enumerate(capacities)]}), 201)
            self.tiers += [{"event_id": event["id"], "tier_id": t["id"],
                            "capacity": t["capacity"]} for t in event["tiers"]]
        with ThreadPoolExecutor(threads) as pool:
            self.buyer_tokens = list(pool.map(self._new_buyer, range(buyers)))

    def login(self, email: str) -> str:
        return self._ok(self.call("POST", "/auth/login",
                                  json={"email": email, "password": PASSWORD}), 200)["access_token"]

    def _new_buyer(self, i: int) -> str:
        email = f"chaos-buyer-{i}-{uuid.uuid4().hex[:8]}@example.com"
        self._ok(self.call("POST", "/users", json={"email": email, "password": PASSWORD,
                                                   "name": f"Buyer {i}"}), 201)
        return self.login(email)

    # -- purchases ----------------------------------------------------------------------

    def plan(self, n: int) -> list[Purchase]:
        purchases = []
        for _ in range(n):
            tier = self.rng.choice(self.tiers)
            purchases.append(Purchase(
                key=str(uuid.uuid4()), buyer=self.rng.randrange(len(self.buyer_tokens)),
                event_id=tier["event_id"], tier_id=tier["tier_id"],
                quantity=_pick(self.rng, QUANTITIES), token=_pick(self.rng, TOKENS)))
        return purchases

    def buy(self, purchases: list[Purchase], *, rate: float, t0: float, threads: int = 8,
            retry_for: float = 90.0) -> None:
        """Start the purchases at ``rate`` per second (a timer paces them)."""
        start = time.monotonic()

        def one(i_p):
            i, p = i_p
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the load's pace, not a wait for a condition
            self._start(p, t0, retry_for)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, enumerate(purchases)))

    def _start(self, p: Purchase, t0: float, retry_for: float) -> None:
        give_up, backoff = time.monotonic() + retry_for, 0.25
        body = {"event_id": p.event_id, "tier_id": p.tier_id, "quantity": p.quantity,
                "payment_token": p.token}
        while True:
            at = time.monotonic() - t0
            try:
                r = self.call("POST", "/saga/start", self.buyer_tokens[p.buyer], json=body,
                              headers={"Idempotency-Key": p.key})
                p.attempts.append(Attempt(at, r.status_code, None, time.monotonic() - t0 - at))
                if r.status_code in (200, 201, 202):
                    p.saga_id = r.json()["saga_id"]
                    return
                if r.status_code < 500:
                    p.rejected = f"{r.status_code}: {r.text[:200]}"
                    return
            except requests.RequestException as exc:
                p.attempts.append(Attempt(at, None, type(exc).__name__,
                                          time.monotonic() - t0 - at))
            if time.monotonic() > give_up:
                p.rejected = "gave up after retries"
                return
            time.sleep(backoff)  # a client's retry backoff
            backoff = min(backoff * 2, 4.0)


def attempt_summary(purchases: list[Purchase]) -> Counter:
    """How the gateway answered, over every attempt: {202: n, 500: n, 'ConnectionError': n}."""
    return Counter(a.status if a.status is not None else a.error
                   for p in purchases for a in p.attempts)
