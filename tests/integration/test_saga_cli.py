"""Operators drive sagas with `celery -A workers saga ...`."""
import json
import subprocess
import sys

import pytest

from tests.integration.conftest import payments_of, recorded_purchase, wait_terminal
from tests.support.processes import ROOT, child_env, wait_for
from sqlalchemy import update

from workers.db import transaction
from workers.orchestration import canvas, service
from workers.orchestration.models import OutboxMessage, Saga
from workers.orchestration.queries import get_saga

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
    wait_for(lambda: "HoldReleased" in worker_processes["tickets"].log_text()
             and str(saga_id) in worker_processes["tickets"].log_text(),
             timeout=30, what="the late reserve to be refused")
    assert api.available(event) == 4
    assert [p for p in payments_of([saga_id]) if p[2] == "succeeded"] == []
    assert get_saga(saga_id)["status"] == "canceled"


def test_retry_sends_a_lost_purchase_to_the_end(api, organizer, monkeypatch):
    # lost, not unsent: the outbox relay would send an unsent one first
    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)

    done = saga_cli("retry", str(saga_id))

    assert done.returncode == 0 and "purchase re-sent" in done.stdout, done.stderr
    assert wait_terminal([saga_id])[str(saga_id)]["status"] == "confirmed"


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


def test_the_relay_does_not_start_a_purchase_overtaken_by_its_compensation(unsent_saga):
    _, saga_id = unsent_saga
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(status="canceled"))

    service.relay_outbox(older_than_seconds=0)

    with transaction() as s:
        message = s.query(OutboxMessage).filter_by(saga_id=saga_id).one()
        assert message.sent_at is not None
    assert get_saga(saga_id)["steps"] == []
