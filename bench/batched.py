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
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from celery import Celery, chain
from kombu import Exchange, Queue

from bench import minimal
from contracts.statuses import HoldStatus, PaymentStatus, SagaStatus

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


def _rows(cur, sql: str, rows: list) -> None:
    from psycopg2.extras import execute_values

    execute_values(cur, sql, rows)


def _step(ids: list, status: SagaStatus, *work) -> None:
    """One transaction: ``work(cursor)`` for the batch, then the sagas' status."""
    conn = minimal.connection()
    with conn.cursor() as cur:
        for w in work:
            w(cur)
        cur.execute("UPDATE minimal_sagas SET status = %s, updated_at = now() "
                    "WHERE id = ANY(%s::uuid[])", (str(status), ids))
    conn.commit()


@app.task(name="batched.step1")
def reserve(ids: list) -> None:
    _step(ids, SagaStatus.RESERVED,
          lambda cur: cur.execute("UPDATE minimal_tiers SET available = available - %s "
                                  "WHERE id = %s AND available >= %s",
                                  (len(ids), minimal.TIER, len(ids))),
          lambda cur: _rows(cur, "INSERT INTO minimal_holds VALUES %s",
                            [(i, minimal.TIER, 1, str(HoldStatus.HELD)) for i in ids]))


@app.task(name="batched.step2")
def charge(_previous, ids: list) -> None:
    _step(ids, SagaStatus.PAID, lambda cur: _rows(
        cur, "INSERT INTO minimal_payments VALUES %s", [(i, 2500, str(PaymentStatus.SUCCEEDED)) for i in ids]))


@app.task(name="batched.step3")
def confirm(_previous, ids: list, done_key: str) -> None:
    import redis

    _step(ids, SagaStatus.CONFIRMED,
          lambda cur: cur.execute("UPDATE minimal_holds SET status = 'confirmed' "
                                  "WHERE saga_id = ANY(%s::uuid[])", (ids,)),
          lambda cur: _rows(cur, "INSERT INTO minimal_tickets VALUES %s",
                            [(str(uuid.uuid4()), i, "code") for i in ids]))
    redis.Redis.from_url(os.environ["REDIS_URL"]).incrby(done_key, len(ids))


def start(ids: list, done_key: str) -> None:
    conn = minimal.connection()
    with conn.cursor() as cur:
        _rows(cur, "INSERT INTO minimal_sagas (id, status) VALUES %s",
              [(i, str(SagaStatus.PENDING)) for i in ids])
    conn.commit()
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
    from harness.processes import ROOT
    from harness.services import drop, provision

    services = provision()
    env = {**os.environ, "CELERY_BROKER_URL": services.broker_url, "REDIS_URL": services.redis_url,
           "MINIMAL_DATABASE_URL": services.database_url, "PYTHONPATH": str(ROOT)}
    os.environ.update(env)
    app.conf.broker_url = services.broker_url
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    workers = [subprocess.Popen([celery, "-A", "bench.batched", "worker", "-Q", q, "-n", f"{q}@%h",
                                 "--loglevel", "WARNING"], env=env, stdout=subprocess.DEVNULL)
               for q in QUEUES]
    try:
        minimal.setup(services.database_url)
        _run(services, workers, [int(b) for b in (argv or sys.argv[1:]) or (1, 4, 16)])
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        drop(services)
    return 0


def _run(services, workers, batches) -> None:
    import redis

    from bench.stack import Kinds, pids_of_server

    r = redis.Redis.from_url(services.redis_url)

    def done(key, n, timeout=300.0):
        deadline = time.monotonic() + timeout
        while int(r.get(key) or 0) < n:
            if time.monotonic() > deadline:
                raise SystemExit("the batched workers did not finish")
            time.sleep(0.02)

    kinds = Kinds()
    for i, w in enumerate(workers, 1):
        kinds.add(f"step{i}", lambda w=w: [w.pid, *_children(w.pid)])
    kinds.add("rabbitmq", lambda: pids_of_server("beam.smp"))
    kinds.add("postgresql", lambda: pids_of_server("postgres", services.database))
    for batch in batches:
        _measure(batch, batch, kinds, done)  # warm: connections, the workers ready
        print(_measure(batch, max(2000, 250 * batch), kinds, done), flush=True)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


if __name__ == "__main__":
    raise SystemExit(main())
