"""Counters of what a saga costs, in every process the benchmark starts.

This folder is put on ``PYTHONPATH`` of the measured processes only, with
``BENCH_COUNTERS`` naming a Redis hash: each process counts the task messages it
publishes and runs, and the SQL statements, commits, rollbacks and pool checkouts it
makes, in memory, and adds them to ``<BENCH_COUNTERS>:<kind>`` twice a second.
"""
import os
import sys

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


def _install() -> None:
    import threading
    from collections import Counter

    import redis
    from celery.signals import before_task_publish, task_prerun
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    state = {"pid": None, "counts": Counter(), "lock": threading.Lock()}
    hash_key = f"{_KEY}:{_kind()}"

    def flush(client, counts):
        with state["lock"]:
            pending, state["counts"] = state["counts"], Counter()
        if pending:
            pipe = client.pipeline(transaction=False)
            for field, n in pending.items():
                pipe.hincrby(hash_key, field, n)
            pipe.execute()

    def loop():
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        stop = threading.Event()
        while not stop.wait(0.5):
            try:
                flush(client, state["counts"])
            except Exception:  # noqa: BLE001  counting must never break the process
                pass

    def count(field: str) -> None:
        if state["pid"] != os.getpid():  # a forked child starts its own flusher
            state["pid"], state["counts"] = os.getpid(), Counter()
            state["lock"] = threading.Lock()
            threading.Thread(target=loop, daemon=True, name="bench-counters").start()
        with state["lock"]:
            state["counts"][field] += 1

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
