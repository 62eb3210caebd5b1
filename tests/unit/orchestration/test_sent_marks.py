"""A published outbox message is marked sent: on PostgreSQL by a thread of the publishing
process, every mark waiting when it writes in one statement; on SQLite at once."""
import os
import uuid

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from harness.processes import wait_for
from tests.unit.concurrency import Running
from workers.db import engine, transaction
from workers.orchestration import sent_marks
from workers.orchestration.models import OutboxMessage
from workers.steps import utcnow


def _messages(n: int) -> list[uuid.UUID]:
    with transaction() as s:
        rows = [OutboxMessage(saga_id=uuid.uuid4(), kind="purchase", created_at=utcnow())
                for _ in range(n)]
        s.add_all(rows)
        s.flush()
        return [m.id for m in rows]


def _unsent(ids) -> set:
    with transaction() as s:
        return set(s.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids),
                                                            OutboxMessage.sent_at.is_(None))))


@pytest.fixture
def marks_written():
    """The ``UPDATE`` statements run on the outbox from now."""
    seen = []

    def listener(conn, cursor, statement, *_):
        if statement.startswith("UPDATE orchestration_outbox"):
            seen.append(statement)

    event.listen(Engine, "after_cursor_execute", listener)
    yield seen
    event.remove(Engine, "after_cursor_execute", listener)


def test_on_sqlite_a_mark_is_written_before_mark_sent_returns(sqlite_db, marks_written):
    ids = _messages(2)
    sent_marks.mark_sent(ids[0])
    assert _unsent(ids) == {ids[1]} and len(marks_written) == 1


def test_on_postgresql_marks_waiting_are_written_in_one_statement(postgres_db, marks_written):
    first, *burst = ids = _messages(6)
    with transaction() as holder:  # the first mark's UPDATE waits for this row lock
        _lock_row(holder, first)
        sent_marks.mark_sent(first)  # returns at once: the thread writes it
        wait_for(_writer_waits, timeout=20, what="the writer to wait")
        for message_id in burst:
            sent_marks.mark_sent(message_id)
        assert _unsent(ids) == set(ids)  # nothing written while the writer waits
    wait_for(lambda: not _unsent(ids), timeout=20, what="every mark written")
    assert len(marks_written) == 2  # the first alone, then the five that waited, together


def test_flush_waits_for_the_mark_being_written(postgres_db):
    ids = _messages(3)
    with transaction() as holder:
        _lock_row(holder, ids[0])
        sent_marks.mark_sent(ids[0])
        wait_for(_writer_waits, timeout=20, what="the writer to wait")
        sent_marks.mark_sent(ids[1])
        sent_marks.mark_sent(ids[2])
        flushing = Running(sent_marks.flush)
        wait_for(lambda: _unsent(ids) == {ids[0]}, timeout=20,
                 what="the flush to write the waiting marks itself")
        assert not flushing.done()  # the thread's mark is not written yet
    assert flushing.outcome() is True
    assert not _unsent(ids)


def _lock_row(s, message_id) -> None:
    s.execute(text("SELECT 1 FROM orchestration_outbox WHERE id = :id FOR UPDATE"),
              {"id": message_id})


def _writer_waits() -> bool:
    """Whether a session waits for a lock (read on a connection of its own: a transaction
    sees one snapshot of ``pg_stat_activity``)."""
    with engine().connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")))


def test_a_forked_child_writes_its_marks_with_a_thread_of_its_own(postgres_db):
    """A pool child or gunicorn worker forked after its parent marked a message: the
    parent's thread did not survive the fork; the child starts its own."""
    in_parent, in_child = _messages(2)
    sent_marks.mark_sent(in_parent)  # the parent's thread is running
    pid = os.fork()
    if pid == 0:  # the child: exit 0 once its mark is written (by a thread: no flush)
        try:
            sent_marks.mark_sent(in_child)
            wait_for(lambda: not _unsent([in_child]), timeout=10, what="the child's mark")
            os._exit(0)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    wait_for(lambda: not _unsent([in_parent, in_child]), timeout=20, what="both marks")
