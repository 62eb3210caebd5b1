"""The minimal saga in batches: what carrying many sagas per message and per transaction
would give, measured (an experiment, not part of ``make bench``).

Each message of the chain carries ``B`` sagas, and each step is one transaction for all
of them: the start inserts the ``B`` sagas, reserve takes ``B`` seats with one
conditional ``UPDATE`` and inserts their holds, charge inserts their payments, confirm
confirms the holds and inserts the tickets; every step moves the sagas' status on. The
queues and delivery are boxoffice's (quorum queues, publisher confirms, acknowledged
once done, prefetch 1). ``B = 1`` is ``bench.minimal``'s saga on those queues.

    python -m bench.batched 1 4 16      # batch sizes; needs RabbitMQ, PostgreSQL, Redis
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from celery import Celery, chain
from kombu import Exchange, Queue

from bench import minimal

QUEUES = ("batched1", "batched2", "batched3")
app = Celery("batched", broker=os.environ.get("CELERY_BROKER_URL"))
_exchange = Exchange("batched", type="direct", durable=True)
app.conf.update(
    task_queues=[Queue(q, _exchange, routing_key=q, durable=True,
                       queue_arguments={"x-queue-type": "quorum"}) for q in QUEUES],
    task_routes={f"batched.step{i}": {"queue": q, "routing_key": q}
                 for i, q in enumerate(QUEUES, 1)},
    task_default_queue=QUEUES[0], task_default_exchange="batched", task_ignore_result=True,
    worker_hijack_root_logger=False, broker_connection_retry_on_startup=True,
    broker_transport_options={"confirm_publish": True}, task_acks_late=True,
    task_reject_on_worker_lost=True, worker_prefetch_multiplier=1)


@app.task(name="batched.step1")
def reserve(ids: list) -> None:
    minimal.reserve(ids)


@app.task(name="batched.step2")
def charge(_previous, ids: list) -> None:
    minimal.charge(ids)


@app.task(name="batched.step3")
def confirm(_previous, ids: list, done_key: str) -> None:
    import redis

    minimal.confirm(ids)
    redis.Redis.from_url(os.environ["REDIS_URL"]).incrby(done_key, len(ids))


def start(ids: list, done_key: str) -> None:
    minimal.begin(ids)
    chain(reserve.s(ids), charge.s(ids), confirm.s(ids, done_key=done_key)).apply_async()


def _measure(batch: int, n: int, kinds, done) -> str:
    """``n`` sagas in batches of ``batch`` started by 16 threads: sagas/s, CPU per saga."""
    from bench.stack import Kinds

    key = f"bench:batched:{uuid.uuid4().hex}"
    batches = [[str(uuid.uuid4()) for _ in range(batch)] for _ in range(n // batch)]
    before, t0 = kinds.snapshot(), time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda ids: start(ids, key), batches))
    done(key, n)
    took = time.monotonic() - t0
    cpu = Kinds.cpu_seconds(before, kinds.snapshot())
    by_kind = ", ".join(f"{k} {1000 * v / n:.2f}" for k, v in cpu.items())
    return (f"batches of {batch}: {n / took:.1f} sagas/s, "
            f"{1000 * sum(cpu.values()) / n:.2f} ms of CPU per saga ({by_kind})")


def main(argv=None) -> int:
    import tempfile
    from pathlib import Path

    from harness.processes import ROOT, Managed
    from harness.services import drop, provision

    services = provision()
    env = {**os.environ, "CELERY_BROKER_URL": services.broker_url, "REDIS_URL": services.redis_url,
           "MINIMAL_DATABASE_URL": services.database_url, "PYTHONPATH": str(ROOT)}
    os.environ.update(env)
    app.conf.broker_url = services.broker_url
    celery, logs = Path(sys.executable).parent / "celery", Path(tempfile.mkdtemp())
    workers = [Managed(q, [str(celery), "-A", "bench.batched", "worker", "-Q", q,
                           "-n", f"{q}@%h", "--loglevel", "WARNING"], env, logs / f"{q}.log")
               for q in QUEUES]
    try:
        minimal.setup(services.database_url)
        for w in workers:
            w.start()
        _run(services, workers, [int(b) for b in (argv or sys.argv[1:]) or (1, 4, 16)])
    finally:
        for w in workers:
            w.stop(timeout=30)
        drop(services)
    return 0


def _run(services, workers, batches) -> None:
    import redis

    from bench.stack import Kinds, pids_of_server
    from harness.processes import wait_for

    r = redis.Redis.from_url(services.redis_url)

    def done(key, n):
        wait_for(lambda: int(r.get(key) or 0) >= n, timeout=300, interval=0.02,
                 what="the batched sagas to be confirmed")

    kinds = Kinds()
    for i, w in enumerate(workers, 1):
        kinds.add(f"step{i}", w.members)
    kinds.add("rabbitmq", lambda: pids_of_server("beam.smp"))
    kinds.add("postgresql", lambda: pids_of_server("postgres", services.database))
    for batch in batches:
        _measure(batch, batch, kinds, done)  # warm: connections, the workers ready
        print(_measure(batch, max(2000, 250 * batch), kinds, done), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
