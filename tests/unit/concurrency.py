"""Helpers of the unit tests on PostgreSQL: a rule run in a thread of its own, and waiting
until it is blocked by a row lock or unique key that the test's own transaction holds.

The test opens a transaction that does what a concurrent delivery would have done so far,
starts the rule in a thread, waits until PostgreSQL reports that thread's session waiting
for a lock (or the rule returns without waiting), then commits and reads the outcome.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import text

from workers.db import engine

WAIT_LIMIT_SECONDS = 20.0


class Running:
    """A call running in a thread: ``outcome()`` is its result, or raises what it raised."""

    def __init__(self, fn, **kwargs):
        self._result = self._error = None
        self._thread = threading.Thread(target=self._run, args=(fn, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, kwargs):
        try:
            self._result = fn(**kwargs)
        except BaseException as exc:  # noqa: BLE001  handed to the test by outcome()
            self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def outcome(self):
        self._thread.join(WAIT_LIMIT_SECONDS)
        assert self.done(), "the call did not finish once the lock was released"
        if self._error is not None:
            raise self._error
        return self._result


def blocked(running: Running) -> bool:
    """Wait until a session of this database waits for a lock (``True``), or until the
    call finished without waiting for one (``False``)."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if running.done():
            return False
        with engine().connect() as conn:
            waiting = conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))
        if waiting:
            return True
        time.sleep(0.01)
    raise AssertionError("the call neither finished nor waited for a lock")
