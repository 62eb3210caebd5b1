"""`celery -A workers saga dlq ...` on the real broker: list, show, replay, purge."""
import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Producer
from sqlalchemy import update

from celeryconfig import DEAD_LETTER_EXCHANGE
from harness.environment import child_env
from harness.processes import ROOT, wait_for
from settings import CRASH_CONFIRM_TIER
from tests.integration.conftest import recorded_purchase, wait_terminal
from workers.db import transaction
from workers.orchestration import canvas
from workers.orchestration.models import Saga
from workers.tickets.models import Tier

pytestmark = pytest.mark.usefixtures("worker_processes")


def dlq(*args):
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "workers", "saga", "dlq", *args],
                          cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def depth(queue) -> int:
    from workers import app

    with Connection(app.conf.broker_url) as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count


def dead_letter(routing_key: str, body: bytes, task: str) -> str:
    """Publish straight to the dead-letter exchange, as RabbitMQ does on a reject."""
    from workers import app

    task_id = str(uuid.uuid4())
    with Connection(app.conf.broker_url) as conn:
        Producer(conn.default_channel, exchange=DEAD_LETTER_EXCHANGE).publish(
            body, routing_key=routing_key, content_type="application/json",
            content_encoding="utf-8", headers={"task": task, "id": task_id})
    return task_id


def test_list_show_and_purge_a_malformed_message_that_replay_keeps_dead():
    dlq("purge", "users", "--yes")
    bad = dead_letter("users", b"{not json", "users.anonymise")
    wait_for(lambda: depth("users.dead") == 1, timeout=10, what="the dead letter")

    listed = dlq("list")
    shown = dlq("show", "users.dead", "5")
    replayed = dlq("replay", "users", "--all")

    assert "users.dead" in listed and any(
        line.split() == ["users.dead", "1"] for line in listed.splitlines())
    assert bad in shown and "invalid: undecodable body" in shown
    assert f"kept {bad} in users.dead" in replayed and "0 replayed, 1 left dead" in replayed
    assert depth("users.dead") == 1
    assert "purged 1 message(s) from users.dead" in dlq("purge", "users.dead", "--yes")
    assert depth("users.dead") == 0


def test_replay_of_a_valid_dead_letter_completes_its_saga(api, organizer, monkeypatch):
    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    with transaction() as s:  # the purchase's first message, dead-lettered instead of run
        flow = canvas.purchase(s.get(Saga, saga_id))
    before = depth("tickets.dead")
    flow.apply_async(exchange=DEAD_LETTER_EXCHANGE.name, routing_key="tickets")
    wait_for(lambda: depth("tickets.dead") == before + 1, timeout=10, what="the dead letter")
    task_id = next(line.split()[0] for line in dlq("show", "tickets", "100").splitlines()
                   if "tickets.reserve_seats" in line and line.endswith("  valid"))

    out = dlq("replay", "tickets", task_id)

    assert f"replayed {task_id} (tickets.reserve_seats) to tickets" in out
    assert wait_terminal([saga_id])[str(saga_id)]["status"] == "confirmed"
    assert depth("tickets.dead") == before


def test_a_message_dead_lettered_after_the_delivery_limit_is_replayed_once_fixed(
        api, organizer, worker_processes):
    event = api.event(organizer, capacity=5, tier_name=CRASH_CONFIRM_TIER)
    before = depth("tickets.dead")
    saga_id = api.start(api.user(), event, quantity=2).get_json()["saga_id"]
    wait_for(lambda: depth("tickets.dead") == before + 1, timeout=150,
             what="the confirm to be dead-lettered after the delivery limit")
    shown = dlq("show", "tickets", "100")
    line = next(x for x in shown.splitlines() if "tickets.confirm_seats" in x and x.endswith("  valid"))
    assert "reason=delivery_limit" in line
    with transaction() as s:  # the cause is fixed: the tier no longer crashes its worker
        s.execute(update(Tier).where(Tier.event_id == uuid.UUID(event["id"])).values(name="Fixed"))

    out = dlq("replay", "tickets", "--all")

    assert "tickets.confirm_seats" in out and "replayed" in out
    assert wait_terminal([saga_id], timeout=90)[saga_id]["status"] == "confirmed"
    assert api.available(event) == 3
