"""The load of one measurement, run in its own process with the environment of the stack
it measures (its database, broker and settings): ``python -m bench.drive SCENARIO --n N``.

Progress goes to stderr; the result is one JSON object on stdout's last line.
Latencies are from the start of a purchase (the saga's ``created_at``) to ``confirmed``
(its ``updated_at`` then), both stamped on this machine's clock. The loads of boxoffice are
here; those of the baselines (the ceiling, bare HTTP) are in ``bench.baseline``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from bench.baseline import (
    THREADS, ceiling, ceiling_open, ceiling_sequential, consumers_paused, http, progress,
)
from bench.warm import warm_broker, warm_database
from celeryconfig import DOMAIN_QUEUES
from contracts.statuses import SagaStatus
from harness.sagas import TERMINAL

#: status queries made while waiting (one statement and one transaction each), reported so
#: that counts of what a saga costs can leave them out
POLLS = 0


# -- boxoffice ---------------------------------------------------------------------------

def _event(capacity: int, max_per_order: int = 4) -> tuple:
    from workers.steps import utcnow
    from workers.tickets import queries as tickets, service as tickets_service

    event_id = tickets_service.create_event(
        name="bench", venue="bench", starts_at=utcnow(), created_by=uuid.uuid4(),
        tiers=[{"name": "GA", "price_cents": 1000, "currency": "EUR", "capacity": capacity,
                "max_per_order": max_per_order}])
    return event_id, tickets.get_event(event_id)["tiers"][0]["id"]


def _app():
    from workers.celery_app import app

    return app


def _starter(event_id, tier_id, *, warm: bool = False):
    """Purchases of one buyer each, started through the orchestration service (the load's
    broker and database connections opened first: ``bench.warm``). ``warm``: one purchase
    of an event of its own first, waited for, so that the first purchases measured do not
    pay this process's first run of the code (imports, statements compiled, schemas built)."""
    from workers.orchestration import service

    warm_broker(_app(), THREADS)
    warm_database(THREADS)
    if warm:
        warm_event, warm_tier = _event(1)
        warm_id = service.start_purchase(user_id=uuid.uuid4(), event_id=warm_event,
                                         tier_id=warm_tier, quantity=1,
                                         payment_token="tok_visa")[0]
        _wait_terminal([warm_id], time.monotonic(), interval=0.01)

    def start(quantity: int = 1) -> uuid.UUID:
        return service.start_purchase(user_id=uuid.uuid4(), event_id=event_id, tier_id=tier_id,
                                      quantity=quantity, payment_token="tok_visa")[0]
    return start


def _counts(saga_ids) -> dict:
    global POLLS
    POLLS += 1
    from sqlalchemy import func, select

    from workers.db import transaction
    from workers.orchestration.models import Saga

    with transaction() as s:
        return dict(s.execute(select(Saga.status, func.count()).where(Saga.id.in_(saga_ids))
                              .group_by(Saga.status)).all())


def _in_flight(event_id) -> int:
    """How many sagas of an event are not terminal: read through the status index, so a
    poll costs the system under test a few in-flight rows, not a list of every saga."""
    global POLLS
    POLLS += 1
    from sqlalchemy import func, select

    from workers.db import transaction
    from workers.orchestration.models import Saga

    with transaction() as s:
        return s.scalar(select(func.count()).select_from(Saga).where(
            Saga.status.in_(SagaStatus.in_flight()), Saga.event_id == event_id))


def _wait_terminal(saga_ids, t0, *, what="terminal", timeout=900.0, interval=0.2,
                   event_id=None) -> float:
    """Seconds from ``t0`` until every saga is terminal; prints progress. With
    ``event_id``, ``saga_ids`` are all of that event's sagas, counted by the event."""
    ids, last_print, deadline = list(saga_ids), time.monotonic(), time.monotonic() + timeout
    while True:
        done = (len(ids) - _in_flight(event_id) if event_id is not None else
                sum(n for status, n in _counts(ids).items() if status in TERMINAL))
        now = time.monotonic()
        if done == len(ids):
            return now - t0
        if now - last_print > 3:
            progress(what, done, len(ids), t0)
            last_print = now
        if now > deadline:
            raise TimeoutError(f"{len(ids) - done} sagas not terminal after {timeout} s")
        time.sleep(interval)


def _latencies(saga_ids) -> list[float]:
    from sqlalchemy import select

    from workers.db import transaction
    from workers.orchestration.models import Saga

    with transaction() as s:
        rows = s.execute(select(Saga.created_at, Saga.updated_at)
                         .where(Saga.id.in_(saga_ids), Saga.status == SagaStatus.CONFIRMED)).all()
    return [(done - started).total_seconds() * 1000 for started, done in rows]


#: printed on stdout once a scenario's setup is done: the measured window starts there
MEASURING = "# measuring"


def measuring() -> None:
    """The setup (the event, the buyers' sign-up and login) is done: the runner takes its
    CPU snapshot here, so that the setup's work is not counted per saga."""
    print(MEASURING, flush=True)


def service(n: int) -> dict:
    """``n`` purchases of one seat started by 16 threads through the orchestration service."""
    event_id, tier_id = _event(n)
    start = _starter(event_id, tier_id)
    measuring()
    t0 = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(lambda _: start(), range(n)))
    accepted = time.monotonic() - t0
    took = _wait_terminal(ids, t0, what=SagaStatus.CONFIRMED, event_id=event_id)
    return {"n": n, "seconds": took, "per_second": n / took, "accepted_per_second": n / accepted,
            "statuses": _counts(ids)}


def gateway(n: int, base_url: str, buyers: int = 16, paused: bool = False) -> dict:
    """``n`` purchases of one seat started by 16 threads with ``POST /saga/start``.

    ``paused``: the workers stop consuming while the starts are accepted (as an operator's
    ``celery control cancel_consumer`` does), so that the gateway is measured on a machine
    doing nothing else, as its baseline the trivial route is; they resume afterwards and
    the purchases are then waited for as usual."""
    from chaos.load import Shop

    shop = Shop(base_url, dict(os.environ), random.Random(7))
    shop.setup(events=[[n]], buyers=buyers)
    tier = shop.tiers[0]
    body = {"event_id": tier["event_id"], "tier_id": tier["tier_id"], "quantity": 1,
            "payment_token": "tok_visa"}
    def one(i):
        r = shop.call("POST", "/saga/start", shop.buyer_tokens[i % buyers], json=body,
                      headers={"Idempotency-Key": str(uuid.uuid4())})
        if r.status_code != 202:
            raise RuntimeError(f"POST /saga/start answered {r.status_code}: {r.text[:300]}")
        return r.json()["saga_id"]

    measuring()
    with consumers_paused(_app(), DOMAIN_QUEUES) if paused else nullcontext():
        t0 = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            ids = list(pool.map(one, range(n)))
        accepted = time.monotonic() - t0
    took = _wait_terminal([uuid.UUID(i) for i in ids], t0, what=SagaStatus.CONFIRMED,
                          event_id=uuid.UUID(str(tier["event_id"])))
    return {"n": n, "seconds": took, "per_second": n / took,
            "accepted_per_second": n / accepted, "statuses": _counts([uuid.UUID(i) for i in ids])}


def sequential(n: int) -> dict:
    """One purchase at a time: the latency of an unloaded system."""
    start = _starter(*_event(n), warm=True)
    ids = []
    for _ in range(n):
        sid = start()
        ids.append(sid)
        _wait_terminal([sid], time.monotonic(), interval=0.002)
    return {"n": n, "latencies_ms": _latencies(ids)}


def open_loop(n: int, rate: float) -> dict:
    """Purchases arriving at ``rate`` per second whatever happens (an open loop)."""
    event_id, tier_id = _event(n)
    start = _starter(event_id, tier_id, warm=True)
    t0 = time.monotonic()

    def paced(i):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the arrival schedule, not a wait for a condition
        return start()

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(paced, range(n)))
    _wait_terminal(ids, t0, what=SagaStatus.CONFIRMED, event_id=event_id)
    return {"n": n, "rate": rate, "latencies_ms": _latencies(ids)}


def contention(buyers: int, seats: int) -> dict:
    """``buyers`` of 1-4 seats for ``seats`` seats: time to all terminal, and invariants."""
    from workers.orchestration import queries
    from workers.payments import service as payments
    from workers.tickets import queries as tickets

    rng = random.Random(7)
    event_id, tier_id = _event(seats)
    start = _starter(event_id, tier_id)
    quantities = [rng.randint(1, 4) for _ in range(buyers)]
    t0 = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(start, quantities))
    took = _wait_terminal(ids, t0, event_id=event_id)
    sagas = [queries.get_saga(i) for i in ids]
    sold = sum(s["quantity"] for s in sagas if s["status"] == SagaStatus.CONFIRMED)
    left = tickets.get_event(event_id)["tiers"][0]["available"]
    charged = [payments.payment_of_saga(s["id"]) for s in sagas]
    double = sum(1 for s, p in zip(sagas, charged)
                 if s["status"] != SagaStatus.CONFIRMED
                 and p["charged_cents"] > p["refunded_cents"])
    return {"buyers": buyers, "seats": seats, "seconds": took, "sold": sold, "left": left,
            "oversold": max(0, sold - seats), "availability_exact": left == seats - sold,
            "charged_without_tickets": double,
            SagaStatus.CONFIRMED: sum(s["status"] == SagaStatus.CONFIRMED for s in sagas),
            "statuses": _counts(ids)}


def backlog(n: int) -> dict:
    """``n`` purchases started at once against ample seats: drain time and repeats."""
    from sqlalchemy import func, select

    from workers.db import transaction
    from workers.orchestration.models import OutboxMessage, Saga, SagaStep

    event_id, tier_id = _event(n)
    start = _starter(event_id, tier_id)
    t0 = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(lambda _: start(), range(n)))
    accepted = time.monotonic() - t0
    took = _wait_terminal(ids, t0, what="terminal", event_id=event_id)
    with transaction() as s:
        redrives = s.scalar(select(func.coalesce(func.sum(Saga.redrives), 0))
                            .where(Saga.id.in_(ids)))
        outbox = s.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.saga_id.in_(ids)))
        retried = s.scalar(select(func.count()).select_from(SagaStep)
                           .where(SagaStep.saga_id.in_(ids), SagaStep.attempts > 1))
    return {"n": n, "seconds": took, "accepted_seconds": accepted, "per_second": n / took,
            "redriven_sagas": int(redrives), "extra_outbox_messages": outbox - n,
            "retried_steps": retried, "statuses": _counts(ids)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.drive")
    p.add_argument("scenario")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--seats", type=int, default=1000)
    p.add_argument("--url", default="")
    a = p.parse_args(argv)
    from workers.bootstrap import bootstrap

    bootstrap()  # this process's composition root, on the measured stack's environment
    runs = {
        "service": lambda: service(a.n), "gateway": lambda: gateway(a.n, a.url),
        "gateway-paused": lambda: gateway(a.n, a.url, paused=True),
        "sequential": lambda: sequential(a.n), "open": lambda: open_loop(a.n, a.rate),
        "contention": lambda: contention(a.n, a.seats), "backlog": lambda: backlog(a.n),
        "ceiling": lambda: ceiling(a.n), "ceiling-sequential": lambda: ceiling_sequential(a.n),
        "ceiling-open": lambda: ceiling_open(a.n, a.rate), "http": lambda: http(a.n, a.url),
    }
    result = runs[a.scenario]()
    result["polls"] = POLLS
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
