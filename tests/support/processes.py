"""Real worker processes for tests, started and stopped by process id."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class CeleryProcess:
    """A ``celery -A workers ...`` process logging to a file, stopped by process group."""

    ready_marker = ""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self):
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", *self.args],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        out.close()
        return self

    def log_text(self) -> str:
        with open(self.log, "rb") as f:
            f.seek(self._offset)
            return f.read().decode(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_text()[-2000:]}")
            return self.ready_marker in self.log_text()
        wait_for(ready, timeout=timeout, what=f"{self.name} to be ready")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if not self.alive:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Worker(CeleryProcess):
    """A worker consuming one queue."""

    def __init__(self, queue: str, env: dict, log_dir: Path, *, concurrency: int = 2, tag: str = ""):
        name = f"{queue}{tag}@test"
        super().__init__(name, ["worker", "-Q", queue, "-n", name, "-c", str(concurrency),
                                "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
                         env, log_dir / f"worker-{queue}{tag}.log")
        self.queue = queue
        self.ready_marker = f"{name} ready."


class Beat(CeleryProcess):
    """The beat scheduler."""

    ready_marker = "beat: Starting"

    def __init__(self, env: dict, log_dir: Path):
        super().__init__("beat", ["beat", "--loglevel", "INFO",
                                  "-s", str(log_dir / "beat-schedule")], env, log_dir / "beat.log")


#: where load is driven, the gateway's request rate limits and per-buyer caps are off, so
#: that what is measured is the saga, not the limiter
UNLIMITED = {"RATELIMIT_ENABLED": "false", "MAX_OPEN_PURCHASES_PER_USER": "0",
             "MAX_HELD_SEATS_PER_USER": "0"}


def child_env(**overrides) -> dict:
    env = {**os.environ, **UNLIMITED}
    env.update({k: v for k, v in overrides.items() if v is not None})
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
    env["PYTHONPATH"] = str(ROOT)
    return env


def pids_with_env(name: str, value: str) -> list[int]:
    """Processes whose environment has ``name=value``: every process of a stack started
    with a unique value, however its supervisor grouped or re-parented them."""
    marker = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def kill_all_with_env(name: str, value: str) -> None:
    for pid in pids_with_env(name, value):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
