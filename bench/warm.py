"""What a load opens before its window: its broker connections and its database
connections, as many as its threads hold at once. A running client (a gateway worker, a
long-lived load) opened them long before; a load is a new process each time, and without
this its first purchases or chains paid for them in the window.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor


def warm_broker(app, threads: int) -> None:
    """Open the broker connections and channels of the app's producer pool."""
    producers = [app.producer_pool.acquire(block=True)
                 for _ in range(min(threads, app.conf.broker_pool_limit or threads))]
    try:
        for producer in producers:
            producer.channel  # noqa: B018  reading it connects and opens the channel
    finally:
        for producer in producers:
            producer.release()


def warm_database(threads: int) -> None:
    """Open the start's pooled PostgreSQL connections (in autocommit): each new one forks
    a server process, which a load's first purchases paid for in its window."""
    from workers.db import autocommit, is_postgres

    if not is_postgres():
        return
    with autocommit() as conn:
        parties = min(threads, conn.engine.pool.size())
    barrier = threading.Barrier(parties)

    def hold(_):
        with autocommit() as conn:
            conn.exec_driver_sql("SELECT 1")
            barrier.wait(timeout=60)

    with ThreadPoolExecutor(parties) as pool:
        list(pool.map(hold, range(parties)))
