"""A message that kills its worker every time is dead-lettered after the queue's
delivery limit, instead of looping forever; the saga still ends."""
import uuid

from kombu import Connection
from sqlalchemy import update

from settings import CRASH_CONFIRM_TIER
from tests.integration.conftest import payments_of, wait_terminal
from harness.processes import wait_for
from workers import runtime
from workers.db import transaction
from workers.orchestration import watchdog
from workers.orchestration.models import Saga
from workers.steps import utcnow


def dead_letters(queue) -> int:
    from workers import app

    with Connection(app.conf.broker_url) as conn:
        return conn.default_channel.queue_declare(f"{queue}.dead", passive=True).message_count


def test_a_message_that_kills_its_worker_is_dead_lettered_and_the_saga_compensated(
        api, organizer, worker_processes):
    event = api.event(organizer, capacity=5, tier_name=CRASH_CONFIRM_TIER)
    before = dead_letters("tickets")
    limit = runtime.settings().queue_delivery_limit

    saga_id = api.start(api.user(), event, quantity=2).get_json()["saga_id"]
    wait_for(lambda: dead_letters("tickets") == before + 1, timeout=120,
             what=f"the confirm to be dead-lettered after {limit} deliveries")
    assert worker_processes["tickets"].alive
    assert worker_processes["tickets"].log_text().count("WorkerLostError") >= limit

    with transaction() as s:  # the watchdog's budget spent: it compensates
        s.execute(update(Saga).where(Saga.id == uuid.UUID(saga_id))
                  .values(updated_at=utcnow().replace(year=2000), redrives=3))
    watchdog.redrive_overdue()
    saga = wait_terminal([saga_id])[saga_id]

    assert (saga["status"], saga["reason"]) == ("canceled", "timed_out")
    assert sorted(p[1] for p in payments_of([saga_id])) == ["charge", "refund"]
    assert api.available(event) == 5
