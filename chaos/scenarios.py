"""The five scenarios: each provisions its servers, starts the real stack, drives
purchases over HTTP while its fault runs, waits for quiescence, and checks every
invariant from the database and the broker."""
from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from chaos import queues
from chaos.cluster import NodeLoss, ThrowawayCluster
from chaos.faults import DuplicateDelivery, Fault, KillWorkers, ServerOutage
from chaos.invariants import Check, database_checks
from chaos.load import Shop, attempt_summary
from chaos.settle import drain_queues, settle_sagas
from chaos.snapshot import Snapshot
from harness.environment import stack_env
from harness.servers import SharedServices, ThrowawayPostgres, ThrowawayRabbit
from harness.stack import Stack, migrate

log = logging.getLogger("chaos")


@dataclass(frozen=True)
class Scale:
    purchases: int
    rate: float  # purchases started per second
    events: tuple  # per event, its tiers' capacities
    buyers: int
    min_kills: int
    #: a server goes down once this share of the purchases was accepted...
    fault_after: float = 1 / 3
    #: ...for this share of the load's planned duration (purchases / rate), 2 s at least
    broker_down_share: float = 0.2
    node_down_share: float = 0.2
    db_down_share: float = 0.1
    kill_every: float = 2.0
    #: every saga terminal this long after the last kill (kill-workers, as the issue asks)
    terminal_after_kill: float = 60.0
    #: the other scenarios: every saga terminal this long after the load and the fault
    terminal_within: float = 60.0
    grace: float = 30.0  # then how long to keep watching stuck sagas, for the report
    latency_ms: int = 20
    threads: int = 8


# demand is ~2 seats a purchase: capacity is about half of it, so tiers sell out
FULL = Scale(purchases=1000, rate=20, events=((250, 150), (200, 100), (200, 100)), buyers=40,
             min_kills=10, terminal_within=240, grace=60)
SMALL = Scale(purchases=100, rate=8, events=((6,) * 4,) * 4, buyers=8, min_kills=5,
              broker_down_share=0.3, db_down_share=0.16, grace=20)
#: a loaded machine is slower by up to this factor: deadlines of a run grow with its load
MAX_SLOWNESS = 4.0


def slowness() -> float:
    """How much slower than an idle machine this one runs now: the run queue per core
    (``CHAOS_SLOWNESS`` overrides it), between 1 and ``MAX_SLOWNESS``."""
    given = os.environ.get("CHAOS_SLOWNESS")
    if given:
        return min(MAX_SLOWNESS, max(1.0, float(given)))
    return min(MAX_SLOWNESS, max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)))


def time_budget(scale: Scale) -> int:
    """An upper bound of one scenario's wall time on a machine at ``MAX_SLOWNESS``: the
    deadlines inside a run end before it, so that a timeout never cuts off its report."""
    settle = max(scale.terminal_within, scale.terminal_after_kill) + scale.grace
    return int(120 + 2 * scale.purchases / scale.rate + settle * MAX_SLOWNESS + 90)


def down_for(scale: Scale, share: float) -> float:
    return max(2.0, share * scale.purchases / scale.rate)

SCENARIOS = ("kill-workers", "broker-outage", "db-restart", "duplicate-delivery", "node-loss")


@dataclass
class Run:
    scenario: str
    scale: Scale
    log_dir: Path
    stack: Stack | None = None
    purchases: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    drain_seconds: float | None = None
    fault: Fault | None = None
    error: str | None = None  # the harness itself failed (set by the CLI)
    surprises: list = field(default_factory=list)  # odd but legal outcomes, for the report

    @property
    def accepted(self) -> list[str]:
        return [p.saga_id for p in self.purchases if p.saga_id]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def run_scenario(name: str, scale: Scale = SMALL, *, seed: int | None = None,
                 keep_logs: bool = False) -> Run:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}")
    rng = random.Random(seed)
    run = Run(name, scale, Path(tempfile.mkdtemp(prefix=f"chaos-{name}-")))
    try:
        with ExitStack() as cleanup:
            _run(run, rng, cleanup)
    finally:
        if run.ok and not keep_logs:
            shutil.rmtree(run.log_dir, ignore_errors=True)
    return run


@dataclass
class Target:
    """Where one scenario's stack runs, and the server its fault stops (if any)."""

    database_url: str
    broker_url: str
    redis_url: str
    ctl: list  # rabbitmqctl and its node
    vhost: str
    server: object = None


def _target(name: str, cleanup: ExitStack) -> Target:
    shared = SharedServices()
    cleanup.callback(shared.close)
    target = Target(shared.database_url, shared.broker_url, shared.redis_url,
                    ["rabbitmqctl"], shared.vhost)
    if name == "broker-outage":
        target.server = rabbit = ThrowawayRabbit()
        cleanup.callback(rabbit.close)
        rabbit.start()
        target.broker_url, target.ctl, target.vhost = rabbit.url, rabbit.ctl(), rabbit.vhost
    elif name == "node-loss":
        target.server = cluster = ThrowawayCluster()
        cleanup.callback(cluster.close)
        cluster.start()
        target.broker_url, target.vhost = cluster.url, cluster.vhost
        target.ctl = cluster.nodes[0].ctl()
    elif name == "db-restart":
        target.server = pg = ThrowawayPostgres()
        cleanup.callback(pg.close)
        pg.start()
        target.database_url = pg.create_database("boxoffice")
    return target


def _fault(run: Run, target: Target, rng: random.Random) -> Fault:
    scale = run.scale
    if run.scenario == "kill-workers":
        return KillWorkers(run.stack, rng, every=scale.kill_every, min_kills=scale.min_kills)
    after = max(1, int(scale.purchases * scale.fault_after))

    def progressed() -> bool:
        return len(run.accepted) >= after

    if run.scenario == "broker-outage":
        return ServerOutage(target.server, name="RabbitMQ", when=progressed,
                            down_for=down_for(scale, scale.broker_down_share))
    if run.scenario == "node-loss":
        return NodeLoss(target.server, when=progressed,
                        down_for=down_for(scale, scale.node_down_share))
    if run.scenario == "db-restart":
        return ServerOutage(target.server, name="PostgreSQL", when=progressed,
                            down_for=down_for(scale, scale.db_down_share))
    return DuplicateDelivery()


def _run(run: Run, rng: random.Random, cleanup: ExitStack) -> None:
    phase = _Phases(run.scenario)
    target = _target(run.scenario, cleanup)
    shop = _start(run, target, rng, cleanup, phase)
    run.fault = _fault(run, target, rng)
    t0, base = _load(run, shop, phase)
    terminal, run.drain_seconds = _settle(run, target, t0, base, phase)
    phase("draining the queues and stopping the stack")
    counts, leftovers, dead = drain_queues(run.stack, target.broker_url, target.ctl,
                                           target.vhost)
    phase("checking the invariants")
    snap = Snapshot.read(target.database_url)
    _check(run, snap, terminal, counts, leftovers, dead)
    if not run.ok:
        snap.dump(run.log_dir / "snapshot.json")


def _start(run: Run, target: Target, rng: random.Random, cleanup: ExitStack,
           phase: _Phases) -> Shop:
    """Migrate, start the stack (``run.stack``), create the events and buyers and plan the
    purchases (``run.purchases``); the shop that buys them."""
    scale = run.scale
    extra = ({"BOXOFFICE_FAULT_INJECTION": "1", "BOXOFFICE_DUPLICATE_PUBLISH": "1"}
             if run.scenario == "duplicate-delivery" else {})
    env = stack_env(database_url=target.database_url, broker_url=target.broker_url,
                    redis_url=target.redis_url, var_dir=run.log_dir,
                    PAYMENT_LATENCY_MS=str(scale.latency_ms), CELERY_HOLD_SWEEP_SECONDS="1",
                    CELERY_OUTBOX_RELAY_SECONDS="1", **extra)
    phase("servers ready; migrating")
    migrate(env)
    run.stack = stack = Stack(env, run.log_dir)
    cleanup.callback(stack.stop)
    stack.start()
    phase("stack up; creating events and buyers")
    shop = Shop(stack.base_url, env, rng)
    shop.setup(events=[list(e) for e in scale.events], buyers=scale.buyers)
    run.purchases = shop.plan(scale.purchases)
    return shop


def _load(run: Run, shop: Shop, phase: _Phases) -> tuple[float, float]:
    """The purchases, bought while the fault runs: when the load started, and how many
    seconds after that it (or the fault, whichever was last) ended."""
    scale = run.scale
    phase(f"{scale.purchases} purchases at {scale.rate}/s under {run.fault.name}")
    t0 = time.monotonic()
    run.fault.start(t0)
    try:
        shop.buy(run.purchases, rate=scale.rate, t0=t0, threads=scale.threads)
    finally:
        run.fault.finish()
    base = max(time.monotonic() - t0, run.fault.ended_at)
    phase(f"load over at +{base:.0f}s ({len(run.accepted)} accepted); waiting for the sagas")
    return t0, base


def _settle(run: Run, target: Target, t0: float, base: float, phase: _Phases):
    """Wait for every saga to end, within the scenario's deadline (scaled to this machine's
    load): the ``terminal`` check and the drain time, as ``settle_sagas``."""
    scale = run.scale
    if run.scenario == "kill-workers":  # "every saga terminal within 60 s of the last kill"
        since, within = run.fault.ended_at, scale.terminal_after_kill
    else:
        since, within = base, scale.terminal_within
    factor = slowness()
    phase(f"deadlines x{factor:.1f} for this machine's load")
    return settle_sagas(target.database_url, run.accepted, since=t0 + since,
                        within=within * factor, grace=scale.grace * factor)


def _check(run: Run, snap: Snapshot, terminal, counts, leftovers, dead) -> None:
    checks = [terminal(snap), *database_checks(snap, run.accepted),
              queues.queues_drained(counts, leftovers, snap.sagas),
              queues.dead_letters_accounted(dead, snap.sagas), run.fault.took_effect(run)]
    if run.scenario == "broker-outage":
        checks.append(gateway_kept_accepting(run))
    run.checks = checks
    run.surprises = snap.surprises()
    run.counts = {**snap.counts(), "dead_letters": len(dead),
                  "gateway": dict(attempt_summary(run.purchases)),
                  "rejected": sum(1 for p in run.purchases if p.rejected)}


class _Phases:
    """Progress lines with the time each phase started."""

    def __init__(self, scenario: str):
        self.scenario, self.t0 = scenario, time.monotonic()

    def __call__(self, what: str) -> None:
        log.info("[%s +%.0fs] %s", self.scenario, time.monotonic() - self.t0, what)


def gateway_kept_accepting(run: Run) -> Check:
    """Every purchase attempt was answered 202, the broker outage included."""
    bad = [{"at": round(a.at, 1), "status": a.status, "error": a.error, "key": p.key}
           for p in run.purchases for a in p.attempts if a.status != 202]
    return Check("gateway 202 throughout", not bad,
                 f"{len(bad)} of {sum(len(p.attempts) for p in run.purchases)} attempts "
                 f"not 202", bad)

