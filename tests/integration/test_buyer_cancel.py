"""A buyer cancels an unfinished purchase: it is refunded if charged, its seats released,
and it ends canceled as buyer_canceled; a confirmed one cannot be canceled."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from celery import chain
from sqlalchemy import func, select

from contracts import ChargePayment, ReserveSeats
from harness.processes import wait_for
from tests.integration.conftest import payments_of, recorded_purchase, wait_terminal
from workers.celery_app import app
from workers.db import transaction
from workers.orchestration.models import OutboxMessage
from workers.orchestration.queries import get_saga
from workers.tickets.queries import tickets_of_saga

pytestmark = pytest.mark.usefixtures("worker_processes")


def cancel(api, user, saga_id):
    return api.call("POST", f"/sagas/{saga_id}/cancel", user["token"])


def wait_status(saga_id, status):
    return wait_for(lambda: get_saga(uuid.UUID(str(saga_id)))["status"] == status, timeout=60,
                    what=f"saga {saga_id} to be {status}")


def money(saga_id):
    return sorted(p[1:] for p in payments_of([saga_id]))


def owner_of(api, saga_id):
    """A logged-in session of the buyer who owns the saga (made with ``recorded_purchase``)."""
    from api.auth import issue_tokens
    from workers.users.service import get_user

    user = get_user(get_saga(saga_id)["user_id"])
    with api.client.application.test_request_context():
        return {"id": str(user["id"]), "token": issue_tokens(user)["access_token"]}


def test_a_pending_purchase_is_canceled_without_a_charge_and_takes_no_seats(
        api, organizer, monkeypatch):
    event, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    buyer = owner_of(api, saga_id)

    r = cancel(api, buyer, saga_id)
    saga = wait_terminal([saga_id])[str(saga_id)]

    assert r.status_code == 202 and r.get_json()["status"] == "compensating"
    assert (saga["status"], saga["reason"]) == ("canceled", "buyer_canceled")
    assert [p for p in payments_of([saga_id]) if p[2] == "succeeded"] == []
    assert api.available(event) == 4


def test_a_charged_unconfirmed_purchase_is_refunded_once_and_its_seats_released(
        api, organizer, monkeypatch):
    event, saga_id = _paid_but_not_confirmed(api, organizer, monkeypatch)
    buyer = owner_of(api, saga_id)
    assert api.available(event) == 2

    r = cancel(api, buyer, saga_id)
    saga = wait_terminal([saga_id])[str(saga_id)]

    assert r.status_code == 202
    assert (saga["status"], saga["reason"]) == ("canceled", "buyer_canceled")
    assert money(saga_id) == [("charge", "succeeded", 3000), ("refund", "succeeded", 3000)]
    body = api.call("GET", f"/sagas/{saga_id}", buyer["token"]).get_json()
    assert body["payment"] == {"status": "refunded", "charged_cents": 3000, "refunded_cents": 3000}
    assert body["tickets"] == []
    assert api.available(event) == 4


def _paid_but_not_confirmed(api, organizer, monkeypatch):
    """A purchase of 2 seats whose reserve and charge ran on the workers but whose confirm
    was never sent: the saga waits as ``paid``."""
    event, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    saga = get_saga(saga_id)
    reserve = app.signature("tickets.reserve_seats", args=(ReserveSeats.build(
        saga_id=saga_id, user_id=saga["user_id"], event_id=saga["event_id"],
        tier_id=saga["tier_id"], quantity=saga["quantity"]),))
    reserve.link(app.signature("orchestration.record_step"))
    charge = app.signature("payments.charge", args=(ChargePayment.build(
        saga_id=saga_id, payment_token="tok_visa"),))
    charge.link(app.signature("orchestration.record_step"))
    chain(reserve, charge).apply_async()
    wait_status(saga_id, "paid")
    return event, saga_id


def test_a_confirmed_purchase_cannot_be_canceled(api, organizer):
    event, buyer = api.event(organizer), api.user()
    saga_id = api.start(buyer, event).get_json()["saga_id"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"

    r = cancel(api, buyer, saga_id)

    assert r.status_code == 409
    assert set(r.get_json()) == {"code", "status", "message", "errors"}
    assert get_saga(uuid.UUID(saga_id))["status"] == "confirmed"
    assert money(saga_id) == [("charge", "succeeded", 1500)]


def test_canceling_twice_compensates_once_and_answers_the_saga(api, organizer, monkeypatch):
    event, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    buyer = owner_of(api, saga_id)

    first = cancel(api, buyer, saga_id)
    again_at_once = cancel(api, buyer, saga_id)
    wait_terminal([saga_id])
    after_the_end = cancel(api, buyer, saga_id)

    assert first.status_code == 202
    assert (again_at_once.status_code, again_at_once.get_json()["status"]) in \
        ((202, "compensating"), (200, "canceled"))  # the compensation may have finished
    assert after_the_end.status_code == 200
    assert (after_the_end.get_json()["status"], after_the_end.get_json()["reason"]) == \
        ("canceled", "buyer_canceled")
    with transaction() as s:
        sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.saga_id == saga_id, OutboxMessage.kind == "compensate"))
    assert sent == 1
    assert api.available(event) == 4


def test_only_the_buyer_or_an_admin_may_cancel(api, organizer, monkeypatch):
    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)

    assert cancel(api, api.user(), saga_id).status_code == 404
    assert cancel(api, organizer, saga_id).status_code == 404
    assert cancel(api, api.user(), uuid.uuid4()).status_code == 404
    assert get_saga(saga_id)["status"] == "pending"
    assert cancel(api, api.user("admin"), saga_id).status_code == 202
    assert wait_terminal([saga_id])[str(saga_id)]["reason"] == "buyer_canceled"


def test_a_cancel_racing_the_charge_refunds_it_once_and_issues_no_valid_ticket(api, organizer):
    event, buyer = api.event(organizer, capacity=5, price_cents=1000), api.user()
    saga_id = api.start(buyer, event, quantity=3, token="tok_visa_delay_2500").get_json()["saga_id"]
    wait_for(lambda: ("charge", "pending", 3000) in money(saga_id), timeout=60,
             what="the charge to be in flight")

    r = cancel(api, buyer, saga_id)
    saga = wait_terminal([saga_id])[saga_id]

    assert r.status_code == 202
    assert (saga["status"], saga["reason"]) == ("canceled", "buyer_canceled")
    assert money(saga_id) == [("charge", "succeeded", 3000), ("refund", "succeeded", 3000)]
    # the charge, settled after the cancel, stopped the purchase: no ticket was ever issued
    assert tickets_of_saga(uuid.UUID(saga_id)) == []
    steps = {s["name"]: s["status"] for s in saga["steps"]}
    assert steps["charge"] == "failed" and "confirm" not in steps
    assert api.available(event) == 5


def test_cancels_at_any_moment_keep_every_charged_canceled_purchase_refunded_once(api, organizer):
    event, buyer = api.event(organizer, capacity=40, price_cents=500), api.user()
    tokens = ["tok_visa", "tok_visa_delay_300", "tok_visa_delay_800", "tok_visa_delay_1500"]
    saga_ids = [api.start(buyer, event, token=tokens[i % 4]).get_json()["saga_id"]
                for i in range(12)]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda sid: cancel(api, buyer, sid).status_code, saga_ids))
    sagas = wait_terminal(saga_ids)

    assert set(answers) <= {200, 202, 409}
    for sid, answer in zip(saga_ids, answers):
        saga, paid = sagas[sid], money(sid)
        if answer == 409:
            assert saga["status"] == "confirmed" and paid == [("charge", "succeeded", 500)]
            continue
        assert (saga["status"], saga["reason"]) == ("canceled", "buyer_canceled")
        charged = [p for p in paid if p[:2] == ("charge", "succeeded")]
        refunds = [p for p in paid if p[0] == "refund"]
        assert refunds == [("refund", "succeeded", 500)] * len(charged), (sid, paid)
        assert all(t["status"] == "void" for t in tickets_of_saga(uuid.UUID(sid)))
    confirmed = sum(s["status"] == "confirmed" for s in sagas.values())
    assert api.available(event) == 40 - confirmed
