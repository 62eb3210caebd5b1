"""``spool://``: many processes share one spool; each message is delivered once, whole.

The multi-process test runs this file as a script for its producer and consumer processes
(``python test_spool_transport.py produce|consume ...``), so they are real, separate
interpreters like the gateway and the Celery workers of ``make run``.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from time import monotonic, sleep

import kombu
import pytest

from harness.processes import wait_for
import workers.spool  # noqa: F401  registers the spool:// transport alias

ROOT = Path(workers.spool.__file__).resolve().parent.parent
QUEUE = "jobs"
PRODUCERS, CONSUMERS, MESSAGES = 2, 3, 600
BIG = 50 * 1024  # bytes: far more than one write() is guaranteed to put down at once
CHILD_DEADLINE_S = 30.0  # a bound for failures only: consumers normally stop at a marker


def spool_options(spool: Path) -> dict:
    queue = str(spool / "queue")  # in and out are one folder, as in celeryconfig
    return {
        "data_folder_in": queue,
        "data_folder_out": queue,
        "processed_folder": str(spool / "claimed"),
        "control_folder": str(spool / "control"),
        "polling_interval": 0.005,
    }


def blob_for(message_id: str, big: bool) -> str:
    unit = hashlib.sha256(message_id.encode()).hexdigest()
    size = BIG if big else 64
    return (unit * (size // len(unit) + 1))[:size]


# --- child processes -------------------------------------------------------------------

def produce(spool: Path, prefix: str, count: int) -> int:
    with kombu.Connection("spool://", transport_options=spool_options(spool)) as conn:
        jobs = conn.SimpleQueue(QUEUE)
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":  # start together with the other producer
            return 3
        for i in range(count):
            message_id = f"{prefix}-{i}"
            blob = blob_for(message_id, big=i % 3 == 0)
            jobs.put({"id": message_id, "blob": blob,
                      "digest": hashlib.sha256(blob.encode()).hexdigest()})
        jobs.close()
    return 0


def consume(spool: Path, out_path: Path) -> int:
    """Record every message received until a stop marker; exit 2 if none comes in time."""
    deadline = monotonic() + CHILD_DEADLINE_S
    with kombu.Connection("spool://", transport_options=spool_options(spool)) as conn, \
            open(out_path, "w") as out:
        jobs = conn.SimpleQueue(QUEUE)
        print("ready", flush=True)
        while monotonic() < deadline:
            try:
                message = jobs.get(block=True, timeout=0.2)
            except jobs.Empty:
                continue
            try:
                body = message.decode()
                if body.get("stop"):
                    message.ack()
                    return 0
                record = {"id": body["id"], "size": len(body["blob"]),
                          "intact": hashlib.sha256(body["blob"].encode()).hexdigest()
                          == body["digest"]}
            except Exception as exc:  # recorded, so the test names what went wrong
                record = {"undecodable": repr(exc), "raw": repr(message.body)[:200]}
            message.ack()
            out.write(json.dumps(record) + "\n")
            out.flush()
    return 2


def hold(spool: Path) -> int:
    """Take one message and never acknowledge it: a consumer killed mid-task."""
    with kombu.Connection("spool://", transport_options=spool_options(spool)) as conn:
        jobs = conn.SimpleQueue(QUEUE)
        print("ready", flush=True)
        message = jobs.get(block=True, timeout=CHILD_DEADLINE_S)
        print(f"holding {message.payload['id']}", flush=True)
        sys.stdin.readline()  # until killed
    return 2


def celery_app(spool: Path):
    """A Celery app on the spool with one late-acknowledged task, as the workers have."""
    from celery import Celery

    app = Celery("spooled", broker="spool://", set_as_current=False)
    app.conf.update(broker_transport_options=spool_options(spool), task_acks_late=True,
                    task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                    broker_connection_retry_on_startup=True)

    @app.task(name="work")
    def work(job_id: str, journal: str, release: str):
        with open(journal, "a") as f:
            f.write(f"started {job_id} in {os.getpid()}\n")
        while not os.path.exists(release):  # mid-task until the test releases it
            sleep(0.02)
        with open(journal, "a") as f:
            f.write(f"done {job_id}\n")

    return app


def celery_worker(spool: Path) -> int:
    os.environ.pop("CELERY_BROKER_URL", None)  # it would override the app's spool://
    print("ready", flush=True)
    celery_app(spool).worker_main(["worker", "--pool", "solo", "--loglevel", "INFO",
                                   "--without-gossip", "--without-mingle",
                                   "--without-heartbeat"])
    return 0


def _main(argv: list[str]) -> int:
    role, spool = argv[0], Path(argv[1])
    if role == "produce":
        return produce(spool, argv[2], int(argv[3]))
    if role == "consume":
        return consume(spool, Path(argv[2]))
    if role == "hold":
        return hold(spool)
    if role == "celery-worker":
        return celery_worker(spool)
    raise SystemExit(f"unknown role {role!r}")


# --- tests -----------------------------------------------------------------------------

def _nothing_in(queue) -> bool:
    try:
        queue.get_nowait()
    except queue.Empty:
        return True
    return False


def _start(*args: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen(
        [sys.executable, __file__, *args], cwd=ROOT, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
    )
    ready = process.stdout.readline().strip()
    if ready != "ready":
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"{args[0]} did not start: {ready!r}\n{err}")
    return process


@pytest.mark.timeout(120)
def test_every_message_from_concurrent_producers_reaches_exactly_one_of_several_consumers(
        tmp_path):
    spool = tmp_path / "spool"
    with kombu.Connection("spool://", transport_options=spool_options(spool)) as conn:
        # Declared once up front: kombu's filesystem transport (which spool inherits this
        # from) can corrupt an exchange's binding file when processes declare it first at
        # the same moment; this test is about the messages.
        conn.SimpleQueue(QUEUE).close()

    outputs = [tmp_path / f"consumer-{n}.jsonl" for n in range(CONSUMERS)]
    per_producer = MESSAGES // PRODUCERS
    consumers, producers = [], []
    try:
        for out in outputs:
            consumers.append(_start("consume", str(spool), str(out)))
        for n in range(PRODUCERS):
            producers.append(_start("produce", str(spool), f"p{n}", str(per_producer)))
        for p in producers:  # all consumers are consuming: now both producers at once
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in producers:
            _, err = p.communicate(timeout=CHILD_DEADLINE_S)
            assert p.returncode == 0, f"producer failed:\n{err}"

        with kombu.Connection("spool://", transport_options=spool_options(spool)) as conn:
            jobs = conn.SimpleQueue(QUEUE)
            for _ in consumers:
                jobs.put({"stop": True})
            jobs.close()

        errors = []
        for c in consumers:
            _, err = c.communicate(timeout=CHILD_DEADLINE_S + 5)
            if c.returncode != 0:
                errors.append(f"consumer exited {c.returncode}:\n{err}")
        assert not errors, "\n".join(errors)
    finally:
        for p in producers + consumers:
            if p.poll() is None:
                p.kill()
                p.communicate()

    records = [[json.loads(line) for line in out.read_text().splitlines()] for out in outputs]
    everything = [r for rs in records for r in rs]
    bad = [r for r in everything if "undecodable" in r or not r["intact"]]
    assert not bad, bad[:5]
    counts = Counter(r["id"] for r in everything)
    expected = {f"p{n}-{i}" for n in range(PRODUCERS) for i in range(per_producer)}
    assert set(counts) == expected, sorted(set(counts) ^ expected)[:10]
    assert [i for i, n in counts.items() if n > 1] == []
    assert sum(r["size"] == BIG for r in everything) == PRODUCERS * len(range(0, per_producer, 3))
    assert sum(1 for rs in records if rs) >= 2, "the consumers never competed for messages"
    assert list((spool / "queue").iterdir()) == []
    assert _claimed_files(spool) == []


def _claimed_files(spool: Path) -> list:
    return [p for p in (spool / "claimed").rglob("*") if p.is_file()]


def _kill_9(process: subprocess.Popen) -> None:
    process.kill()  # SIGKILL: no handler, no cleanup, as kill -9
    process.communicate()


@pytest.mark.timeout(60)
def test_a_message_claimed_by_a_consumer_killed_before_acking_goes_to_the_next_one(tmp_path):
    spool = tmp_path / "spool"
    with kombu.Connection("spool://", transport_options=spool_options(spool)) as conn:
        jobs = conn.SimpleQueue(QUEUE)
        jobs.put({"id": "mid-task"})
        holder = _start("hold", str(spool))
        try:
            assert holder.stdout.readline().strip() == "holding mid-task"
            assert jobs.qsize() == 0 and len(_claimed_files(spool)) == 1  # kept while unacked
        finally:
            _kill_9(holder)

        again = jobs.get(timeout=10)  # a live consumer restores what the dead one held
        assert again.payload == {"id": "mid-task"}
        again.ack()
        assert _nothing_in(jobs)
    assert _claimed_files(spool) == []


@pytest.mark.timeout(120)
def test_an_embedded_worker_killed_mid_task_loses_nothing_the_next_worker_completes_it(
        tmp_path, monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # it would override spool://
    spool, journal, release = tmp_path / "spool", tmp_path / "journal", tmp_path / "release"
    journal.touch()
    log = open(tmp_path / "workers.log", "w")
    first = _start("celery-worker", str(spool), stderr=log)
    try:
        celery_app(spool).send_task("work", args=["job-1", str(journal), str(release)])
        wait_for(lambda: "started job-1" in journal.read_text(), timeout=60,
                 what="the first worker to start the task")
        assert "Connected to spool://" in (tmp_path / "workers.log").read_text()
    finally:
        _kill_9(first)
    assert "done" not in journal.read_text()
    release.touch()
    second = _start("celery-worker", str(spool), stderr=log)
    try:
        wait_for(lambda: "done job-1" in journal.read_text(), timeout=60,
                 what=f"the second worker to complete the task (log: {log.name})")
        wait_for(lambda: _claimed_files(spool) == [], timeout=10, what="the ack")
    finally:
        second.terminate()
        second.communicate(timeout=30)
        log.close()
    started = [line for line in journal.read_text().splitlines() if line.startswith("started")]
    assert len(started) == 2 and started[0] != started[1]  # by the killed worker, then the next
    assert journal.read_text().count("done job-1") == 1


def test_a_message_rejected_without_requeue_lands_in_the_dead_letter_queue(tmp_path):
    options = spool_options(tmp_path)
    with kombu.Connection("spool://", transport_options=options) as conn:
        jobs = conn.SimpleQueue(QUEUE)
        jobs.put({"id": "poison"}, headers={"origin": "test"})
        message = jobs.get(timeout=5)
        message.reject(requeue=False)
        assert jobs.qsize() == 0
        jobs.close()

    # another connection (another process, in life) finds it in <queue>.dead
    with kombu.Connection("spool://", transport_options=options) as conn:
        dead = conn.SimpleQueue(f"{QUEUE}.dead")
        dead_message = dead.get(timeout=5)
        assert dead_message.payload == {"id": "poison"}
        assert dead_message.headers.get("origin") == "test"
        dead_message.ack()
        assert dead.qsize() == 0
        assert _nothing_in(conn.SimpleQueue(QUEUE)), "the rejected message is still in its queue"


def test_a_message_rejected_with_requeue_goes_back_to_its_queue_not_the_dead_letters(tmp_path):
    with kombu.Connection("spool://", transport_options=spool_options(tmp_path)) as conn:
        jobs = conn.SimpleQueue(QUEUE)
        jobs.put({"id": "retry-me"})
        jobs.get(timeout=5).reject(requeue=True)

        again = jobs.get(timeout=5)
        assert again.payload == {"id": "retry-me"}
        again.ack()
        assert conn.SimpleQueue(f"{QUEUE}.dead").qsize() == 0


def test_a_half_written_message_file_is_invisible_to_consumers(tmp_path):
    options = spool_options(tmp_path)
    with kombu.Connection("spool://", transport_options=options) as conn:
        jobs = conn.SimpleQueue(QUEUE)
        jobs.put({"id": "whole"})
        [whole] = os.listdir(options["data_folder_in"])
        # what a producer leaves behind mid-write: a partial file next to the real ones
        partial = Path(options["data_folder_in"], "0" + whole + ".part")
        partial.write_text('{"body": "trunc')

        assert jobs.qsize() == 1
        message = jobs.get(timeout=5)
        assert message.payload == {"id": "whole"}
        message.ack()
        assert _nothing_in(jobs), "a partial file was delivered"
        assert partial.exists()


def test_messages_of_one_queue_are_not_delivered_from_a_queue_with_a_similar_name(tmp_path):
    with kombu.Connection("spool://", transport_options=spool_options(tmp_path)) as conn:
        conn.SimpleQueue("a.jobs").put({"id": "for a.jobs"})
        assert _nothing_in(conn.SimpleQueue(QUEUE)), "jobs received a message of a.jobs"
        assert conn.SimpleQueue("a.jobs").get(timeout=5).payload == {"id": "for a.jobs"}


def test_the_size_of_a_queue_counts_only_its_own_messages(tmp_path):
    with kombu.Connection("spool://", transport_options=spool_options(tmp_path)) as conn:
        conn.SimpleQueue("jobs.dead").put({"id": "dead job"})

        assert conn.SimpleQueue("dead").qsize() == 0


def test_a_second_spool_in_one_process_gets_its_own_bindings(tmp_path):
    for n in range(2):
        options = spool_options(tmp_path / f"spool-{n}")
        with kombu.Connection("spool://", transport_options=options) as conn:
            jobs = conn.SimpleQueue(QUEUE)
            jobs.put({"n": n})
            assert _nothing_in(jobs) is False, f"spool {n} lost its message"


def test_binding_a_queue_keeps_bindings_another_process_wrote_meanwhile(tmp_path, monkeypatch):
    with kombu.Connection("spool://", transport_options=spool_options(tmp_path)) as conn:
        channel = conn.default_channel
        exchange_file = channel._exchange_file("shared")
        real_exists = Path.exists
        with monkeypatch.context() as m:
            # This process looked before the other one created the file...
            m.setattr(Path, "exists",
                      lambda self: False if self == exchange_file else real_exists(self))
            # ...then the other process wrote its binding...
            exchange_file.write_text(json.dumps([["theirs", "", "theirs"]]))
            # ...and now this process binds its queue.
            channel._queue_bind("shared", "ours", "", "ours")

        assert sorted(q.queue for q in channel.get_table("shared")) == ["ours", "theirs"]


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
