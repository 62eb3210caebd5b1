"""Messages that follow a commit survive a broker outage: the request is answered, the
message waits in the outbox, and arrives once the broker is back.

The module runs a stack of its own: a RabbitMQ node of its own (stopped and started by
the tests), a fresh database, a worker process per queue and beat against them, and the
in-process gateway pointed at both. Its own database keeps the run's other workers (on
the shared RabbitMQ) from relaying these messages for it.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

from harness import services
from harness.environment import child_env
from harness.processes import Beat, Worker, wait_for
from harness.servers import ThrowawayRabbit, throwaway_servers_missing
from tests.integration.conftest import QUEUES, Api, wait_terminal

pytestmark = pytest.mark.skipif(throwaway_servers_missing() is not None,
                                reason=str(throwaway_servers_missing()))


@contextmanager
def this_process_on(database_url: str, broker_url: str):
    """The gateway and services of this process use these servers inside the block."""
    import settings
    from workers.bootstrap import bootstrap
    from workers.celery_app import app as celery

    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "CELERY_BROKER_URL")}
    saved_broker = celery.conf.broker_url

    def point(database, broker):
        for name, value in (("DATABASE_URL", database), ("CELERY_BROKER_URL", broker)):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.reset_settings()
        bootstrap()  # this process's root again, on these servers
        celery.conf.broker_url = broker
        celery._pool = None  # publish through connections to this broker
        celery.amqp._producer_pool = None

    point(database_url, broker_url)
    try:
        yield
    finally:
        point(saved["DATABASE_URL"], saved["CELERY_BROKER_URL"])
        celery.conf.broker_url = saved_broker


@pytest.fixture(scope="module")
def broker():
    rabbit = ThrowawayRabbit()
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.close()


@pytest.fixture(scope="module")
def stack(broker, var_dir):
    """Workers and beat (relaying every second) on the module's broker and database."""
    from api.cli import migrate

    # a database of its own (no vhost: the broker is the module's own)
    own = services.TestServices(database=f"boxoffice_test_{uuid.uuid4().hex[:10]}", vhost="")
    services._admin_sql(f'CREATE DATABASE "{own.database}"')
    log_dir = var_dir / "outbox-outage"
    log_dir.mkdir(exist_ok=True)
    env = child_env(DATABASE_URL=own.database_url, CELERY_BROKER_URL=broker.url,
                    CELERY_OUTBOX_RELAY_SECONDS="1", STEP_RETRY_BACKOFF_MAX="2")
    processes = []
    try:
        with this_process_on(own.database_url, broker.url):
            migrate()
            processes = [Worker(q, env, log_dir, concurrency=1).start() for q in QUEUES]
            processes.append(Beat(env, log_dir).start())
            for p in processes:
                p.wait_ready()
            yield
    finally:
        for p in processes:  # all at once: each takes a moment to shut down warmly
            if p.alive:
                p.proc.terminate()
        for p in processes:
            p.stop()
        services._admin_sql(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')


def buy(api, organizer) -> tuple[dict, dict, str]:
    """A confirmed purchase of one seat: ``(event, buyer, saga_id)``."""
    event, buyer = api.event(organizer), api.user()
    r = api.start(buyer, event)
    assert r.status_code == 202, r.get_json()
    saga_id = r.get_json()["saga_id"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"
    return event, buyer, saga_id


def unsent(task: str) -> int:
    from sqlalchemy import func, select

    from workers.db import transaction
    from workers.outbox import OutboxTask

    with transaction() as s:
        return s.scalar(select(func.count()).select_from(OutboxTask)
                        .where(OutboxTask.task == task, OutboxTask.sent_at.is_(None)))


@pytest.fixture(scope="module")
def outage(app, stack, broker):
    """One broker outage: an account is closed, an event canceled and a ticket checked in
    while the broker is stopped. What each request answered, what stood unsent, and the
    records to watch once the broker is back."""
    from workers import outbox
    from workers.orchestration import service
    from workers.tickets import codes
    from workers.users.service import create_api_key

    api = Api(app.test_client(use_cookies=False), create_api_key(f"outage-{uuid.uuid4().hex[:8]}"))
    organizer, leaving, staff = api.user("organizer"), api.user(), api.user("staff")
    canceled_event, _, canceled_saga = buy(api, organizer)
    door_event, buyer, _ = buy(api, organizer)
    [ticket] = api.call("GET", "/tickets", buyer["token"]).get_json()["items"]

    broker.stop()
    try:
        answers = {
            "close": api.call("DELETE", "/users/me", leaving["token"]),
            "cancel": api.call("POST", f"/events/{canceled_event['id']}/cancel",
                               organizer["token"]),
            "checkin": api.call("POST", "/checkin", staff["token"],
                                json={"code": codes.new_code(uuid.UUID(ticket["id"]))}),
        }
        waiting = {task: unsent(task) for task in (
            "users.anonymise", "orchestration.cancel_event_sagas", "tickets.ticket_used")}
    finally:
        broker.start()
        # this process gave up publishing for a while when the broker went away
        outbox._broker_down_until = service._broker_down_until = 0.0
    return {"api": api, "answers": answers, "unsent": waiting, "user": leaving,
            "event": canceled_event, "saga_id": canceled_saga, "door_event": door_event}


def test_an_account_closed_while_the_broker_is_down_is_anonymised_after(outage):
    from workers.db import transaction
    from workers.users.models import User

    assert outage["answers"]["close"].status_code == 204
    assert outage["unsent"]["users.anonymise"] == 1

    def scrubbed():
        with transaction() as s:
            row = s.get(User, uuid.UUID(outage["user"]["id"]))
            return row.email.startswith("deleted-") and row.name == ""

    wait_for(scrubbed, timeout=60, interval=0.2, what="the account to be anonymised")
    assert unsent("users.anonymise") == 0


def test_an_event_canceled_while_the_broker_is_down_cancels_its_purchases_after(outage):
    from workers.orchestration.queries import get_saga

    answer = outage["answers"]["cancel"]
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["status"] == "canceled"
    assert outage["unsent"]["orchestration.cancel_event_sagas"] == 1

    def canceled():
        saga = get_saga(uuid.UUID(outage["saga_id"]))
        return saga if saga["status"] == "canceled" else None

    saga = wait_for(canceled, timeout=60, interval=0.2, what="the purchase to be canceled")
    assert saga["reason"] == "event_canceled"
    event = outage["event"]
    assert outage["api"].available(event) == event["tiers"][0]["capacity"]


def test_a_ticket_checked_in_while_the_broker_is_down_is_counted_after(outage):
    from workers.tickets import checkin

    answer = outage["answers"]["checkin"]
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "used"
    assert outage["unsent"]["tickets.ticket_used"] == 1

    event_id = uuid.UUID(outage["door_event"]["id"])
    wait_for(lambda: checkin.arrivals(event_id) == 1, timeout=60, interval=0.2,
             what="the arrival to be counted")
