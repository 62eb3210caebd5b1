"""The loads of the baselines, which run none of boxoffice's code: the ceiling (chains of
no-op Celery tasks, ``bench.noop``) and bare HTTP POSTs; and what every load of
``bench.drive`` shares: its threads and its progress lines.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from bench.warm import warm_broker

THREADS = 16


def progress(what: str, done: int, total: int, t0: float) -> None:
    print(f"    {what}: {done}/{total} after {time.monotonic() - t0:5.1f} s",
          file=sys.stderr, flush=True)


def consumers_of(app, queues) -> dict:
    """``{queue: [worker, ...]}``: which workers consume each of ``queues`` now."""
    active = app.control.inspect(timeout=2).active_queues() or {}
    return {q: sorted(w for w, qs in active.items() if any(x["name"] == q for x in qs))
            for q in queues}


@contextmanager
def consumers_paused(app, queues):
    """The workers consuming ``queues`` stop (``cancel_consumer``), and resume after
    (``add_consumer``), each only for the queues it consumed: a broadcast ``add_consumer``
    would have every worker consume every queue from then on."""
    before = consumers_of(app, queues)
    for queue, workers in before.items():
        if workers and len(app.control.cancel_consumer(
                queue, destination=workers, reply=True, timeout=10,
                limit=len(workers))) < len(workers):
            raise RuntimeError(f"not every worker answered: stop consuming {queue}")
    try:
        yield
    finally:
        for queue, workers in before.items():
            if workers:
                app.control.add_consumer(queue, destination=workers, reply=True,
                                         timeout=10, limit=len(workers))
    after = consumers_of(app, queues)
    if after != before:
        raise RuntimeError(f"the workers' queues changed across the pause: {before} -> {after}")


# -- the ceiling ------------------------------------------------------------------------

def _chains_done(ids) -> dict:
    import redis

    from bench import noop

    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    raw = r.hmget(noop.DONE_KEY, ids)
    return {i: v for i, v in zip(ids, raw) if v is not None}


def _wait_chains(ids, t0, interval=0.1) -> float:
    last_print = time.monotonic()
    while True:
        done = len(_chains_done(ids))
        now = time.monotonic()
        if done == len(ids):
            return now - t0
        if now - last_print > 3:
            progress("chains done", done, len(ids), t0)
            last_print = now
        time.sleep(interval)


def _chain_latencies(ids) -> list[float]:
    out = []
    for v in _chains_done(ids).values():
        started, done = map(float, v.split())
        out.append((done - started) * 1000)
    return out


def ceiling(n: int) -> dict:
    from bench import noop

    warm_broker(noop.app, THREADS)
    ids = [uuid.uuid4().hex for _ in range(n)]
    t0 = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(noop.start, ids))
    took = _wait_chains(ids, t0)
    return {"n": n, "seconds": took, "per_second": n / took}


def _warm_ceiling() -> None:
    """The connections opened, and one chain run (not measured), as for boxoffice's
    latency loads."""
    from bench import noop

    warm_broker(noop.app, THREADS)
    first = uuid.uuid4().hex
    noop.start(first)
    _wait_chains([first], time.monotonic(), interval=0.001)


def ceiling_sequential(n: int) -> dict:
    from bench import noop

    _warm_ceiling()
    ids = [uuid.uuid4().hex for _ in range(n)]
    for i in ids:
        noop.start(i)
        _wait_chains([i], time.monotonic(), interval=0.001)
    return {"n": n, "latencies_ms": _chain_latencies(ids)}


def ceiling_open(n: int, rate: float) -> dict:
    from bench import noop

    _warm_ceiling()
    ids = [uuid.uuid4().hex for _ in range(n)]
    t0 = time.monotonic()

    def paced(i_id):
        i, cid = i_id
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the arrival schedule
        noop.start(cid)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(paced, enumerate(ids)))
    _wait_chains(ids, t0)
    return {"n": n, "rate": rate, "latencies_ms": _chain_latencies(ids)}


# -- HTTP -------------------------------------------------------------------------------

def http(n: int, url: str) -> dict:
    """``n`` POSTs of a small JSON body from 16 threads; answers per second."""
    import requests

    local = threading.local()

    def one(_):
        if not hasattr(local, "s"):
            local.s = requests.Session()
        r = local.s.post(url, json={"quantity": 1}, timeout=30)
        if r.status_code >= 300:
            raise RuntimeError(f"{url} answered {r.status_code}")

    t0 = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(n)))
    took = time.monotonic() - t0
    return {"n": n, "seconds": took, "per_second": n / took}
