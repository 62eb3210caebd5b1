"""A step's log lines carry its saga id (and the trace id where one is recording)."""
import json
import logging
import re

from harness.processes import wait_for
from tests.integration.conftest import wait_terminal


def test_a_steps_log_lines_carry_its_saga_id(api, organizer, worker_processes):
    saga_id = api.start(api.user(), api.event(organizer)).get_json()["saga_id"]
    wait_terminal([saga_id])

    def step_line():
        text = worker_processes["tickets"].log_text()
        return re.search(r"Task tickets\.reserve_seats\[\S+\] succeeded.*saga_id=" + saga_id, text)

    wait_for(step_line, timeout=15, what="the reserve step's log line with its saga id")
    # the workers trace (tests write spans to a file): their lines name the trace too
    assert re.search(r"saga_id=" + saga_id + r" trace_id=[0-9a-f]{32}",
                     worker_processes["tickets"].log_text())
    received = [x for x in worker_processes["tickets"].log_text().splitlines()
                if "Task tickets.expire_holds" in x and "succeeded" in x]
    assert received and "saga_id=" not in received[-1]  # a task of no saga names none


def test_json_lines_name_the_saga_and_the_trace(monkeypatch):
    from workers import logs

    monkeypatch.setenv("LOG_FORMAT", "json")
    record = logging.LogRecord("workers.tickets", logging.INFO, __file__, 1, "seats %s", ("held",), None)
    token = logs._saga_id.set("2f0c3d1e-0000-4000-8000-000000000001")
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs._saga_id.reset(token)

    line = json.loads(logs.json_formatter().format(record))

    assert line["message"] == "seats held" and line["level"] == "INFO"
    assert line["saga_id"] == "2f0c3d1e-0000-4000-8000-000000000001"
    assert line["logger"] == "workers.tickets" and "time" in line
    assert logs.saga_of([{"contract": "ReserveSeats", "saga_id": "x"}]) == "x"
