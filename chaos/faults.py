"""The faults a scenario injects while purchases run. Each runs on its own thread from
``start`` to ``finish`` and reports what it did and whether it took effect.

A server outage starts by progress (once a share of the purchases was accepted), so that
every size of run injects it; kills come every few seconds while the load runs and
until enough landed.
"""
from __future__ import annotations

import random
import threading
import time

from chaos.invariants import Check
from chaos.queues import received_counts, redeliveries


class Fault:
    name = "none"

    def __init__(self):
        self.t0 = 0.0
        self.load_done = threading.Event()
        self.ended_at = 0.0  # seconds since t0 when the last fault action finished
        self.load_done_at = 0.0
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, t0: float) -> None:
        self.t0 = t0
        self._thread = threading.Thread(target=self._guarded, name=f"fault-{self.name}",
                                        daemon=True)
        self._thread.start()

    def _guarded(self):
        try:
            self.run()
        except BaseException as exc:  # noqa: BLE001  re-raised by finish()
            self.error = exc

    def run(self) -> None:
        pass

    def finish(self) -> None:
        """The load is over: let the fault wind down, and wait for it."""
        self.load_done_at = self.now()
        self.load_done.set()
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"fault {self.name} failed: {self.error}") from self.error

    def now(self) -> float:
        return time.monotonic() - self.t0

    def pause_until(self, at: float) -> None:
        time.sleep(max(0.0, at - self.now()))

    def took_effect(self, run) -> Check:
        return Check("fault injected", True, "no fault")


class KillWorkers(Fault):
    """``kill -9`` a random member of a random worker's process group every ``every``
    seconds while the load runs, and on until ``min_kills`` kills hit both main processes
    and pool children; a supervisor restarts workers whose main process died."""

    name = "kill -9 workers"

    def __init__(self, stack, rng: random.Random, *, every: float, min_kills: int):
        super().__init__()
        self.stack, self.rng, self.every, self.min_kills = stack, rng, every, min_kills

    def start(self, t0: float) -> None:
        self.stack.supervise()
        super().start(t0)

    def enough(self) -> bool:
        """The load is over, ``min_kills`` were made, main processes and pool children."""
        kills = self.stack.kills
        return (self.load_done.is_set() and len(kills) >= self.min_kills
                and {k.role for k in kills} == {"main", "child"})

    def run(self, overtime: float = 30.0) -> None:
        tick = 0
        while not self.enough():
            if self.load_done.is_set() and self.now() > self.load_done_at + overtime:
                return  # took_effect reports that too few kills landed
            tick += 1
            self.pause_until(tick * self.every)
            if self.stack.kill_random_worker_process(self.rng, self.t0):
                self.ended_at = self.now()

    def took_effect(self, run) -> Check:
        kills = self.stack.kills
        mains = sum(k.role == "main" for k in kills)
        detail = (f"{len(kills)} kills ({mains} main, {len(kills) - mains} pool child), "
                  f"{self.stack.restarts} worker restarts")
        return Check("fault injected", self.enough() and self.stack.restarts >= mains, detail,
                     [{"at": round(k.at, 1), "queue": k.queue, "pid": k.pid, "role": k.role}
                      for k in kills])


class ServerOutage(Fault):
    """Stop a throwaway server once ``when()`` holds (or the load is over), start it
    again ``down_for`` seconds later."""

    def __init__(self, server, *, name: str, when, down_for: float):
        super().__init__()
        self.server, self.name, self.when, self.down_for = server, name, when, down_for
        self.stopping_at = self.stopped_at = self.restarted_at = None

    def run(self) -> None:
        while not (self.when() or self.load_done.is_set()):
            self.load_done.wait(0.05)
        self.stopping_at = self.now()
        self.server.stop()
        self.stopped_at = self.now()
        self.pause_until(self.stopped_at + self.down_for)
        self.server.start()
        self.restarted_at = self.ended_at = self.now()

    def window(self) -> str:
        return (f"stopping at {self.stopping_at:.1f}s, down {self.stopped_at:.1f}s-"
                f"{self.restarted_at:.1f}s (answering again)")

    def took_effect(self, run) -> Check:
        if self.restarted_at is None:
            return Check("fault injected", False, f"{self.name} was not restarted")
        during = [a for p in run.purchases for a in p.attempts
                  if self.stopping_at <= a.at <= self.restarted_at]
        slowest = max((a.took for a in during), default=0.0)
        return Check("fault injected", bool(during),
                     f"{self.name} {self.window()}; {len(during)} purchase attempt(s) "
                     f"meanwhile, slowest answer {slowest:.1f}s")


class DuplicateDelivery(Fault):
    """Nothing to do at run time: the stack runs with BOXOFFICE_DUPLICATE_PUBLISH=1. It
    took effect when workers received about two messages per step."""

    name = "every message twice"

    def took_effect(self, run) -> Check:
        logs = run.stack.logs()
        received = received_counts(logs)
        reserves = received.get("tickets.reserve_seats", 0)
        per_saga = reserves / max(1, len(run.accepted))
        return Check("fault injected", per_saga >= 1.9,
                     f"{per_saga:.2f} reserve deliveries per saga, "
                     f"{redeliveries(logs)} task ids received more than once"
                     + ("" if per_saga >= 1.9 else
                        " - is BOXOFFICE_DUPLICATE_PUBLISH implemented?"))
