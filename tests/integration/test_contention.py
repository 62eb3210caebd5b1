"""Many buyers at once for few seats: nothing oversold, nobody charged twice."""
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import payments_of, wait_terminal

pytestmark = pytest.mark.usefixtures("worker_processes")


def test_200_buyers_for_50_seats_end_with_exactly_50_confirmed(api, organizer):
    event = api.event(organizer, capacity=50, price_cents=1000)
    buyers = [api.user() for _ in range(20)]

    def start(i):
        r = api.start(buyers[i % len(buyers)], event, quantity=1)
        assert r.status_code == 202, r.get_json()
        return r.get_json()["saga_id"]

    with ThreadPoolExecutor(8) as pool:
        saga_ids = list(pool.map(start, range(200)))
    sagas = wait_terminal(saga_ids, timeout=180).values()

    outcomes = sorted((s["status"], s["reason"]) for s in sagas)
    assert outcomes.count(("confirmed", None)) == 50
    assert outcomes.count(("canceled", "sold_out")) == 150
    payments = payments_of(saga_ids)
    charges = [p for p in payments if p[1] == "charge" and p[2] == "succeeded"]
    assert len(charges) == 50 and len({p[0] for p in charges}) == 50
    assert [p for p in payments if p[1] == "refund"] == []
    confirmed = {str(s["id"]) for s in sagas if s["status"] == "confirmed"}
    assert {str(p[0]) for p in charges} == confirmed
    assert api.available(event) == 0


def test_buyers_of_1_to_4_seats_never_oversell_and_sold_out_means_too_few_left(api, organizer):
    rng = random.Random(20261125)
    event = api.event(organizer, capacity=60, price_cents=500)
    buyers = [api.user() for _ in range(10)]
    quantities = [rng.randint(1, 4) for _ in range(150)]

    def start(i):
        r = api.start(buyers[i % len(buyers)], event, quantity=quantities[i])
        assert r.status_code == 202, r.get_json()
        return r.get_json()["saga_id"]

    with ThreadPoolExecutor(8) as pool:
        saga_ids = list(pool.map(start, range(len(quantities))))
    sagas = list(wait_terminal(saga_ids, timeout=180).values())

    sold = sum(s["quantity"] for s in sagas if s["status"] == "confirmed")
    left = 60 - sold
    assert 0 <= left < 4  # no oversell; and enough demand to (nearly) sell out
    assert {(s["status"], s["reason"]) for s in sagas} <= {("confirmed", None),
                                                           ("canceled", "sold_out")}
    assert all(s["quantity"] > left for s in sagas if s["status"] == "canceled")
    charges = [p for p in payments_of(saga_ids) if p[1] == "charge" and p[2] == "succeeded"]
    assert len(charges) == len({p[0] for p in charges}) == sum(s["status"] == "confirmed" for s in sagas)
    assert sum(p[3] for p in charges) == sold * 500
    assert api.available(event) == left
