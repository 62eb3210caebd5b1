"""A purchase end to end on RabbitMQ and PostgreSQL, a worker process per queue."""
import pytest

from settings import FAIL_CONFIRM_TIER, get_settings
from tests.integration.conftest import payments_of, wait_terminal

pytestmark = pytest.mark.usefixtures("worker_processes")


def buy(api, organizer, *, quantity=2, token="tok_visa", capacity=10, tier_name="General"):
    event = api.event(organizer, capacity=capacity, price_cents=1500, tier_name=tier_name)
    buyer = api.user()
    r = api.start(buyer, event, quantity=quantity, token=token)
    assert r.status_code == 202, r.get_json()
    saga_id = r.get_json()["saga_id"]
    assert r.headers["Location"] == f"/sagas/{saga_id}"
    wait_terminal([saga_id])
    saga = api.call("GET", f"/sagas/{saga_id}", buyer["token"]).get_json()
    return event, saga


def test_tok_visa_confirms_with_tickets_and_one_charge(api, organizer):
    event, saga = buy(api, organizer, quantity=2)

    assert saga["status"] == "confirmed" and saga["reason"] is None
    assert [s["name"] for s in saga["steps"]] == ["reserve", "charge", "confirm"]
    assert all(s["status"] == "succeeded" and s["finished_at"] for s in saga["steps"])
    assert len(saga["tickets"]) == 2 and len({t["code"] for t in saga["tickets"]}) == 2
    assert saga["amount_cents"] == 3000 and saga["currency"] == "EUR"
    assert saga["payment"] == {"status": "charged", "charged_cents": 3000, "refunded_cents": 0}
    assert [p[1:] for p in payments_of([saga["id"]])] == [("charge", "succeeded", 3000)]
    assert api.available(event) == 8


def test_declined_card_cancels_releases_the_seats_and_charges_nothing(api, organizer):
    event, saga = buy(api, organizer, token="tok_chargeDeclined")

    assert (saga["status"], saga["reason"]) == ("canceled", "payment_declined"), saga
    assert saga["tickets"] == []
    assert saga["payment"]["charged_cents"] == 0
    assert not [p for p in payments_of([saga["id"]]) if p[2] == "succeeded"]
    assert api.available(event) == 10


def test_insufficient_funds_is_its_own_reason(api, organizer):
    event, saga = buy(api, organizer, token="tok_chargeDeclinedInsufficientFunds")

    assert (saga["status"], saga["reason"]) == ("canceled", "insufficient_funds")
    assert api.available(event) == 10


def test_more_seats_than_left_cancels_as_sold_out_without_a_charge(api, organizer):
    event, saga = buy(api, organizer, quantity=5, capacity=4)

    assert (saga["status"], saga["reason"]) == ("canceled", "sold_out")
    assert payments_of([saga["id"]]) == []
    assert api.available(event) == 4


def test_failure_at_confirm_refunds_and_releases(api, organizer):
    event, saga = buy(api, organizer, quantity=3, tier_name=FAIL_CONFIRM_TIER)

    assert (saga["status"], saga["reason"]) == ("canceled", "confirm_failed")
    steps = {s["name"]: s["status"] for s in saga["steps"]}
    assert steps == {"reserve": "succeeded", "charge": "succeeded", "confirm": "failed",
                     "refund": "succeeded", "release": "succeeded"}
    assert saga["tickets"] == []
    assert saga["payment"] == {"status": "refunded", "charged_cents": 4500, "refunded_cents": 4500}
    kinds = sorted((p[1], p[2], p[3]) for p in payments_of([saga["id"]]))
    assert kinds == [("charge", "succeeded", 4500), ("refund", "succeeded", 4500)]
    assert api.available(event) == 10


def test_a_processor_that_keeps_failing_is_retried_then_compensated(api, organizer):
    event, saga = buy(api, organizer, token="tok_processingError")

    assert (saga["status"], saga["reason"]) == ("canceled", "payment_unavailable"), saga
    charge = next(s for s in saga["steps"] if s["name"] == "charge")
    # retried, but only for the retry budget (CHARGE_RETRY_BUDGET_SECONDS), not for every
    # retry there is: the seats go back sooner
    assert charge["status"] == "failed" and "retry budget" in charge["error"], charge
    assert 2 <= charge["attempts"] < get_settings().step_max_retries + 1
    assert [p for p in payments_of([saga["id"]]) if p[2] == "succeeded"] == []
    assert api.available(event) == 10
