"""The ceiling: what Celery itself does on this machine.

A chain of three no-op tasks across three queues, with Celery's defaults for queues and
prefetch (classic durable queues, prefetch 4, acks on receipt), one worker per queue.
The last task records when the chain finished in Redis, beside when it was started.

    celery -A bench.noop worker -Q noop1 -n noop1@%h   (NOOP_QUEUE_SUFFIX: other queues)

``NOOP_QUEUE_TYPE=quorum`` and ``NOOP_CONFIRMS=1`` measure what quorum queues and
publisher confirms cost on their own. ``NOOP_WORK=minimal`` makes the chain the minimal
saga: each task does its step's database work (``bench.minimal``); ``NOOP_ACKS_LATE=1``
gives it boxoffice's delivery (acknowledged once done, one message per pool child).
"""
from __future__ import annotations

import os
import time

import redis
from celery import Celery, chain
from celery.signals import worker_ready
from kombu import Exchange, Queue

from bench import minimal

#: each variant on queues of its own (a queue's type is fixed when it is declared)
SUFFIX = os.environ.get("NOOP_QUEUE_SUFFIX", "")
QUEUES = tuple(f"noop{i}{SUFFIX}" for i in (1, 2, 3))
DONE_KEY = os.environ.get("NOOP_DONE_KEY", "bench:noop:done")
#: the minimal saga's database work in each task (``bench.minimal``), or none
MINIMAL = os.environ.get("NOOP_WORK") == "minimal"

app = Celery("noop", broker=os.environ.get("CELERY_BROKER_URL"))
_exchange = Exchange("noop", type="direct", durable=True)
_arguments = ({"x-queue-type": "quorum"} if os.environ.get("NOOP_QUEUE_TYPE") == "quorum"
              else None)
app.conf.update(
    task_queues=[Queue(q, _exchange, routing_key=q, durable=True, queue_arguments=_arguments)
                 for q in QUEUES],
    task_routes={f"noop.noop{i}": {"queue": q, "routing_key": q} for i, q in enumerate(QUEUES, 1)},
    task_default_queue=QUEUES[0], task_default_exchange="noop", task_ignore_result=True,
    worker_hijack_root_logger=False, broker_connection_retry_on_startup=True,
    broker_transport_options={"confirm_publish": True} if os.environ.get("NOOP_CONFIRMS")
    else {},
)
if os.environ.get("NOOP_ACKS_LATE"):
    app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True,
                    worker_prefetch_multiplier=1)
_redis: redis.Redis | None = None


@app.task(name="noop.noop1")
def first(started: float, chain_id: str = "") -> float:
    if MINIMAL:
        minimal.reserve([chain_id])
    return started


@app.task(name="noop.noop2")
def second(started: float, chain_id: str = "") -> float:
    if MINIMAL:
        minimal.charge([chain_id])
    return started


@app.task(name="noop.noop3")
def third(started: float, chain_id: str = "") -> None:
    global _redis
    if MINIMAL:
        minimal.confirm([chain_id])
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    _redis.hset(DONE_KEY, chain_id, f"{started} {time.time()}")


@worker_ready.connect
def _ready(sender=None, **_):
    """Celery's default log level (WARNING) says nothing at start: tell Redis instead."""
    redis.Redis.from_url(os.environ["REDIS_URL"]).set(f"{DONE_KEY}:ready:{sender.hostname}", 1)


def start(chain_id: str) -> None:
    if not MINIMAL:
        chain(first.s(time.time()), second.s(), third.s(chain_id=chain_id)).apply_async()
        return
    started = time.time()
    minimal.begin([chain_id])
    chain(first.s(started, chain_id=chain_id), second.s(chain_id=chain_id),
          third.s(chain_id=chain_id)).apply_async()
