"""The task outbox: a message exists exactly when its transaction commits, is published
after the commit, and is relayed when the broker could not take it then."""
import uuid

import pytest
from sqlalchemy import select

from workers import outbox
from workers.db import transaction
from workers.outbox import OutboxTask

pytestmark = pytest.mark.usefixtures("sqlite_db")


def rows() -> list[tuple]:
    with transaction() as s:
        return [(m.task, m.args, m.sent_at is not None)
                for m in s.scalars(select(OutboxTask).order_by(OutboxTask.created_at))]


def test_a_message_is_published_after_its_commit_and_marked_sent(sent):
    published_inside = []
    with transaction() as s:
        outbox.add(s, "users.anonymise", {"user_id": "u1"})
        published_inside.append(list(sent.messages))

    assert published_inside == [[]]  # nothing left before the commit
    assert sent.messages == [("users.anonymise", ({"user_id": "u1"},), {"retry": False})]
    assert rows() == [("users.anonymise", [{"user_id": "u1"}], True)]


def test_a_rolled_back_transaction_owes_nothing(sent):
    with pytest.raises(RuntimeError):
        with transaction() as s:
            outbox.add(s, "users.anonymise", {"user_id": "u1"})
            raise RuntimeError("the change failed")

    assert sent.messages == []
    assert rows() == []


def test_a_message_the_broker_could_not_take_is_kept_and_relayed(broker_down, monkeypatch):
    with transaction() as s:
        outbox.add(s, "tickets.ticket_used", {"n": 1})
        outbox.add(s, "tickets.ticket_used", {"n": 2})
    assert rows() == [("tickets.ticket_used", [{"n": 1}], False),
                      ("tickets.ticket_used", [{"n": 2}], False)]
    assert outbox.relay(older_than_seconds=0) == 0  # still down

    from workers.celery_app import app

    relayed = []  # the broker is back
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **o: relayed.append(args))
    assert outbox.relay(older_than_seconds=0) == 2

    assert relayed == [({"n": 1},), ({"n": 2},)]
    assert [sent_ for *_, sent_ in rows()] == [True, True]
    assert outbox.relay(older_than_seconds=0) == 0


def test_the_relay_leaves_messages_just_written_to_their_own_publish(broker_down):
    with transaction() as s:
        outbox.add(s, "users.anonymise", {"user_id": str(uuid.uuid4())})

    assert outbox.relay(older_than_seconds=60) == 0
