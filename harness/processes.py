"""Processes the harness starts: each in its own session, logged to a file, and always
stopped by process group, whatever happens to the run (``stop_all`` runs at exit).

Used by the tests, the benchmarks and the chaos harness alike: ``Managed`` (any command),
``Worker`` and ``Beat`` (a Celery process of ``workers``), ``wait_for``, ``free_port``,
``run`` (a short command, waited for) and the lookups by process group or environment.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_started: list[Managed] = []
_lock = threading.Lock()


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after it
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def kill_group(pgid: int, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Managed:
    """One command, started in a new session so that its whole group can be stopped."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, cwd: Path = ROOT):
        self.name, self.argv, self.env, self.log, self.cwd = name, argv, env, log, cwd
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._offset = 0
        self._terminating = False

    def start(self) -> Managed:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        self._terminating = False
        with _lock:
            if self not in _started:
                _started.append(self)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, since_start: bool = True) -> str:
        with open(self.log, "rb") as f:
            f.seek(self._offset if since_start else 0)
            return f.read().decode(errors="replace")

    def fail_if_exited(self) -> bool:
        """``False`` while the process runs; once it has exited, raise with its log's tail
        (a wait for it to come up fails at once)."""
        if not self.alive:
            raise RuntimeError(f"{self.name} exited: {self.log_text()[-2000:]}")
        return False

    def members(self) -> list[int]:
        return group_members(self.proc.pid) if self.proc else []

    def terminate(self) -> None:
        """Ask the main process to stop gracefully (SIGTERM), once."""
        if self.alive and not self._terminating:
            self._terminating = True
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the main process (a graceful stop), then SIGKILL to what is left of
        its group after ``timeout``."""
        if self.proc is None:
            return
        if self.alive:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # orphans of a killed main process keep the group alive: end them too
        kill_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        try:
            wait_for(lambda: not self.members(), timeout=10, what=f"{self.name}'s group to exit")
        except TimeoutError:
            pass


class CeleryProcess(Managed):
    """A ``celery -A workers ...`` process, ready once ``ready_marker`` is in its log."""

    ready_marker = ""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        super().__init__(name, [sys.executable, "-m", "celery", "-A", "workers", *args], env, log)

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(lambda: self.fail_if_exited() or self.ready_marker in self.log_text(),
                 timeout=timeout, what=f"{self.name} to be ready")


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


def stop_all() -> None:
    """Stop every process this harness started, newest first."""
    with _lock:
        started = list(reversed(_started))
        _started.clear()
    for p in started:
        with contextlib.suppress(Exception):  # keep stopping the others
            p.stop(timeout=10)


atexit.register(stop_all)


def run(argv: list[str], *, env: dict | None = None, timeout: float = 120,
        check: bool = True) -> subprocess.CompletedProcess:
    """A short command, waited for; its output captured."""
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} … exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-1500:]}")
    return done


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
