"""The outbox of plain task messages: what a transaction owes the broker.

A message that follows a database change is written by ``add`` into ``outbox_tasks`` in the
caller's transaction, so it exists exactly when the change does. Once that transaction
has committed (and every row lock it held is released) the message is published and
marked sent; a message that could not be published stays unsent and ``relay`` (run by
beat) sends it later. A duplicate is harmless: every task it names is idempotent.

Owned by no domain, like ``workers.db``: each domain writes its own messages here and
names the task it addresses; only the relay reads the rows of all of them. The saga
canvases have their own outbox (``orchestration_outbox``), built from the saga at publish
time.
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import JSON, Index, String, Uuid, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from workers.celery_app import app
from workers.db import Base, UTCDateTime, transaction
from workers.steps import utcnow

log = logging.getLogger(__name__)

#: after a failed publish, this process leaves publishing to the relay for a while, so
#: that requests are not held up by connection attempts to a broker that is down
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0
_PENDING = "boxoffice.outbox"  # the session's messages to publish once it commits


class OutboxTask(Base):
    """A task message owed to the broker, written in the transaction that made it due."""

    __tablename__ = "outbox_tasks"
    __table_args__ = (Index("ix_outbox_tasks_unsent", "sent_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    task: Mapped[str] = mapped_column(String(100))
    #: the task's positional arguments, as sent (contract messages are JSON already)
    args: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def add(s: Session, task: str, *args) -> OutboxTask:
    """Owe ``task(*args)`` to the broker if, and once, ``s``'s transaction commits."""
    message = OutboxTask(id=uuid.uuid4(), task=task, args=list(args), created_at=utcnow())
    s.add(message)
    s.info.setdefault(_PENDING, []).append(message)
    return message


@event.listens_for(Session, "after_commit")
def _publish_committed(s: Session) -> None:
    messages = s.info.pop(_PENDING, None)
    if not messages:
        return
    try:
        publish([(m.id, m.task, m.args) for m in messages], retry=False)
    except Exception:  # noqa: BLE001  the change is committed; the relay sends what is unsent
        log.exception("outbox messages of a committed transaction left to the relay")


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(s: Session) -> None:
    s.info.pop(_PENDING, None)


def publish(messages, *, retry: bool = True) -> int:
    """Send ``(id, task, args)`` messages in order and mark those the broker took as sent;
    stop at the first failure (the relay sends the rest). How many were sent."""
    global _broker_down_until
    if not retry and time.monotonic() < _broker_down_until:
        return 0
    sent = []
    for message_id, task, args in messages:
        try:
            app.send_task(task, args=tuple(args), retry=retry)
        except Exception:  # noqa: BLE001  the row keeps it; the relay will try again
            _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
            log.warning("outbox %s (%s) not published yet", message_id, task, exc_info=True)
            break
        sent.append(message_id)
    if sent:
        with transaction() as s:
            s.execute(update(OutboxTask).where(OutboxTask.id.in_(sent)).values(sent_at=utcnow()))
    return len(sent)


def relay(*, older_than_seconds: float = 2.0, batch: int = 500) -> int:
    """Publish the messages that stayed unsent after their commit; how many were sent.

    The rows are read without a lock and published outside any transaction: a relay
    racing another (or a late publish at commit) may send a message twice, which its
    idempotent task absorbs.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with transaction() as s:
        due = s.execute(select(OutboxTask.id, OutboxTask.task, OutboxTask.args)
                        .where(OutboxTask.sent_at.is_(None), OutboxTask.created_at < cutoff)
                        .order_by(OutboxTask.created_at).limit(batch)).all()
    return publish(due) if due else 0
