"""Many buyers (1-4 seats each) for few seats, on RabbitMQ and PostgreSQL with a worker
process per queue: checks that nothing is oversold and reports how fast it drains."""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support import services as throwaway
from tests.support.processes import UNLIMITED, Beat, Worker, child_env

QUEUES = ("tickets", "payments", "orchestration", "users")
TERMINAL = {"confirmed", "canceled", "failed"}


def run(*, buyers: int, seats: int, concurrency: int) -> int:
    provisioned = throwaway.provision()
    var_dir = Path(tempfile.mkdtemp(prefix="boxoffice-bench-"))
    os.environ.update(DATABASE_URL=provisioned.database_url,
                      CELERY_BROKER_URL=provisioned.broker_url,
                      REDIS_URL=provisioned.redis_url, BOXOFFICE_VAR_DIR=str(var_dir),
                      CELERY_WORKER_CONCURRENCY=str(concurrency), **UNLIMITED)
    procs = []
    try:
        from api.cli import migrate

        migrate()
        env = child_env()
        procs = [Worker(q, env, var_dir, concurrency=concurrency).start() for q in QUEUES]
        procs.append(Beat(env, var_dir).start())
        for p in procs:
            p.wait_ready()
        return _drive(buyers, seats)
    finally:
        for p in procs:
            p.stop()
        from workers.db import dispose_engine

        dispose_engine()
        throwaway.drop(provisioned)


def _drive(buyers: int, seats: int) -> int:
    from workers.orchestration import queries, service as orchestration
    from workers.tickets import queries as tickets, service as tickets_service

    rng = random.Random(7)
    owner = uuid.uuid4()
    event_id = tickets_service.create_event(
        name="bench", venue="bench", starts_at=time_now(), created_by=owner,
        tiers=[{"name": "GA", "price_cents": 1000, "currency": "EUR", "capacity": seats,
                "max_per_order": 4}])
    tier_id = tickets.get_event(event_id)["tiers"][0]["id"]
    orders = [(uuid.uuid4(), rng.randint(1, 4)) for _ in range(buyers)]

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        saga_ids = list(pool.map(lambda o: orchestration.start_purchase(
            user_id=o[0], event_id=event_id, tier_id=tier_id, quantity=o[1],
            payment_token="tok_visa")[0], orders))
    accepted = time.perf_counter() - started
    sagas = _wait_all(queries, saga_ids, timeout=max(120, buyers / 5))
    drained = time.perf_counter() - started

    sold = sum(s["quantity"] for s in sagas if s["status"] == "confirmed")
    left = tickets.get_event(event_id)["tiers"][0]["available"]
    refused_early = [s for s in sagas if s["status"] == "canceled" and s["quantity"] <= left]
    checks = {
        "every saga terminal": all(s["status"] in TERMINAL for s in sagas),
        "sold <= capacity": sold <= seats,
        "availability exact": left == seats - sold,
        "no sold_out while enough seats were left": not refused_early,
        "only confirmed or sold_out": all(
            (s["status"], s["reason"]) in {("confirmed", None), ("canceled", "sold_out")}
            for s in sagas),
    }
    print(f"\ncontention: {buyers} buyers (1-4 seats) for {seats} seats")
    print(f"  accepted in      {accepted:8.2f} s   ({buyers / accepted:7.1f} starts/s)")
    print(f"  drained in       {drained:8.2f} s   ({buyers / drained:7.1f} sagas/s)")
    print(f"  confirmed        {sum(s['status'] == 'confirmed' for s in sagas):8d}  "
          f"seats sold {sold}, left {left}")
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


def _wait_all(queries, saga_ids, timeout):
    deadline = time.monotonic() + timeout
    pending, done = set(saga_ids), {}
    while pending:
        for sid in list(pending):
            saga = queries.get_saga(sid)
            if saga["status"] in TERMINAL:
                done[sid] = saga
                pending.discard(sid)
        if pending and time.monotonic() > deadline:
            print(f"  {len(pending)} sagas still running after {timeout} s", file=sys.stderr)
            done.update({sid: queries.get_saga(sid) for sid in pending})
            break
        time.sleep(0.5)
    return list(done.values())


def time_now():
    from workers.steps import utcnow

    return utcnow()
