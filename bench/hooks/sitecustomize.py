"""Counters of what a saga costs, in every process the benchmark starts.

This folder is put on ``PYTHONPATH`` of the measured processes only, with
``BENCH_COUNTERS`` naming a Redis hash: each process counts the task messages it
publishes and runs, and the SQL statements, commits, rollbacks and pool checkouts it
makes, in memory, and adds them to ``<BENCH_COUNTERS>:<kind>`` twice a second.
"""
import os
import sys
import threading
from collections import Counter

_KEY = os.environ.get("BENCH_COUNTERS")


def _kind() -> str:
    if os.environ.get("BENCH_KIND"):
        return os.environ["BENCH_KIND"]
    argv = sys.argv
    if "-Q" in argv:
        return argv[argv.index("-Q") + 1]
    if "beat" in argv:
        return "beat"
    if any("gunicorn" in a for a in argv[:2]):
        return "gateway"
    return "other"


class _Counts:
    """Counts kept in memory and added to the Redis hash ``hash_key`` twice a second by a
    thread of each process (a forked child starts its own) with a client of ``connect()``."""

    def __init__(self, hash_key: str, connect):
        self.hash_key, self.connect = hash_key, connect
        self.pid, self.counts, self.lock = None, Counter(), threading.Lock()

    def flush(self, client) -> None:
        with self.lock:
            pending, self.counts = self.counts, Counter()
        if pending:
            pipe = client.pipeline(transaction=False)
            for field, n in pending.items():
                pipe.hincrby(self.hash_key, field, n)
            pipe.execute()

    def loop(self) -> None:
        client = self.connect()
        stop = threading.Event()
        while not stop.wait(0.5):
            try:
                self.flush(client)
            except Exception:  # noqa: BLE001  counting must never break the process
                pass

    def count(self, field: str) -> None:
        if self.pid != os.getpid():  # a forked child starts its own flusher
            self.pid, self.counts = os.getpid(), Counter()
            self.lock = threading.Lock()
            threading.Thread(target=self.loop, daemon=True, name="bench-counters").start()
        with self.lock:
            self.counts[field] += 1


def _install() -> None:
    import redis
    from celery.signals import before_task_publish, task_prerun
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    count = _Counts(f"{_KEY}:{_kind()}",
                    lambda: redis.Redis.from_url(os.environ["REDIS_URL"])).count
    before_task_publish.connect(
        lambda sender=None, **_: count(f"publish {sender}"), weak=False)
    task_prerun.connect(lambda sender=None, **_: count(f"run {sender.name}"), weak=False)
    def statement(conn, *_, **__):
        count("statement")
        if conn._is_autocommit_isolation():
            count("autocommit")  # a statement that is its own transaction

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", lambda *a, **k: count("commit"))
    def rollback(conn, *_, **__):
        if not conn._is_autocommit_isolation():  # closing an autocommit connection
            count("rollback")

    event.listen(Engine, "rollback", rollback)
    event.listen(Pool, "checkout", lambda *a, **k: count("checkout"))


if _KEY:
    try:
        _install()
    except Exception as exc:  # noqa: BLE001
        print(f"bench counters off: {exc}", file=sys.stderr)
