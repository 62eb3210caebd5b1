"""Outbox messages marked sent, many in one statement.

A purchase's message is published right after its saga is recorded, and then marked sent so
that the relay leaves it alone. On PostgreSQL the marks of one process go through a thread
of its own, which writes every mark waiting when it wakes in one ``UPDATE … WHERE id IN``:
one statement for a burst of starts instead of one each, and no round trip in the request
that published. The thread writes as soon as a mark arrives, so a mark is late only by the
statement before it, far inside the relay's grace (``relay_outbox``'s ``older_than_seconds``).

A mark that is never written (the process died first, or the database was away) leaves a
published message unsent: the relay publishes it again, and the steps, idempotent, absorb
the duplicate, as after a crash between a publish and its mark. A process that exits
normally (a gunicorn worker, a Celery pool child) writes its marks first. On SQLite (the
embedded default, one writer at a time) a mark is written at once, by the caller. The
relays, which publish in batches, mark each batch at once with ``write_now``.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading

from celery.signals import worker_process_shutdown
from sqlalchemy import bindparam, update

from workers.db import engine, execute_alone
from workers.orchestration.models import OutboxMessage
from workers.steps import utcnow

log = logging.getLogger(__name__)

_OUTBOX = OutboxMessage.__table__
_MARK = (update(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
         .values(sent_at=bindparam("now")))
#: the most marks one statement writes
BATCH = 500

_waiting: queue.SimpleQueue = queue.SimpleQueue()
_writer: threading.Thread | None = None  # this process's writing thread, once started
_lock = threading.Lock()
_written = threading.Condition()
_unwritten = 0  # marks handed over and not written yet


def _forget_the_parents() -> None:
    """In a forked child: no thread, no marks (the parent's are the parent's to write)."""
    global _waiting, _writer, _lock, _written, _unwritten
    _waiting, _writer, _lock = queue.SimpleQueue(), None, threading.Lock()
    _written, _unwritten = threading.Condition(), 0


os.register_at_fork(after_in_child=_forget_the_parents)


def write_now(message_ids) -> None:
    """Mark published outbox messages sent, in this thread: one statement."""
    execute_alone(_MARK, {"ids": list(message_ids), "now": utcnow()})


def mark_sent(message_id) -> None:
    """Mark a published outbox message sent: now on SQLite, within moments on PostgreSQL."""
    global _unwritten
    if engine().dialect.name != "postgresql":
        write_now([message_id])
        return
    _start()
    with _written:
        _unwritten += 1
    _waiting.put(message_id)


def flush(timeout: float = 10.0) -> bool:
    """Write the marks waiting, in this thread, and wait for those the writing thread has
    taken; whether every mark was written (or given up on) in time."""
    while batch := _take(block=False):
        _write(batch)
    with _written:
        return _written.wait_for(lambda: _unwritten <= 0, timeout)


def _start() -> None:
    """The writing thread of this process, started on its first mark."""
    global _writer
    if _writer is not None:
        return
    with _lock:
        if _writer is None:
            _writer = threading.Thread(target=_run, name="outbox-sent-marks", daemon=True)
            _writer.start()


def _run() -> None:
    while True:
        _write(_take(block=True))


def _take(*, block: bool) -> list:
    """The marks waiting (waiting for one, with ``block``), at most ``BATCH``."""
    try:
        batch = [_waiting.get(block=block)]
    except queue.Empty:
        return []
    while len(batch) < BATCH:
        try:
            batch.append(_waiting.get_nowait())
        except queue.Empty:
            break
    return batch


def _write(batch: list) -> None:
    global _unwritten
    try:
        write_now(batch)
    except Exception:  # noqa: BLE001  unmarked, they are published again by the relay
        log.warning("%d published outbox messages not marked sent: the relay will send them "
                    "again", len(batch), exc_info=True)
    finally:
        with _written:
            _unwritten -= len(batch)
            _written.notify_all()


atexit.register(flush)


@worker_process_shutdown.connect(weak=False)
def _flush_in_pool_child(**_):
    """A prefork pool's child leaves through ``os._exit``, past ``atexit``."""
    flush()
