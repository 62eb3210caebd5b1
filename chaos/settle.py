"""Quiescence: wait (with deadlines) for every saga to finish, then for the queues to
empty, then stop the stack and see what the broker still holds."""
from __future__ import annotations

import logging
import time
from collections import Counter

import psycopg2

from chaos import queues
from chaos.invariants import Check, every_saga_terminal
from chaos.snapshot import Snapshot, connect, select
from harness.processes import wait_for
from harness.sagas import TERMINAL
from harness.stack import Stack

log = logging.getLogger("chaos")


def stuck_saga_ids(database_url: str) -> list[str] | None:
    """Ids of sagas not yet terminal; ``None`` while the database does not answer."""
    try:
        with connect(database_url, timeout=3) as conn:
            rows = select(conn, "SELECT id FROM orchestration_sagas WHERE status <> ALL(%s)",
                          ([str(s) for s in TERMINAL],))
        return [str(r["id"]) for r in rows]
    except psycopg2.Error:
        return None


def _all_done(database_url: str) -> bool:
    return stuck_saga_ids(database_url) == []


def settle_sagas(database_url: str, accepted: list[str], *, since: float, within: float,
                 grace: float):
    """Wait until every saga is terminal, at most ``within`` seconds after ``since`` (a
    monotonic time); then, for the report, ``grace`` more for the stragglers.

    Returns the ``terminal`` check (a function of the final snapshot) and the drain time
    in seconds (``None`` if the deadline passed).
    """
    drained, late, stuck = _wait_settled(database_url, since=since, within=within, grace=grace)

    def terminal(snap: Snapshot) -> Check:
        final = every_saga_terminal(snap, accepted)
        if not stuck:
            return final
        offenders = [{**then, "finally": snap.describe(sid)["status"]}
                     for sid, then in stuck.items()]
        when = (f"all finished {late:.0f}s after the load/last fault" if late is not None
                else f"{len(final.offenders)} still unfinished {within + grace:.0f}s after it")
        return Check("terminal", False,
                     f"{len(stuck)} saga(s) not terminal within {within:.0f}s, at that time "
                     f"[{_by_state(offenders)}]; {when}", offenders)

    return terminal, drained


def _wait_settled(database_url: str, *, since: float, within: float, grace: float) -> tuple:
    """``(drained, late, stuck)``: seconds after ``since`` until every saga was terminal
    (``None`` past the deadline); if past it, seconds until the stragglers were too
    (``None`` if not within ``grace`` more), and the sagas unfinished at the deadline."""
    deadline = since + within
    try:
        wait_for(lambda: _all_done(database_url), timeout=max(0.0, deadline - time.monotonic()),
                 interval=0.25, what="every saga to finish")
        drained, late, stuck = time.monotonic() - since, None, []
    except TimeoutError:
        drained, stuck = None, _describe_stuck(database_url)
        try:
            wait_for(lambda: _all_done(database_url), timeout=grace, interval=0.5,
                     what="stragglers")
            late = time.monotonic() - since
        except TimeoutError:
            late = None
    return drained, late, stuck


def _describe_stuck(database_url: str) -> dict:
    """The sagas not terminal now, each as it stands."""
    try:
        snap = Snapshot.read(database_url)
    except psycopg2.Error:
        return {sid: {"saga": sid, "status": "?"} for sid in stuck_saga_ids(database_url) or []}
    return {sid: snap.describe(sid) for sid, s in snap.sagas.items() if s["status"] not in TERMINAL}


def _by_state(offenders: list[dict]) -> str:
    states = Counter((o["status"], (o.get("steps") or ["no step recorded"])[-1])
                     for o in offenders)
    return ", ".join(f"{n}x {status} after {step}" for (status, step), n in states.items())


def _wait_queues_empty(ctl: list[str], vhost: str, timeout: float) -> None:
    """Until every queue but the dead-letter ones is empty (ready and unacknowledged) at
    three polls a second apart -- a message between two of Celery's delay queues, or
    published by a task that just ended, is in none of them for a moment -- or ``timeout``
    (what is left is reported by the "queues drained" check)."""
    streak = []

    def stayed_empty():
        depth = queues.depths(ctl, vhost)
        if depth is None or any(n for q, n in depth.items() if queues.holds_work(q)):
            streak.clear()
            return False
        streak.append(time.monotonic())
        return len(streak) >= 3
    try:
        wait_for(stayed_empty, timeout=timeout, interval=1.0, what="the queues to empty")
    except TimeoutError:
        pass


def drain_queues(stack: Stack, broker_url: str, ctl: list[str], vhost: str, timeout: float = 30):
    """Stop beat, wait for every queue but the dead-letter ones to empty (ready and
    unacknowledged), stop the stack, and return the queues' counts, the messages left in
    them and the dead letters."""
    started = time.monotonic()
    stack.stop_beat()
    _wait_queues_empty(ctl, vhost, timeout)
    emptied = time.monotonic()
    stack.stop()
    log.info("  beat stopped and queues waited for in %.1fs, stack stopped in %.1fs",
             emptied - started, time.monotonic() - emptied)
    counts = queues.final_counts(broker_url, ctl, vhost)
    leftovers = [x for q, n in counts.items() if n and queues.holds_work(q)
                 for x in queues.peek(broker_url, q)]
    dead = [x for q, n in counts.items() if n and q.endswith(".dead")
            for x in queues.peek(broker_url, q)]
    return counts, leftovers, dead
