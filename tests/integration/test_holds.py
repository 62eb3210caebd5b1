"""Reservations hold seats for a while; then the seats go back on sale."""
from datetime import datetime, timedelta, timezone

import pytest

from harness.processes import wait_for
from tests.integration.conftest import payments_of, wait_terminal

pytestmark = pytest.mark.usefixtures("worker_processes")


def test_a_payment_slower_than_the_hold_ends_hold_expired_refunded_with_seats_back(api, organizer):
    event = api.event(organizer, capacity=6, hold_seconds=2)
    buyer = api.user()

    saga_id = api.start(buyer, event, quantity=3, token="tok_visa_delay_3500").get_json()["saga_id"]
    saga = wait_terminal([saga_id], timeout=60)[saga_id]

    assert (saga["status"], saga["reason"]) == ("canceled", "hold_expired"), saga
    kinds = sorted(p[1:] for p in payments_of([saga_id]))
    assert kinds == [("charge", "succeeded", 4500), ("refund", "succeeded", 4500)]
    assert api.call("GET", f"/sagas/{saga_id}", buyer["token"]).get_json()["tickets"] == []
    assert api.available(event) == 6


def test_seats_of_an_overdue_hold_count_as_available_and_can_be_bought(api, organizer):
    # the hold lasts 4 s (a window to see it in) and the charge outlasts it
    event = api.event(organizer, capacity=2, hold_seconds=4)
    slow = api.start(api.user(), event, quantity=2, token="tok_visa_delay_9000").get_json()

    wait_for(lambda: api.available(event) == 0, timeout=10, what="the hold to take the seats")
    wait_for(lambda: api.available(event) == 2, timeout=10, what="the hold to run out")
    fast = api.start(api.user(), event, quantity=2).get_json()
    sagas = wait_terminal([slow["saga_id"], fast["saga_id"]], timeout=60)

    assert sagas[fast["saga_id"]]["status"] == "confirmed", sagas
    assert (sagas[slow["saga_id"]]["status"], sagas[slow["saga_id"]]["reason"]) == \
        ("canceled", "hold_expired")
    assert api.available(event) == 0


def test_orders_over_the_tier_limit_are_refused_at_the_gateway(api, organizer):
    event = api.event(organizer, capacity=20, max_per_order=4)

    r = api.start(api.user(), event, quantity=5)

    assert r.status_code == 422 and "quantity" in r.get_json()["errors"]["json"]


@pytest.mark.parametrize("window", ["future", "past"])
def test_purchases_outside_the_sale_window_are_refused(api, organizer, window):
    now = datetime.now(timezone.utc)
    bounds = ({"sale_starts_at": (now + timedelta(days=1)).isoformat()} if window == "future"
              else {"sale_ends_at": (now - timedelta(seconds=1)).isoformat()})
    event = api.event(organizer, **bounds)

    assert api.start(api.user(), event).status_code == 422


def test_a_draft_event_is_not_on_sale(api, organizer):
    event = api.event(organizer, status="draft")

    assert api.start(api.user(), event).status_code == 422
