"""What is left in RabbitMQ after a run: message counts, and the messages themselves
(peeked, never consumed) so that every leftover and dead letter can be named."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

from kombu import Connection

from chaos.invariants import TERMINAL, Check
from harness.processes import run
from harness.sagas import QUEUES

PERIODIC = ("orchestration.relay_outbox", "outbox.relay", "tickets.expire_holds",
            "orchestration.watchdog")
RECEIVED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]{36})\] received")
#: Celery's own control and event queues: no saga work ever waits there
CONTROL = re.compile(r"\.pidbox$|^celeryev\.")


def holds_work(queue: str) -> bool:
    """A queue whose messages are work still to do: a domain queue, or one of Celery's
    delay queues (countdown retries on quorum queues); not a dead-letter queue."""
    return not queue.endswith(".dead") and not CONTROL.search(queue)


@dataclass
class Letter:
    queue: str
    task: str | None
    task_id: str | None
    saga_id: str | None
    death: str | None

    def row(self, sagas: dict) -> dict:
        saga = sagas.get(self.saga_id) if self.saga_id else None
        return {"queue": self.queue, "task": self.task, "task_id": self.task_id,
                "saga": self.saga_id, "saga_status": saga["status"] if saga else None,
                "death": self.death}


def depths(ctl: list[str], vhost: str) -> dict | None:
    """``{queue: ready + unacknowledged}`` of every queue of the vhost, from rabbitmqctl;
    ``None`` if it does not answer."""
    done = run([*ctl, "-q", "list_queues", "-p", vhost, "name", "messages_ready",
                "messages_unacknowledged", "--formatter", "json"], timeout=60, check=False)
    if done.returncode != 0:
        return None
    try:
        return {q["name"]: q["messages_ready"] + q["messages_unacknowledged"]
                for q in json.loads(done.stdout)}
    except (ValueError, KeyError, TypeError):
        return None


def final_counts(broker_url: str, ctl: list[str], vhost: str) -> dict:
    """Messages left in every queue once the stack is stopped: rabbitmqctl's list, or if
    it does not answer, a passive declare of each domain queue and dead-letter queue."""
    return depths(ctl, vhost) or ready_counts(broker_url)


def ready_counts(broker_url: str) -> dict:
    """Ready messages of each queue and its dead-letter queue (a passive declare)."""
    with Connection(broker_url, connect_timeout=5) as conn:
        channel = conn.channel()
        counts = {}
        for q in QUEUES:
            for name in (q, f"{q}.dead"):
                counts[name] = channel.queue_declare(name, passive=True).message_count
        channel.close()
    return counts


def peek(broker_url: str, queue: str, limit: int = 5000) -> list[Letter]:
    """The messages of a queue, read without acknowledging: they stay where they are."""
    letters = []
    with Connection(broker_url, connect_timeout=5) as conn:
        channel = conn.channel()
        for _ in range(limit):
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                break
            letters.append(_letter(queue, message))
        channel.close()  # unacknowledged: every message goes back to the queue
    return letters


def _letter(queue: str, message) -> Letter:
    headers = message.headers or {}
    saga_id = None
    try:
        args = json.loads(message.body)[0]
        saga_id = next((a["saga_id"] for a in args if isinstance(a, dict) and "saga_id" in a), None)
    except (ValueError, TypeError, IndexError, KeyError):
        pass
    deaths = headers.get("x-death") or []
    death = f"{deaths[0].get('reason')} from {deaths[0].get('queue')}" if deaths else None
    return Letter(queue, headers.get("task"), headers.get("id"), saga_id, death)


def queues_drained(counts: dict, leftovers: list[Letter], sagas: dict) -> Check:
    left = {q: n for q, n in counts.items() if holds_work(q) and n}
    rows = [x.row(sagas) for x in leftovers]
    detail = ", ".join(f"{q}: {n}" for q, n in left.items())
    tasks = Counter(r["task"] for r in rows)
    if tasks:
        detail += " (" + ", ".join(f"{n}x {t}" for t, n in tasks.items()) + ")"
    return Check("queues drained", not left, detail, rows)


def dead_letters_accounted(letters: list[Letter], sagas: dict) -> Check:
    """Every dead letter is named: a periodic task, or a step of a saga that still finished."""
    rows = [x.row(sagas) for x in letters]
    unaccounted = [r for r in rows if not (r["task"] in PERIODIC
                                           or r["saga_status"] in TERMINAL)]
    detail = f"{len(rows)} dead letter(s), {len(unaccounted)} unaccounted"
    if rows:
        detail += ": " + ", ".join(f"{n}x {t}" for t, n in Counter(r["task"] for r in rows).items())
    return Check("dead letters accounted", not unaccounted, detail, rows)


def redeliveries(log_text: str) -> int:
    """Task messages a worker received more than once (same task id), from worker logs."""
    seen = Counter(m.group(2) for m in RECEIVED.finditer(log_text))
    return sum(1 for n in seen.values() if n > 1)


def received_counts(log_text: str) -> Counter:
    """Task messages received by workers, by task name, from worker logs."""
    return Counter(m.group(1) for m in RECEIVED.finditer(log_text))
