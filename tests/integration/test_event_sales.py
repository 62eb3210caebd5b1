"""Organisers see their events' purchases and sales totals; nobody else's."""
import pytest

from harness.processes import wait_for
from tests.integration.conftest import payments_of, wait_terminal

pytestmark = pytest.mark.usefixtures("worker_processes")


def two_tier_event(api, organizer):
    r = api.call("POST", "/events", organizer["token"], json={
        "name": "Sales night", "venue": "Hall", "starts_at": "2031-05-01T19:00:00+00:00",
        "tiers": [{"name": "Floor", "price_cents": 1000, "currency": "EUR", "capacity": 10},
                  {"name": "Balcony", "price_cents": 2500, "currency": "EUR", "capacity": 4}]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def start(api, buyer, event, tier, quantity, token="tok_visa"):
    r = api.call("POST", "/saga/start", buyer["token"], json={
        "event_id": event["id"], "tier_id": event["tiers"][tier]["id"], "quantity": quantity,
        "payment_token": token})
    assert r.status_code == 202, r.get_json()
    return r.get_json()["saga_id"]


def sales(api, user, event):
    return api.call("GET", f"/events/{event['id']}/sales", user["token"])


def test_sales_totals_per_tier_are_exact_after_purchases_a_decline_and_a_cancel(api, organizer):
    event, buyer = two_tier_event(api, organizer), api.user()
    confirmed = [start(api, buyer, event, 0, 3), start(api, buyer, event, 1, 2)]
    declined = start(api, buyer, event, 0, 2, token="tok_chargeDeclined")
    canceled = start(api, buyer, event, 1, 1, token="tok_visa_delay_2000")
    wait_for(lambda: _charge_pending(canceled), timeout=60, what="the slow charge in flight")
    assert api.call("POST", f"/sagas/{canceled}/cancel", buyer["token"]).status_code == 202
    sagas = wait_terminal([*confirmed, declined, canceled])
    assert [sagas[s]["status"] for s in confirmed] == ["confirmed", "confirmed"]

    r = sales(api, organizer, event)

    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["event_id"] == event["id"]
    floor, balcony = body["tiers"]
    assert floor == {"tier_id": event["tiers"][0]["id"], "name": "Floor", "currency": "EUR",
                     "price_cents": 1000, "capacity": 10, "sold": 3, "held": 0,
                     "available": 7, "charged_cents": 3000, "refunded_cents": 0,
                     "revenue_cents": 3000}
    assert balcony == {"tier_id": event["tiers"][1]["id"], "name": "Balcony", "currency": "EUR",
                       "price_cents": 2500, "capacity": 4, "sold": 2, "held": 0,
                       "available": 2, "charged_cents": 7500, "refunded_cents": 2500,
                       "revenue_cents": 5000}


def _charge_pending(saga_id):
    return any(p[1:3] == ("charge", "pending") for p in payments_of([saga_id]))


def test_seats_of_an_unconfirmed_purchase_count_as_held(api, organizer):
    event, buyer = two_tier_event(api, organizer), api.user()
    slow = start(api, buyer, event, 0, 4, token="tok_visa_delay_3000")
    wait_for(lambda: _charge_pending(slow), timeout=60, what="the charge in flight")

    floor = sales(api, organizer, event).get_json()["tiers"][0]

    assert (floor["sold"], floor["held"], floor["available"]) == (0, 4, 6)
    assert wait_terminal([slow])[slow]["status"] == "confirmed"
    floor = sales(api, organizer, event).get_json()["tiers"][0]
    assert (floor["sold"], floor["held"], floor["available"]) == (4, 0, 6)


def test_only_the_events_organiser_staff_and_admins_see_its_sales(api, organizer):
    event = two_tier_event(api, organizer)
    for path in (f"/events/{event['id']}/sales", f"/events/{event['id']}/sagas"):
        assert api.call("GET", path, organizer["token"]).status_code == 200
        assert api.call("GET", path, api.user("staff")["token"]).status_code == 200
        assert api.call("GET", path, api.user("admin")["token"]).status_code == 200
        other = api.call("GET", path, api.user("organizer")["token"])
        assert other.status_code == 404 and other.get_json()["message"] == "no such event of yours"
        assert api.call("GET", path, api.user()["token"]).status_code == 404
    missing = api.call("GET", "/events/00000000-0000-4000-8000-000000000000/sales",
                       organizer["token"])
    assert missing.status_code == 404


def test_an_events_purchases_are_listed_by_page_and_filtered_by_status(api, organizer):
    event, other_event = two_tier_event(api, organizer), two_tier_event(api, organizer)
    buyers = [api.user(), api.user()]
    ok = [start(api, buyers[i % 2], event, 0, 1) for i in range(3)]
    declined = start(api, buyers[0], event, 0, 1, token="tok_chargeDeclined")
    elsewhere = start(api, buyers[0], other_event, 0, 1)
    wait_terminal([*ok, declined, elsewhere])
    path = f"/events/{event['id']}/sagas"

    first = api.call("GET", path, organizer["token"], query_string={"limit": 3}).get_json()
    rest = api.call("GET", path, organizer["token"],
                    query_string={"limit": 3, "cursor": first["next_cursor"]}).get_json()
    canceled = api.call("GET", path, organizer["token"],
                        query_string={"status": "canceled"}).get_json()

    listed = [s["id"] for s in first["items"] + rest["items"]]
    assert sorted(listed) == sorted([*ok, declined]) and rest["next_cursor"] is None
    assert [(s["id"], s["reason"]) for s in canceled["items"]] == [(declined, "payment_declined")]
    assert all(s["payment"]["charged_cents"] == 1000 and len(s["tickets"]) == 1
               for s in first["items"] + rest["items"] if s["status"] == "confirmed")
    bad = api.call("GET", path, organizer["token"], query_string={"status": "nope"})
    assert bad.status_code == 422
