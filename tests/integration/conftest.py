"""A running boxoffice on the real services: a worker process per queue, the gateway
in-process (Flask test client), and helpers that speak its HTTP API."""
from __future__ import annotations

import uuid

import pytest

from harness.environment import child_env
from harness.processes import Beat, Worker
from harness.sagas import QUEUES, TERMINAL, wait_terminal  # noqa: F401  the tests' helpers

#: the workers' retry budget of a failing charge: shorter than its retries would take
CHARGE_RETRY_BUDGET = "3"


@pytest.fixture(scope="session")
def worker_processes(var_dir):
    """A worker process per queue, and beat (sweeping every second), as deployed."""
    env = child_env(CELERY_HOLD_SWEEP_SECONDS="1", CELERY_OUTBOX_RELAY_SECONDS="1",
                    STEP_RETRY_BACKOFF_MAX="2", CHARGE_RETRY_BUDGET_SECONDS=CHARGE_RETRY_BUDGET,
                    BOXOFFICE_TRACE_FILE=str(var_dir / "spans.jsonl"),
                    # tests read Celery's line per task (received, succeeded, raised)
                    CELERY_TASK_LOG_LINES="true")
    processes = {q: Worker(q, env, var_dir).start() for q in QUEUES}
    processes["beat"] = Beat(env, var_dir).start()
    try:
        for p in processes.values():
            p.wait_ready()
        yield processes
    finally:
        for p in processes.values():
            p.stop()


@pytest.fixture(scope="session")
def app():
    from api import create_app

    app = create_app()
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def api_key(app):
    from workers.users.service import create_api_key

    return create_api_key(f"tests-{uuid.uuid4().hex[:8]}")


class Api:
    """The HTTP API as a client application with a key sees it."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def call(self, method, path, token=None, headers=None, **kw):
        h = {"X-API-Key": self.key, **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, headers=h, **kw)

    def user(self, role="buyer") -> dict:
        """A new account with ``role``, logged in: ``{id, email, token, refresh}``."""
        from workers.users.service import set_role

        email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        r = self.call("POST", "/users", json={"email": email, "password": "pass-word-1",
                                              "name": role.title()})
        assert r.status_code == 201, r.get_json()
        if role != "buyer":
            set_role(email=email, role=role)
        tokens = self.call("POST", "/auth/login",
                           json={"email": email, "password": "pass-word-1"}).get_json()
        return {"id": r.get_json()["id"], "email": email, "token": tokens["access_token"],
                "refresh": tokens["refresh_token"]}

    def event(self, organizer, *, capacity=10, price_cents=1500, tier_name="General",
              max_per_order=10, **options) -> dict:
        r = self.call("POST", "/events", organizer["token"], json={
            "name": f"Event {uuid.uuid4().hex[:6]}", "venue": "Hall",
            "starts_at": "2031-05-01T19:00:00+00:00", **options,
            "tiers": [{"name": tier_name, "price_cents": price_cents, "currency": "EUR",
                       "capacity": capacity, "max_per_order": max_per_order}]})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def start(self, buyer, event, *, quantity=1, token="tok_visa", key=None):
        headers = {"Idempotency-Key": key} if key else None
        return self.call("POST", "/saga/start", buyer["token"], headers=headers, json={
            "event_id": event["id"], "tier_id": event["tiers"][0]["id"],
            "quantity": quantity, "payment_token": token})

    def available(self, event) -> int:
        return self.call("GET", f"/events/{event['id']}").get_json()["tiers"][0]["available"]


@pytest.fixture
def api(app, api_key):
    # No `with`: a test client that keeps no request context can serve several threads.
    return Api(app.test_client(use_cookies=False), api_key)


@pytest.fixture
def organizer(api):
    return api.user("organizer")


def payments_of(saga_ids) -> list:
    """Every payment row of these sagas (charges and refunds, any status)."""
    from sqlalchemy import select

    from workers.db import transaction
    from workers.payments.models import Payment

    ids = [uuid.UUID(str(s)) for s in saga_ids]
    with transaction() as s:
        return [(p.saga_id, p.kind, p.status, p.amount_cents)
                for p in s.scalars(select(Payment).where(Payment.saga_id.in_(ids)))]


def recorded_purchase(api, organizer, monkeypatch, *, lost: bool) -> tuple[dict, uuid.UUID]:
    """A purchase recorded with its start message unpublished: still in the outbox, or,
    ``lost``, marked sent as if the broker had lost it."""
    from sqlalchemy import update

    from workers.db import transaction
    from workers.orchestration import service
    from workers.orchestration.models import OutboxMessage
    from workers.steps import utcnow

    event, buyer = api.event(organizer, capacity=4), api.user()
    with monkeypatch.context() as patch:
        patch.setattr(service, "publish", lambda *a, **k: False)
        saga_id, _ = service.start_purchase(
            user_id=uuid.UUID(buyer["id"]), event_id=uuid.UUID(event["id"]),
            tier_id=uuid.UUID(event["tiers"][0]["id"]), quantity=2, payment_token="tok_visa")
    if lost:
        with transaction() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.saga_id == saga_id)
                      .values(sent_at=utcnow()))
    return event, saga_id
