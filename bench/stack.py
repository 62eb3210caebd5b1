"""The processes a benchmark measures and what it reads of them: CPU time and peak memory
per process kind (from /proc), the counters of ``bench/hooks``, and log lines."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

from bench.drive import MEASURING
from harness.environment import stack_env
from harness.processes import ROOT, Managed, free_port, wait_for
from harness.sagas import QUEUES
from harness.stack import READY, Stack, procfile

HOOKS = ROOT / "bench" / "hooks"
TICK = os.sysconf("SC_CLK_TCK")
#: how long until every process has flushed its counters (``bench/hooks``: every 0.5 s)
FLUSH_SECONDS = 1.5


def _stat_ticks(pid: int) -> int:
    """utime + stime of a process and of its waited-for children, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in fields[11:15])


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_of_server(comm: str, cmdline_has: str = "") -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if Path(f"/proc/{entry}/comm").read_text().strip() != comm:
                continue
            if cmdline_has and cmdline_has.encode() not in Path(f"/proc/{entry}/cmdline").read_bytes():
                continue
        except OSError:
            continue
        found.append(int(entry))
    return found


class Kinds:
    """Process kinds by name, each a function giving its current pids."""

    def __init__(self):
        self.kinds: dict = {}

    def add(self, name: str, pids) -> None:
        self.kinds[name] = pids

    def snapshot(self) -> dict:
        return {name: {pid: _stat_ticks(pid) for pid in pids()} for name, pids in self.kinds.items()}

    @staticmethod
    def cpu_seconds(before: dict, after: dict) -> dict:
        return {name: sum(t - before.get(name, {}).get(pid, 0) for pid, t in now.items()) / TICK
                for name, now in after.items()}

    def peak_rss_mb(self) -> dict:
        return {name: round(sum(_peak_rss_kb(p) for p in pids()) / 1024, 1)
                for name, pids in self.kinds.items()}


class Driver:
    """Runs ``python -m bench.drive`` with a stack's environment; measures CPU around it."""

    def __init__(self, env: dict, kinds: Kinds, counted_env: dict | None = None):
        self.env, self.kinds, self.counted_env = env, kinds, counted_env or {}

    def run(self, scenario: str, counted: bool = False, **options) -> dict:
        """One scenario; ``counted``: with the counters on in the load's process too."""
        argv = [sys.executable, "-m", "bench.drive", scenario]
        for k, v in options.items():
            argv += [f"--{k}", str(v)]
        before, t0 = self.kinds.snapshot(), time.monotonic()
        env = {**self.env, **(self.counted_env if counted else {})}
        lines = []
        with subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as p:
            for line in p.stdout:
                if line.strip() == MEASURING:  # the setup is done: the window starts here
                    before, t0 = self.kinds.snapshot(), time.monotonic()
                else:
                    lines.append(line)
        if p.returncode != 0:
            raise RuntimeError(f"bench.drive {scenario} exited {p.returncode}")
        result = json.loads("".join(lines).strip().splitlines()[-1])
        result["cpu_seconds"] = Kinds.cpu_seconds(before, self.kinds.snapshot())
        result["wall_seconds"] = time.monotonic() - t0
        return result


def _managed(name: str, command: str, env: dict, log: Path) -> Managed:
    return Managed(name, ["/bin/sh", "-c", "exec " + command], env, log)


class CeilingWorkers:
    """The no-op chain's three workers (``bench.noop``), Celery's defaults otherwise."""

    def __init__(self, env: dict, log_dir: Path, tag: str):
        self.env, self.tag = env, tag
        self.procs = [_managed(q, f"celery -A bench.noop worker -Q {q}{tag} -n {q}{tag}@%h",
                               env, log_dir / f"{q}{tag}.log") for q in ("noop1", "noop2", "noop3")]

    def __enter__(self):
        for p in self.procs:
            p.start()
        r = redis.Redis.from_url(self.env["REDIS_URL"])
        for p in self.procs:
            wait_for(lambda: r.keys(f"{self.env['NOOP_DONE_KEY']}:ready:{p.name}{self.tag}@*")
                     or p.fail_if_exited(), timeout=180, what=f"{p.name} to be ready")
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.stop(timeout=20)

    def kinds(self, database: str | None = None) -> Kinds:
        """Their processes and RabbitMQ's; PostgreSQL's too for work in ``database``."""
        k = Kinds()
        for p in self.procs:
            k.add(p.name, p.members)
        k.add("rabbitmq", lambda: pids_of_server("beam.smp"))
        if database:
            k.add("postgresql", lambda: pids_of_server("postgres", database))
        return k


class BoxofficeStack:
    """The Procfile's gateway, worker per queue and beat on one set of servers (or on the
    embedded default when ``database_url`` is ``None``), with counters on."""

    def __init__(self, *, database_url, broker_url, redis_url, var_dir: Path, counters: str,
                 database_name: str = "", counted: bool = True):
        embedded = database_url is None
        # CELERY_TASK_LOG_LINES: the chaos harness turns them on; deployed, they are off
        self.env = stack_env(database_url=database_url or "", broker_url=broker_url or "",
                             redis_url=redis_url, var_dir=var_dir,
                             CELERY_TASK_LOG_LINES=None,
                             DATABASE_URL=None if embedded else database_url,
                             CELERY_BROKER_URL=None if embedded else broker_url)
        self.driver_env = dict(self.env)
        self.counters, self.redis_url, self.counted = counters, redis_url, counted
        self.env = self._counting_env(self.env, counted)
        self._peaks: dict = {}
        self.log_dir = var_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.stack = Stack(self.env, self.log_dir)
        self.extra: list[Managed] = []
        self.kinds = Kinds()
        self.kinds.add("gateway", self.stack.gateway.members)
        for q in QUEUES:
            self.kinds.add(q, lambda q=q: self.stack.workers[q].members()
                           + [pid for p in self.extra if p.name == q for pid in p.members()])
        self.kinds.add("beat", self.stack.beat.members)
        if not embedded:
            self.kinds.add("rabbitmq", lambda: pids_of_server("beam.smp"))
            self.kinds.add("postgresql", lambda: pids_of_server("postgres", database_name))
        self.driver = Driver(self.driver_env, self.kinds, counted_env={
            **self._counting_env({}, True), "BENCH_KIND": "starter"})

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    def __enter__(self):
        from harness.stack import migrate

        migrate(self.driver_env)
        self.stack.start()
        return self

    def __exit__(self, *exc):
        for p in self.extra:
            p.stop(timeout=30)
        self.stack.stop()

    def _counting_env(self, env: dict, on: bool) -> dict:
        """``env`` with the counters of ``bench/hooks`` on or off."""
        env = {k: v for k, v in env.items() if k != "BENCH_COUNTERS"}
        if on:
            return {**env, "BENCH_COUNTERS": self.counters, "PYTHONPATH": f"{HOOKS}{os.pathsep}{ROOT}"}
        return {**env, "PYTHONPATH": str(ROOT)}

    def counting(self, on: bool) -> bool:
        """Restart the processes with the counters on or off. Counting costs every SQL
        statement some CPU (SQLAlchemy's event hooks, about 30 µs per transaction here),
        which the baselines do not pay: only the parts that read the counters have them.
        Whether it restarted them."""
        if on == self.counted:
            return False
        self._peaks = self.peak_rss_mb()
        self.stack.stop()
        for p in (self.stack.gateway, *self.stack.workers.values(), self.stack.beat):
            p.env = self._counting_env(p.env, on)
        self.env, self.counted = self._counting_env(self.env, on), on
        self.stack.start()
        return True

    def peak_rss_mb(self) -> dict:
        """Peak RSS per kind, the highest of every start of the processes."""
        now = self.kinds.peak_rss_mb()
        return {k: max(v, self._peaks.get(k, 0)) for k, v in now.items()}

    def add_workers(self, queues=("tickets", "payments", "orchestration")) -> None:
        """A second worker per queue, as a process manager scaling the Procfile would."""
        for q in queues:
            command = procfile()[q].replace(f"-n {q}@", f"-n {q}2@")
            p = _managed(q, command, self.env, self.log_dir / f"worker-{q}2.log").start()
            self.extra.append(p)
        for p in self.extra:
            wait_for(lambda: READY.search(p.log_text()) or p.fail_if_exited(), timeout=180,
                     what=f"the second {p.name} worker")

    def remove_workers(self) -> None:
        for p in self.extra:
            p.stop(timeout=30)
        self.extra = []

    def counts(self) -> dict:
        """Counters of every kind so far: ``{kind: {field: n}}``, read once the processes
        have flushed what they counted until now (twice a second)."""
        time.sleep(FLUSH_SECONDS)
        r = redis.Redis.from_url(self.redis_url)
        out = {}
        for key in r.scan_iter(f"{self.counters}:*"):
            kind = key.decode().rsplit(":", 1)[1]
            out[kind] = {k.decode(): int(v) for k, v in r.hgetall(key).items()}
        return out

    def log_lines(self) -> dict:
        lines = {}
        for path in self.log_dir.glob("*.log"):
            with open(path, "rb") as f:
                lines[path.stem] = sum(1 for _ in f)
        return lines

    def trivial_gateway(self, log: Path) -> tuple[Managed, str]:
        """A trivial Flask route served by the Procfile's gunicorn settings."""
        port = free_port()
        command = (procfile()["gateway"].replace("'api:create_app()'", "'bench.trivial:create_app()'")
                   .replace("${BOXOFFICE_PORT:-8000}", str(port)))
        p = _managed("trivial", command, self.driver_env, log).start()
        return p, f"http://127.0.0.1:{port}/accept"


def diff_counts(before: dict, after: dict) -> dict:
    return {kind: {f: n - before.get(kind, {}).get(f, 0) for f, n in fields.items()
                   if n - before.get(kind, {}).get(f, 0)}
            for kind, fields in after.items()}
