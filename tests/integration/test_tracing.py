"""One purchase is one trace: the gateway's request span, every step's span, and any
compensation, whoever set it off (worker processes write their spans to a file)."""
import json
import uuid

import pytest

from harness.processes import wait_for
from tests.integration.conftest import Api, wait_terminal

STEPS = ("run/tickets.reserve_seats", "run/payments.charge", "run/tickets.confirm_seats")


@pytest.fixture(scope="module")
def spans_file(var_dir):
    return var_dir / "spans.jsonl"


@pytest.fixture(scope="module")
def traced(spans_file, api_key):
    """A gateway with tracing on, writing to the same file as the workers."""
    import os

    from api import create_app
    from workers import telemetry

    os.environ["BOXOFFICE_TRACE_FILE"] = str(spans_file)
    try:
        assert telemetry.setup("boxoffice-gateway")
        app = create_app()
    finally:
        del os.environ["BOXOFFICE_TRACE_FILE"]
    return Api(app.test_client(use_cookies=False), api_key)


def spans(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def names_in(path, trace_id) -> set[str]:
    return {s["name"] for s in spans(path) if s["trace_id"] == trace_id}


def test_a_purchase_is_one_trace_from_the_request_through_every_step(
        traced, api, organizer, spans_file, worker_processes):
    event, buyer = api.event(organizer), api.user()
    r = traced.start(buyer, event)
    saga_id = r.get_json()["saga_id"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"

    def request_span():  # spans reach the file in batches
        return next((s for s in spans(spans_file)
                     if s["kind"] == "SERVER" and s["name"] == "POST /saga/start"
                     and s["attributes"].get("http.status_code", s["attributes"].get(
                         "http.response.status_code")) == 202), None)

    request = wait_for(request_span, timeout=30, what="the gateway's span of the request")
    trace_id = request["trace_id"]
    wait_for(lambda: set(STEPS) <= names_in(spans_file, trace_id), timeout=30,
             what="every step's span in the request's trace")

    in_trace = [s for s in spans(spans_file) if s["trace_id"] == trace_id]
    assert any(s["name"].startswith("apply_async/tickets.reserve_seats") for s in in_trace)
    assert any(s["attributes"].get("db.system") == "postgresql" and s["service"] == "boxoffice-worker"
               for s in in_trace)
    assert {s["service"] for s in in_trace} == {"boxoffice-gateway", "boxoffice-worker"}


def test_compensations_continue_the_trace_of_their_purchase(
        traced, api, organizer, spans_file, worker_processes):
    event = api.event(organizer, capacity=5)
    declined = traced.start(api.user(), event, token="tok_chargeDeclined").get_json()["saga_id"]
    confirmed = traced.start(api.user(), event).get_json()["saga_id"]
    wait_terminal([declined, confirmed])
    traces = {}
    for saga_id in (declined, confirmed):
        saga = _saga_row(saga_id)
        assert saga.traceparent, saga_id
        traces[saga_id] = saga.traceparent.split("-")[1]

    # canceling the event (another request, another trace) compensates the confirmed one
    r = traced.call("POST", f"/events/{event['id']}/cancel", organizer["token"])
    assert r.status_code in (200, 202), r.get_json()
    wait_for(lambda: _saga_row(confirmed).status == "canceled", timeout=60,
             what="the confirmed purchase to be refunded")

    for saga_id, trace_id in traces.items():
        wait_for(lambda: {"run/payments.refund", "run/tickets.release_seats"}
                 <= names_in(spans_file, trace_id), timeout=30,
                 what=f"the compensation of {saga_id} in its purchase's trace")
        wait_for(lambda: "POST /saga/start" in names_in(spans_file, trace_id), timeout=30,
                 what=f"the request that started {saga_id} in the same trace")


def _saga_row(saga_id):
    from workers.db import transaction
    from workers.orchestration.models import Saga

    with transaction() as s:
        return s.get(Saga, uuid.UUID(saga_id))
