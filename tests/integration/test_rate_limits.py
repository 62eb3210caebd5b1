"""Rate limits on log-in, registration, refresh and purchases: 429 with Retry-After, kept
in Redis, and in memory while Redis is down; per-buyer caps on purchases in flight."""
import dataclasses
import shutil
import signal
import socket
import subprocess
import uuid

import pytest

from settings import get_settings
from tests.integration.conftest import Api
from harness.processes import free_port, wait_for
from workers import runtime


def limited_app(**overrides):
    from api import create_app

    overrides = {"ratelimit_enabled": True, **overrides}
    settings = dataclasses.replace(get_settings(),
                                   ratelimit_key_prefix=f"test-{uuid.uuid4().hex}", **overrides)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def limited(api_key):
    return Api(limited_app().test_client(use_cookies=False), api_key)


def test_200_wrong_passwords_for_one_account_are_cut_off_with_429_and_retry_after(limited):
    user = limited.user()  # registered and logged in: 2 of the account's budget
    answers = [limited.call("POST", "/auth/login",
                            json={"email": user["email"], "password": f"wrong-{i}-guess"})
               for i in range(200)]

    codes = [r.status_code for r in answers]
    assert set(codes) == {401, 429}
    assert codes.count(401) <= 10  # RATELIMIT_ACCOUNT: 10/minute
    refused = next(r for r in answers if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert set(refused.get_json()) == {"code", "status", "message", "errors"}
    # the right password is refused too for now: the account is what is limited
    assert limited.call("POST", "/auth/login", json={
        "email": user["email"], "password": "pass-word-1"}).status_code == 429


def test_limits_are_per_account_so_others_still_log_in(limited):
    victim, other = limited.user(), limited.user()
    for _ in range(12):
        limited.call("POST", "/auth/login", json={"email": victim["email"], "password": "nope-nope"})

    r = limited.call("POST", "/auth/login", json={"email": other["email"], "password": "pass-word-1"})
    assert r.status_code == 200


def test_per_address_and_per_client_limits(api_key):
    api = Api(limited_app(ratelimit_ip="3/minute").test_client(use_cookies=False), api_key)
    codes = [api.call("POST", "/auth/login", json={"email": f"x{i}@example.com",
                                                   "password": "nope-nope"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]

    api = Api(limited_app(ratelimit_client="2/minute").test_client(use_cookies=False), api_key)
    codes = [api.call("POST", "/users", json={"email": f"c{uuid.uuid4().hex[:8]}@example.com",
                                              "password": "pass-word-1", "name": "C"}).status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]


def test_refresh_and_purchases_are_limited_per_account(api_key, organizer, api):
    limited = Api(limited_app(ratelimit_purchase="2/minute", ratelimit_account="3/minute")
                  .test_client(use_cookies=False), api_key)
    event = api.event(organizer, capacity=100)
    buyer = api.user()
    codes = [limited.start(buyer, event).status_code for _ in range(3)]
    assert codes == [202, 202, 429]

    tokens = api.user()
    refreshes = []
    for _ in range(4):
        r = limited.call("POST", "/auth/refresh", tokens["refresh"])
        refreshes.append(r.status_code)
        if r.status_code == 200:
            tokens["refresh"] = r.get_json()["refresh_token"]
    assert refreshes == [200, 200, 200, 429]


def test_limits_are_off_with_ratelimit_enabled_false(api_key):
    api = Api(limited_app(ratelimit_enabled=False, ratelimit_ip="1/minute")
              .test_client(use_cookies=False), api_key)

    codes = {api.call("POST", "/auth/login", json={"email": "x@example.com",
                                                   "password": "nope-nope"}).status_code
             for _ in range(5)}
    assert codes == {401}


@pytest.fixture
def own_redis(tmp_path):
    """A throwaway redis-server of this test's own, stopped by its pid."""
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    try:
        wait_for(answers, timeout=20, what="the throwaway redis-server")
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_with_redis_down_the_gateway_keeps_serving_and_limits_in_memory(api_key, own_redis):
    proc, url = own_redis
    api = Api(limited_app(ratelimit_storage_uri=url, ratelimit_account="5/minute")
              .test_client(use_cookies=False), api_key)
    user = api.user()
    assert api.call("GET", "/events").status_code == 200

    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert api.call("GET", "/events").status_code == 200
    codes = [api.call("POST", "/auth/login", json={"email": user["email"],
                                                   "password": "wrong-password"}).status_code
             for _ in range(8)]
    assert 500 not in codes and codes[:5] == [401] * 5 and codes[-1] == 429
    other = api.user()  # registering and logging in still work
    assert api.call("GET", "/users/me", other["token"]).status_code == 200


@pytest.fixture
def caps(monkeypatch):
    def set_caps(*, purchases=0, seats=0):
        monkeypatch.setattr(runtime, "_parts", dataclasses.replace(runtime.parts(), settings=(
            dataclasses.replace(runtime.settings(), max_open_purchases_per_user=purchases,
                                max_held_seats_per_user=seats))))
    return set_caps


def in_flight(api, monkeypatch, buyer, event, quantity):
    """A purchase that stays pending (its start message is marked sent, never delivered)."""
    from sqlalchemy import update

    from workers.db import transaction
    from workers.orchestration import service
    from workers.orchestration.models import OutboxMessage
    from workers.steps import utcnow

    with monkeypatch.context() as patch:
        patch.setattr(service, "publish", lambda *a, **k: False)
        saga_id, _ = service.start_purchase(
            user_id=uuid.UUID(buyer["id"]), event_id=uuid.UUID(event["id"]),
            tier_id=uuid.UUID(event["tiers"][0]["id"]), quantity=quantity,
            payment_token="tok_visa")
    with transaction() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.saga_id == saga_id)
                  .values(sent_at=utcnow()))
    return saga_id


def test_a_buyer_with_too_many_purchases_in_flight_is_refused_429(api, organizer, caps,
                                                                  monkeypatch):
    caps(purchases=2)
    event, buyer, other = api.event(organizer, capacity=50), api.user(), api.user()
    in_flight(api, monkeypatch, buyer, event, 1)
    in_flight(api, monkeypatch, buyer, event, 1)

    r = api.start(buyer, event)

    assert r.status_code == 429 and "in progress" in r.get_json()["message"]
    assert int(r.headers["Retry-After"]) > 0
    assert api.start(other, event).status_code == 202  # the cap is per buyer


def test_a_buyer_holding_too_many_seats_is_refused_429_also_over_graphql(api, organizer, caps,
                                                                        monkeypatch):
    caps(seats=5)
    event, buyer = api.event(organizer, capacity=50), api.user()
    in_flight(api, monkeypatch, buyer, event, 4)

    r = api.start(buyer, event, quantity=2)
    gql = api.call("POST", "/graphql", buyer["token"], json={
        "query": "mutation($e: UUID!, $t: UUID!) { startPurchase(eventId: $e, tierId: $t, "
                 "quantity: 2, paymentToken: \"tok_visa\") { sagaId } }",
        "variables": {"e": event["id"], "t": event["tiers"][0]["id"]}}).get_json()

    assert r.status_code == 429 and "seats" in r.get_json()["message"]
    assert gql["errors"][0]["extensions"]["code"] == 429
    assert api.start(buyer, event, quantity=1).status_code == 202
