"""Every saga that ends publishes SagaCompleted through the outbox; the users worker turns
it into exactly one notification for the buyer, whatever the number of deliveries."""
import uuid

import pytest
from sqlalchemy import select

from contracts import SagaCompletedBatch
from harness.processes import wait_for
from settings import FAIL_CONFIRM_TIER
from tests.integration.conftest import recorded_purchase, wait_terminal
from workers.celery_app import app
from workers.db import transaction
from workers.orchestration.models import OutboxMessage

pytestmark = pytest.mark.usefixtures("worker_processes")


def notifications(api, user, **query):
    r = api.call("GET", "/users/me/notifications", user["token"], query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def notified(api, user, count):
    """The buyer's notifications, once there are ``count`` of them."""
    return wait_for(lambda: (lambda items: items if len(items) >= count else None)(
        notifications(api, user, limit=200)["items"]), timeout=60,
        what=f"{count} notification(s)")


def completed_events(saga_id) -> list[dict]:
    with transaction() as s:
        return [m.payload for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.saga_id == uuid.UUID(str(saga_id)), OutboxMessage.kind == "completed"))]


def buy(api, buyer, event, **kw):
    saga_id = api.start(buyer, event, **kw).get_json()["saga_id"]
    return wait_terminal([saga_id])[saga_id]


def test_a_confirmed_purchase_tells_its_buyer_their_tickets_once(api, organizer):
    event, buyer = api.event(organizer, price_cents=2000), api.user()
    saga = buy(api, buyer, event, quantity=2)
    tickets = api.call("GET", f"/sagas/{saga['id']}", buyer["token"]).get_json()["tickets"]

    [note] = notified(api, buyer, 1)

    assert (note["saga_id"], note["status"], note["reason"]) == (str(saga["id"]), "confirmed", None)
    assert note["subject"] == "Your tickets"
    assert sorted(note["ticket_ids"]) == sorted(t["id"] for t in tickets)
    assert (note["amount_cents"], note["currency"]) == (4000, "EUR")
    [event_sent] = completed_events(saga["id"])
    assert event_sent["contract"] == "SagaCompleted" and event_sent["status"] == "confirmed"


@pytest.mark.parametrize("token, quantity, reason", [
    ("tok_chargeDeclined", 1, "payment_declined"),   # compensated after a reserve
    ("tok_visa", 2, "sold_out"),                     # canceled before anything was held
])
def test_a_canceled_purchase_tells_its_buyer_why_once(api, organizer, token, quantity, reason):
    event, buyer = api.event(organizer, capacity=1), api.user()
    saga = buy(api, buyer, event, quantity=quantity, token=token)
    assert (saga["status"], saga["reason"]) == ("canceled", reason)

    [note] = notified(api, buyer, 1)

    assert (note["status"], note["reason"], note["ticket_ids"]) == ("canceled", reason, [])
    assert note["subject"] == f"Your purchase was canceled: {reason}"
    assert len(completed_events(saga["id"])) == 1


def test_a_purchase_compensated_after_its_charge_tells_its_buyer_once(api, organizer):
    event = api.event(organizer, tier_name=FAIL_CONFIRM_TIER)
    buyer = api.user()
    saga = buy(api, buyer, event, quantity=2)
    assert (saga["status"], saga["reason"]) == ("canceled", "confirm_failed")

    [note] = notified(api, buyer, 1)

    assert (note["status"], note["reason"]) == ("canceled", "confirm_failed")
    assert "refunded" in note["body"]
    assert len(completed_events(saga["id"])) == 1


def test_a_duplicated_saga_completed_makes_one_notification(api, organizer, worker_processes):
    event, buyer = api.event(organizer), api.user()
    saga = buy(api, buyer, event)
    [original] = notified(api, buyer, 1)
    [payload] = completed_events(saga["id"])

    sent = [app.send_task("users.saga_completed", args=(payload,)).id for _ in range(2)]
    wait_for(lambda: all(f"[{task_id}] succeeded" in worker_processes["users"].log_text()
                         for task_id in sent), timeout=60, what="both duplicates to be handled")

    assert notifications(api, buyer)["items"] == [original]


def test_a_batch_delivered_twice_makes_one_notification_per_saga(api, organizer,
                                                                  worker_processes):
    event, buyer = api.event(organizer, capacity=2), api.user()
    sagas = [buy(api, buyer, event) for _ in range(2)]
    originals = notified(api, buyer, 2)
    payloads = [p for saga in sagas for p in completed_events(saga["id"])]

    batch = SagaCompletedBatch.build(events=payloads + payloads)
    sent = [app.send_task("users.sagas_completed", args=(batch,)).id for _ in range(2)]
    wait_for(lambda: all(f"[{task_id}] succeeded" in worker_processes["users"].log_text()
                         for task_id in sent), timeout=60, what="both batches to be handled")

    assert notifications(api, buyer, limit=200)["items"] == originals


def test_each_buyer_sees_only_their_own_notifications_a_page_at_a_time(api, organizer):
    event, buyer = api.event(organizer, capacity=10), api.user()
    sagas = [buy(api, buyer, event) for _ in range(3)]
    notified(api, buyer, 3)

    first = notifications(api, buyer, limit=2)
    second = notifications(api, buyer, limit=2, cursor=first["next_cursor"])

    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert second["next_cursor"] is None
    seen = [n["saga_id"] for n in first["items"] + second["items"]]
    assert sorted(seen) == sorted(str(s["id"]) for s in sagas)
    assert notifications(api, api.user())["items"] == []


def test_a_confirmed_purchase_canceled_with_its_event_tells_the_buyer_twice(api, organizer):
    event, buyer = api.event(organizer), api.user()
    saga = buy(api, buyer, event)
    notified(api, buyer, 1)

    api.call("POST", f"/events/{event['id']}/cancel", organizer["token"])
    notes = notified(api, buyer, 2)

    assert [(n["status"], n["reason"]) for n in notes] == [("canceled", "event_canceled"),
                                                           ("confirmed", None)]
    assert {n["saga_id"] for n in notes} == {str(saga["id"])}


def test_a_saga_completed_is_relayed_by_beat_in_a_batch_and_marked_sent(api, organizer,
                                                                         monkeypatch):
    from workers.orchestration.completion import finished
    from workers.orchestration.models import Saga
    from workers.users.notifications import notifications_of

    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    with transaction() as s:  # ended, its event written and never published on its own
        saga = s.get(Saga, saga_id)
        saga.status, saga.reason = "canceled", "operator_canceled"
        finished(s, saga, "canceled", saga.reason)
        user_id = saga.user_id

    [note] = wait_for(lambda: notifications_of(user_id, limit=5), timeout=60,
                      what="the relayed event's notification")

    assert (note["saga_id"], note["status"], note["reason"]) == \
        (saga_id, "canceled", "operator_canceled")
    assert all(m is not None for m in _sent_at_of_completed(saga_id))


def _sent_at_of_completed(saga_id):
    with transaction() as s:
        return list(s.scalars(select(OutboxMessage.sent_at).where(
            OutboxMessage.saga_id == saga_id, OutboxMessage.kind == "completed")))


def test_a_failed_saga_retried_to_canceled_tells_its_buyer_each_time(api, organizer, monkeypatch):
    from datetime import timedelta


    from workers.orchestration import service, watchdog
    from workers.orchestration.models import Saga
    from workers.steps import utcnow
    from workers.users.notifications import notifications_of

    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    with transaction() as s:  # a compensation that made no progress past its budget
        saga = s.get(Saga, saga_id)
        saga.status, saga.reason, saga.redrives = "compensating", "timed_out", 3
        saga.updated_at = utcnow() - timedelta(hours=1)
        user_id = saga.user_id
    watchdog.redrive_overdue()
    [failed] = wait_for(lambda: notifications_of(user_id, limit=5), timeout=60,
                        what="the failed saga's notification")

    service.retry(saga_id)
    notes = wait_for(lambda: (lambda n: n if len(n) == 2 else None)(
        notifications_of(user_id, limit=5)), timeout=60, what="the canceled saga's notification")

    assert (failed["status"], failed["subject"]) == ("failed", "Your purchase could not be completed")
    assert [(n["status"], n["reason"]) for n in notes] == [("canceled", "timed_out"),
                                                           ("failed", "timed_out")]
    assert sorted(p["status"] for p in completed_events(saga_id)) == ["canceled", "failed"]
