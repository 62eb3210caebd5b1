"""Dead-letter queues: how deep they are, what is in them, replay and purge.

Works on RabbitMQ (the ``<queue>.dead`` queues behind ``boxoffice.dlx``) and on the
embedded spool broker (its ``<queue>.dead`` spool files) alike. A message is replayed only
when it is still a valid message of its task's contract; otherwise it stays dead and the
reason is said.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kombu import Producer, Queue
from marshmallow import ValidationError

import celeryconfig
from workers.celery_app import app

DEAD_SUFFIX = ".dead"


def dead_queue(name: str) -> str:
    """``tickets`` or ``tickets.dead`` -> ``tickets.dead``; anything else is refused."""
    base = name[: -len(DEAD_SUFFIX)] if name.endswith(DEAD_SUFFIX) else name
    if base not in celeryconfig.DOMAIN_QUEUES:
        raise ValueError(f"no dead-letter queue {name!r}; one of "
                         + ", ".join(q + DEAD_SUFFIX for q in celeryconfig.DOMAIN_QUEUES))
    return base + DEAD_SUFFIX


def all_queues() -> list[str]:
    return [q + DEAD_SUFFIX for q in celeryconfig.DOMAIN_QUEUES]


@dataclass
class DeadLetter:
    """One dead message: its id (the task id where it has one) and what it carries."""

    id: str
    task: str | None
    reason: str
    args: object = None
    error: str | None = None  #: why it cannot be replayed (None: it can)
    message: object = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return self.error is None


def _inspect(message, position: int) -> DeadLetter:
    headers = message.headers or {}
    deaths = headers.get("x-death") or []
    reason = headers.get("x-first-death-reason") or (deaths[0].get("reason") if deaths else "rejected")
    task_id = headers.get("id") or message.properties.get("correlation_id") or f"#{position}"
    letter = DeadLetter(id=str(task_id), task=headers.get("task"), reason=str(reason),
                        message=message)
    try:
        body = message.decode()
    except Exception as exc:  # noqa: BLE001  any decoding failure: stays dead
        letter.error = f"undecodable body: {type(exc).__name__}"
        return letter
    if not (isinstance(body, (list, tuple)) and len(body) == 3):
        letter.error = "not a task message (protocol 2 body expected)"
        return letter
    args, kwargs, _embed = body
    letter.args = args
    letter.error = _contract_error(letter.task, args, kwargs)
    return letter


def _contract_error(task_name, args, kwargs) -> str | None:
    task = app.tasks.get(task_name or "")
    if task is None:
        return f"unknown task {task_name!r}"
    contracts = getattr(task, "contracts", None)
    if contracts is None:
        return None
    if kwargs or not isinstance(args, (list, tuple)) or len(args) != len(contracts):
        return f"{task_name} takes {len(contracts)} message(s)"
    try:
        for contract, arg in zip(contracts, args):
            contract.parse(arg)
    except ValidationError as exc:
        return f"not its contract: {exc.messages}"
    return None


class _Broker:
    """Reads dead letters by taking them without acknowledging; what is not acked goes back."""

    def __init__(self, conn):
        self.conn = conn
        self.channel = conn.channel()

    def depth(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).message_count

    def take(self, queue: str, limit: int | None = None) -> list[DeadLetter]:
        letters = []
        while limit is None or len(letters) < limit:
            message = Queue(queue, no_declare=True).bind(self.channel).get(no_ack=False)
            if message is None:
                break
            letters.append(_inspect(message, len(letters) + 1))
        return letters

    def keep(self, letter: DeadLetter) -> None:
        letter.message.reject(requeue=True)

    def drop(self, letter: DeadLetter) -> None:
        letter.message.ack()

    def purge(self, queue: str) -> int:
        return self.channel.queue_purge(queue) or 0

    def close(self) -> None:
        self.channel.close()


class _Spool:
    """The embedded broker's dead letters are files ``<stamp>_<id>.<queue>.dead.msg``."""

    def __init__(self, conn):
        self.conn = conn
        self.channel = conn.channel()
        self.folder = Path(app.conf.broker_transport_options["data_folder_in"])

    def _files(self, queue: str) -> list[Path]:
        wanted = f"{queue}.msg"
        return sorted(p for p in self.folder.iterdir() if p.name.partition(".")[2] == wanted) \
            if self.folder.exists() else []

    def depth(self, queue: str) -> int:
        return len(self._files(queue))

    def take(self, queue: str, limit: int | None = None) -> list[DeadLetter]:
        from kombu.utils.json import loads

        letters = []
        for path in self._files(queue)[:limit]:
            message = self.channel.Message(loads(path.read_bytes()), channel=self.channel)
            letter = _inspect(message, len(letters) + 1)
            letter.path = path
            letters.append(letter)
        return letters

    def keep(self, letter: DeadLetter) -> None:
        pass  # never taken from its file

    def drop(self, letter: DeadLetter) -> None:
        try:
            os.remove(letter.path)
        except FileNotFoundError:
            pass

    def purge(self, queue: str) -> int:
        files = self._files(queue)
        for path in files:
            path.unlink(missing_ok=True)
        return len(files)

    def close(self) -> None:
        self.channel.close()


class DeadLetters:
    """``with DeadLetters() as dl: dl.depths()`` -- one broker connection for the lot."""

    def __enter__(self):
        self.conn = app.connection_for_write()
        self.conn.ensure_connection(max_retries=2)
        spool = app.conf.broker_url.startswith("spool://")
        self.store = (_Spool if spool else _Broker)(self.conn)
        return self

    def __exit__(self, *exc):
        try:
            self.store.close()
        finally:
            self.conn.release()

    def depths(self) -> dict[str, int]:
        return {q: self.store.depth(q) for q in all_queues()}

    def show(self, queue: str, limit: int) -> list[DeadLetter]:
        """The first ``limit`` dead letters of ``queue``; all stay where they are."""
        letters = self.store.take(queue, limit)
        for letter in letters:
            self.store.keep(letter)
        return letters

    def replay(self, queue: str, ids: set[str] | None = None) -> list[tuple[DeadLetter, bool]]:
        """Send valid dead letters (those of ``ids``, or all) back to their queue.

        Returns ``(letter, replayed)`` for every letter chosen; invalid ones stay dead.
        """
        target = queue[: -len(DEAD_SUFFIX)]
        producer = Producer(self.conn.default_channel)
        done = []
        for letter in self.store.take(queue):
            if ids is not None and letter.id not in ids:
                self.store.keep(letter)
                continue
            if not letter.valid:
                self.store.keep(letter)
                done.append((letter, False))
                continue
            _republish(producer, letter.message, target)
            self.store.drop(letter)
            done.append((letter, True))
        return done

    def purge(self, queue: str) -> int:
        return self.store.purge(queue)


def _republish(producer: Producer, message, queue: str) -> None:
    headers = {k: v for k, v in (message.headers or {}).items()
               if not k.startswith("x-")}  # RabbitMQ's death records stay behind
    props = message.properties or {}
    producer.publish(
        message.body, exchange=celeryconfig.TASK_EXCHANGE, routing_key=queue,
        headers=headers, content_type=message.content_type,
        content_encoding=message.content_encoding or "utf-8",
        correlation_id=props.get("correlation_id"), reply_to=props.get("reply_to"),
        delivery_mode=2, retry=True)
