"""Canceling an event undoes every purchase of it through the saga compensation."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.processes import wait_for
from tests.integration.conftest import payments_of, wait_terminal
from workers.orchestration.queries import get_saga

pytestmark = pytest.mark.usefixtures("worker_processes")


def test_canceling_an_event_with_100_purchases_refunds_all_and_releases_the_seats(api, organizer):
    event = api.event(organizer, capacity=150, price_cents=700)
    buyers = [api.user() for _ in range(10)]
    with ThreadPoolExecutor(8) as pool:
        saga_ids = list(pool.map(
            lambda i: api.start(buyers[i % 10], event).get_json()["saga_id"], range(100)))
    assert {s["status"] for s in wait_terminal(saga_ids, timeout=120).values()} == {"confirmed"}
    assert api.available(event) == 50

    r = api.call("POST", f"/events/{event['id']}/cancel", organizer["token"])
    assert r.status_code == 202 and r.get_json()["status"] == "canceled"
    sagas = wait_terminal_status(saga_ids, "canceled")

    assert {(s["status"], s["reason"]) for s in sagas} == {("canceled", "event_canceled")}
    payments = payments_of(saga_ids)
    assert len([p for p in payments if p[1] == "refund" and p[3] == 700]) == 100
    assert api.available(event) == 150
    mine = api.call("GET", "/sagas?status=canceled&limit=200", buyers[0]["token"]).get_json()
    assert len(mine["items"]) == 10 and all(not s["tickets"] for s in mine["items"])
    assert api.start(api.user(), event).status_code == 422  # no longer on sale


def test_only_the_organizer_or_an_admin_may_cancel(api, organizer):
    event = api.event(organizer)
    path = f"/events/{event['id']}/cancel"
    assert api.call("POST", path, api.user("organizer")["token"]).status_code == 403
    assert api.call("POST", path, api.user()["token"]).status_code == 403


def wait_terminal_status(saga_ids, status, timeout=120):
    def done():
        found = [get_saga(uuid.UUID(s)) for s in saga_ids]
        return found if all(f["status"] == status for f in found) else None
    return wait_for(done, timeout=timeout, interval=0.2, what=f"every saga to be {status}")
