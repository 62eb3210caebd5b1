"""Operators drive sagas with `celery -A workers saga ...`."""
import json
import subprocess
import sys

import pytest

from tests.integration.conftest import payments_of, recorded_purchase, wait_terminal
from datetime import timedelta

from harness.environment import child_env
from harness.processes import ROOT, wait_for
from sqlalchemy import update

from workers.db import transaction
from workers.orchestration import canvas, service
from workers.orchestration.models import OutboxMessage, Saga
from workers.orchestration.queries import get_saga
from workers.steps import utcnow

pytestmark = pytest.mark.usefixtures("worker_processes")


def saga_cli(*args):
    return subprocess.run([sys.executable, "-m", "celery", "-A", "workers", "saga", *args],
                          cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60)


@pytest.fixture
def unsent_saga(api, organizer, monkeypatch):
    return recorded_purchase(api, organizer, monkeypatch, lost=False)


def test_compensate_cancels_a_pending_saga_and_a_late_purchase_takes_nothing(
        api, organizer, monkeypatch, worker_processes):
    event, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)

    done = saga_cli("compensate", str(saga_id))
    assert done.returncode == 0, done.stderr
    saga = wait_terminal([saga_id])[str(saga_id)]
    assert (saga["status"], saga["reason"]) == ("canceled", "operator_canceled")

    with transaction() as s:
        canvas.purchase(s.get(Saga, saga_id)).apply_async()  # arrives anyway, late
    def refused():  # one log line: this saga's reserve refused as HoldReleased
        return any("tickets.reserve_seats[" in line and str(saga_id) in line
                   and "raised expected: HoldReleased(" in line for line in worker_processes["tickets"].log_text().splitlines())

    try:
        wait_for(refused, timeout=30, what="the late reserve to be refused")
    except TimeoutError:
        lines = [ln for ln in worker_processes["tickets"].log_text().splitlines()
                 if str(saga_id) in ln]
        raise AssertionError("no line of this saga's refused reserve in:\n" + "\n".join(lines))
    assert api.available(event) == 4
    assert [p for p in payments_of([saga_id]) if p[2] == "succeeded"] == []
    assert get_saga(saga_id)["status"] == "canceled"


def test_retry_sends_a_lost_purchase_to_the_end(api, organizer, monkeypatch):
    # lost: its outbox message counts as sent, so beat's relay will not send it again
    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)

    done = saga_cli("retry", str(saga_id))

    assert done.returncode == 0 and "purchase re-sent" in done.stdout, done.stderr
    assert wait_terminal([saga_id])[str(saga_id)]["status"] == "confirmed"
    with transaction() as s:
        assert s.get(Saga, saga_id).redrives == 0  # the operator drove it, not the watchdog


def test_retry_refuses_a_finished_saga_and_show_and_list_find_it(api, organizer):
    event, buyer = api.event(organizer), api.user()
    saga_id = api.start(buyer, event).get_json()["saga_id"]
    wait_terminal([saga_id])

    refused = saga_cli("retry", saga_id)
    shown = saga_cli("show", saga_id)
    listed = saga_cli("list", "--status", "confirmed", "--limit", "500")

    assert refused.returncode != 0 and "already confirmed" in refused.stderr
    assert json.loads(shown.stdout)["status"] == "confirmed"
    assert saga_id in listed.stdout


def test_the_relay_does_not_start_a_purchase_overtaken_by_its_compensation(
        unsent_saga, monkeypatch):
    _, saga_id = unsent_saga
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(status="canceled"))
        # dated ahead, so that beat's relay leaves it to this test's relay
        s.execute(update(OutboxMessage).where(OutboxMessage.saga_id == saga_id)
                  .values(created_at=utcnow() + timedelta(hours=1)))
    published, purchase = [], canvas.CANVASES["purchase"]

    def recording_purchase(saga):
        published.append(saga.id)
        return purchase(saga)

    monkeypatch.setitem(canvas.CANVASES, "purchase", recording_purchase)
    service.relay_outbox(older_than_seconds=-2 * 3600)

    with transaction() as s:
        message = s.query(OutboxMessage).filter_by(saga_id=saga_id).one()
        assert message.sent_at is not None  # this relay handled it...
    assert saga_id not in published  # ...without publishing the purchase
