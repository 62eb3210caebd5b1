"""The real boxoffice stack as deployed: the Procfile's gateway (gunicorn), worker per
queue and beat, each its own process group (Flower is left out); a supervisor that
restarts a worker whose main process died; and the ``kill -9`` fault."""
from __future__ import annotations

import os
import random
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from harness.processes import ROOT, Managed, free_port, kill_group, run, wait_for
from harness.sagas import QUEUES

READY = re.compile(r"@\S+ ready\.")


def procfile(path: Path = ROOT / "Procfile") -> dict:
    """``{process name: shell command}`` of the Procfile."""
    entries = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            entries[name.strip()] = command.strip()
    return entries


def from_procfile(name: str, env: dict, log: Path) -> Managed:
    """A Procfile process, run by ``sh -c 'exec …'`` so that its main process is ours."""
    return Managed(name, ["/bin/sh", "-c", "exec " + procfile()[name]], env, log)


def migrate(env: dict) -> None:
    run([sys.executable, "-m", "flask", "--app", "api", "db", "upgrade"], env=env)


@dataclass
class Kill:
    at: float
    queue: str
    pid: int
    role: str  # main | child


@dataclass
class Stack:
    env: dict
    log_dir: Path
    port: int = field(default_factory=free_port)
    workers: dict = field(default_factory=dict)
    kills: list = field(default_factory=list)
    restarts: int = 0

    def __post_init__(self):
        self.env = {**self.env, "BOXOFFICE_PORT": str(self.port)}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.gateway = from_procfile("gateway", self.env, self.log_dir / "gateway.log")
        for q in QUEUES:
            self.workers[q] = from_procfile(q, self.env, self.log_dir / f"worker-{q}.log")
        self.beat = from_procfile("beat", self.env, self.log_dir / "beat.log")
        self._supervising = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- start and stop ------------------------------------------------------------------

    def start(self, timeout: float = 90) -> None:
        for p in (self.gateway, *self.workers.values(), self.beat):
            p.start()
        deadline = time.monotonic() + timeout
        for w in self.workers.values():
            self.wait_worker_ready(w, deadline - time.monotonic())
        wait_for(self._gateway_up, timeout=max(1, deadline - time.monotonic()),
                 what="the gateway to answer /healthz")
        wait_for(lambda: "beat: Starting" in self.beat.log_text() or self.beat.fail_if_exited(),
                 timeout=max(1, deadline - time.monotonic()), what="beat to start")

    def wait_worker_ready(self, w: Managed, timeout: float) -> None:
        wait_for(lambda: READY.search(w.log_text()) or w.fail_if_exited(),
                 timeout=max(1, timeout), what=f"worker {w.name} to be ready")

    def _gateway_up(self) -> bool:
        self.gateway.fail_if_exited()
        try:
            return requests.get(self.base_url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop_beat(self) -> None:
        self.beat.stop()

    def stop(self) -> None:
        """Stop everything, gateway and beat first; workers finish what they hold."""
        self.stop_supervising()
        processes = (self.gateway, self.beat, *self.workers.values())
        for p in processes:
            p.terminate()
        for p in processes:
            p.stop(timeout=30)

    # -- supervision and the kill -9 fault -------------------------------------------------

    def supervise(self, interval: float = 0.2) -> None:
        """Restart a worker whose main process died, like a process supervisor would:
        what is left of its group is killed first."""
        def loop():
            while not self._supervising.wait(interval):
                for w in self.workers.values():
                    with self._lock:
                        if w.proc is not None and not w.alive:
                            kill_group(w.proc.pid, signal.SIGKILL)
                            w.start()
                            self.restarts += 1
        self._supervising.clear()
        self._supervisor = threading.Thread(target=loop, name="chaos-supervisor", daemon=True)
        self._supervisor.start()

    def stop_supervising(self) -> None:
        self._supervising.set()
        if self._supervisor is not None:
            self._supervisor.join()
            self._supervisor = None

    def kill_random_worker_process(self, rng: random.Random, t0: float) -> Kill | None:
        """``kill -9`` one random member of one random worker's process group."""
        with self._lock:
            q = rng.choice(QUEUES)
            w = self.workers[q]
            members = w.members() if w.alive else []
            if not members:
                return None
            pid = rng.choice(sorted(members))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return None
            kill = Kill(at=time.monotonic() - t0, queue=q, pid=pid,
                        role="main" if pid == w.pid else "child")
            self.kills.append(kill)
            return kill

    def logs(self) -> str:
        """Every worker's whole log, restarts included."""
        return "\n".join(w.log_text(since_start=False) for w in self.workers.values())
