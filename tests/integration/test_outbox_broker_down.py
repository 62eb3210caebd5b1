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

from chaos.servers import ThrowawayRabbit, throwaway_servers_missing
from tests.integration.conftest import QUEUES, Api, wait_terminal
from tests.support import services
from tests.support.processes import Beat, Worker, child_env, wait_for

pytestmark = pytest.mark.skipif(throwaway_servers_missing() is not None,
                                reason=str(throwaway_servers_missing()))


@contextmanager
def this_process_on(database_url: str, broker_url: str):
    """The gateway and services of this process use these servers inside the block."""
    import settings
    from workers import db
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
        db.dispose_engine()
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

    own = services.provision()
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
        for p in processes:
            p.stop()
        services.drop(own)


@pytest.fixture
def api(app, stack):
    from workers.users.service import create_api_key

    return Api(app.test_client(use_cookies=False), create_api_key(f"outage-{uuid.uuid4().hex[:8]}"))


@contextmanager
def broker_stopped(broker):
    """The broker is down inside the block, and up (taking messages) again after it."""
    from workers import outbox
    from workers.orchestration import service

    broker.stop()
    try:
        yield
    finally:
        broker.start()
        # this process gave up publishing for a while when the broker went away
        outbox._broker_down_until = service._broker_down_until = 0.0


def unsent(task: str) -> int:
    from sqlalchemy import func, select

    from workers.db import transaction
    from workers.outbox import OutboxTask

    with transaction() as s:
        return s.scalar(select(func.count()).select_from(OutboxTask)
                        .where(OutboxTask.task == task, OutboxTask.sent_at.is_(None)))


def buy(api, organizer) -> tuple[dict, dict, str]:
    """A confirmed purchase of one seat: ``(event, buyer, saga_id)``."""
    event, buyer = api.event(organizer), api.user()
    r = api.start(buyer, event)
    assert r.status_code == 202, r.get_json()
    saga_id = r.get_json()["saga_id"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"
    return event, buyer, saga_id


def test_an_account_closed_while_the_broker_is_down_is_anonymised_after(api, broker):
    from workers.db import transaction
    from workers.users.models import User

    user = api.user()

    def scrubbed():
        with transaction() as s:
            row = s.get(User, uuid.UUID(user["id"]))
            return row.email.startswith("deleted-") and row.name == ""

    with broker_stopped(broker):
        r = api.call("DELETE", "/users/me", user["token"])
        assert r.status_code == 204, r.get_json()
        assert unsent("users.anonymise") == 1 and not scrubbed()

    wait_for(scrubbed, timeout=60, interval=0.2, what="the account to be anonymised")
    assert unsent("users.anonymise") == 0


def test_an_event_canceled_while_the_broker_is_down_cancels_its_purchases_after(
        api, broker, organizer):
    from workers.orchestration.queries import get_saga

    event, _, saga_id = buy(api, organizer)

    with broker_stopped(broker):
        r = api.call("POST", f"/events/{event['id']}/cancel", organizer["token"])
        assert r.status_code == 202, r.get_json()
        assert r.get_json()["status"] == "canceled"
        assert get_saga(uuid.UUID(saga_id))["status"] == "confirmed"

    def canceled():
        saga = get_saga(uuid.UUID(saga_id))
        return saga if saga["status"] == "canceled" else None

    saga = wait_for(canceled, timeout=60, interval=0.2, what="the purchase to be canceled")
    assert saga["reason"] == "event_canceled"
    assert api.available(event) == event["tiers"][0]["capacity"]


def test_a_ticket_checked_in_while_the_broker_is_down_is_counted_after(api, broker, organizer):
    from workers.tickets import checkin, codes

    event, buyer, _ = buy(api, organizer)
    [ticket] = api.call("GET", "/tickets", buyer["token"]).get_json()["items"]
    staff = api.user("staff")

    with broker_stopped(broker):
        r = api.call("POST", "/checkin", staff["token"],
                     json={"code": codes.new_code(uuid.UUID(ticket["id"]))})
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == "used"
        assert not checkin.arrivals(uuid.UUID(event["id"]))

    wait_for(lambda: checkin.arrivals(uuid.UUID(event["id"])) == 1, timeout=60, interval=0.2,
             what="the arrival to be counted")
