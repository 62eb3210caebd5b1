"""The benchmark suite: every measurement of one run, in one sitting, with its baseline."""
from __future__ import annotations

import os
import platform
import sys
import statistics
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import redis

from bench import minimal
from bench.stack import BoxofficeStack, CeilingWorkers, diff_counts
from bench.summary import summarise
from harness import services as throwaway
from harness.processes import ROOT, stop_all, wait_for

STEPS = ("tickets.reserve_seats", "payments.charge", "tickets.confirm_seats")


@dataclass(frozen=True)
class Sizes:
    throughput: int = 2000
    sequential: int = 100
    open_loop: int = 1000
    counts: int = 200
    http: int = 3000
    contention_buyers: int = 10000
    contention_seats: int = 1000
    backlog: int = 10000
    embedded: int = 500
    scaling: int = 2000


QUICK = Sizes(throughput=300, sequential=30, open_loop=200, counts=100, http=1000,
              contention_buyers=1000, contention_seats=100, backlog=1000, embedded=100,
              scaling=300)


def say(text: str) -> None:
    print(text, flush=True)


def percentiles(latencies: list[float]) -> dict:
    if not latencies:
        return {}
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50": round(q[49], 1), "p90": round(q[89], 1), "p99": round(q[98], 1),
            "n": len(latencies)}


def per_unit_ms(cpu_seconds: dict, n: int) -> dict:
    return {k: round(v * 1000 / n, 2) for k, v in cpu_seconds.items()}


def run(sizes: Sizes, *, only: set | None = None) -> dict:
    """Run the suite; the results as one JSON-able dict."""
    services = throwaway.provision()
    tmp = Path(tempfile.mkdtemp(prefix="boxoffice-bench-"))
    key = f"bench:{uuid.uuid4().hex[:8]}"
    results = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(),
                           "load_average_at_start": os.getloadavg()},
               "sizes": sizes.__dict__}
    want = (lambda name: only is None or name in only)
    try:
        if want("ceiling"):
            results["ceiling"] = _ceiling(services, tmp, key, sizes)
        with BoxofficeStack(database_url=services.database_url, broker_url=services.broker_url,
                            redis_url=services.redis_url, var_dir=tmp / "stack",
                            counters=f"{key}:stack", database_name=services.database) as stack:
            results["saga"] = _saga(stack, sizes, want, tmp)
        if want("embedded"):
            results["embedded"] = _embedded(services, tmp, key, sizes)
    finally:
        stop_all()
        redis.Redis.from_url(services.redis_url).delete(
            *redis.Redis.from_url(services.redis_url).keys(f"{key}*") or ["-"])
        throwaway.drop(services)
    results["load_average_at_end"] = os.getloadavg()
    results["summary"] = summarise(results)
    return results


#: the baselines' variants: the no-op chain on each kind of queue, and the minimal saga
#: (``bench.minimal``) on Celery's defaults, on durable queues, and with boxoffice's
#: delivery too (acknowledged once done, prefetch 1)
QUORUM, CONFIRMS, MINIMAL = ({"NOOP_QUEUE_TYPE": "quorum"}, {"NOOP_CONFIRMS": "1"},
                             {"NOOP_WORK": "minimal"})
VARIANTS = (("classic", {}), ("quorum", QUORUM), ("quorum_confirms", {**QUORUM, **CONFIRMS}),
            ("minimal", MINIMAL), ("minimal_durable", {**MINIMAL, **QUORUM, **CONFIRMS}),
            ("minimal_late", {**MINIMAL, **QUORUM, **CONFIRMS, "NOOP_ACKS_LATE": "1"}))


def _ceiling(services, tmp: Path, key: str, sizes: Sizes) -> dict:
    say("\n== ceiling: three no-op tasks over three classic queues, prefetch 4")
    env = {**os.environ, "CELERY_BROKER_URL": services.broker_url, "REDIS_URL": services.redis_url,
           "NOOP_DONE_KEY": f"{key}:noop", "PYTHONPATH": str(ROOT),
           "MINIMAL_DATABASE_URL": services.database_url,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    minimal.setup(services.database_url)
    out = {}
    for variant, extra in VARIANTS:
        tag = "" if variant == "classic" else f"-{variant}"
        extra = {**extra, "NOOP_QUEUE_SUFFIX": tag}
        denv = {**env, **extra, "NOOP_DONE_KEY": f"{key}:noop:{variant}"}
        database = services.database if "NOOP_WORK" in extra else None
        with CeilingWorkers(denv, tmp, tag=tag) as workers:  # no counters: nothing reads them
            from bench.stack import Driver

            driver = Driver(denv, workers.kinds(database))
            say(f"  {variant}: throughput, {sizes.throughput} chains")
            res = driver.run("ceiling", n=sizes.throughput)
            res["cpu_ms_per_chain"] = per_unit_ms(res.pop("cpu_seconds"), res["n"])
            out[variant] = res
            say(f"    {res['per_second']:.1f} chains/s")
            if variant != "quorum":  # the others: their unloaded latency only
                _ceiling_latency(driver, sizes, res, half_load=variant == "classic")
    return out


def _ceiling_latency(driver, sizes: Sizes, res: dict, *, half_load: bool) -> None:
    say(f"  latency, unloaded ({sizes.sequential} one at a time)")
    res["unloaded"] = percentiles(driver.run("ceiling-sequential", n=sizes.sequential)
                                  ["latencies_ms"])
    if half_load:
        rate = res["per_second"] / 2
        say(f"  latency at {rate:.0f}/s ({sizes.open_loop} chains)")
        res["half_load"] = percentiles(driver.run("ceiling-open", n=sizes.open_loop,
                                                  rate=rate)["latencies_ms"])


def _saga(stack: BoxofficeStack, sizes: Sizes, want, tmp: Path) -> dict:
    out = {}
    drive = stack.driver.run
    say("\n== boxoffice on RabbitMQ, PostgreSQL and Redis (Procfile processes)")
    drive("service", n=20)  # warm-up: connections, caches
    if want("counts"):
        out["per_saga"] = _saga_costs(stack, sizes)
    _counting(stack, False)
    say(f"  throughput through the service ({sizes.throughput} purchases, 16 threads)")
    res = drive("service", n=sizes.throughput)
    res["cpu_ms_per_saga"] = per_unit_ms(res.pop("cpu_seconds"), res["n"])
    out["service"] = res
    say(f"    {res['per_second']:.1f} sagas/s")
    if want("gateway"):
        _gateway(stack, sizes, tmp, out)
    if want("latency"):
        _latency(stack, sizes, out)
    if want("contention"):
        say(f"  contention: {sizes.contention_buyers} buyers of 1-4 seats, "
            f"{sizes.contention_seats} seats")
        out["contention"] = drive("contention", n=sizes.contention_buyers,
                                  seats=sizes.contention_seats)
    if want("scaling"):
        out["scaling"] = _scaling(stack, sizes, out)
    if want("backlog"):  # it counts each step's runs
        _counting(stack, True)
        out["backlog"] = _backlog(stack, sizes)
    out["peak_rss_mb"] = stack.peak_rss_mb()
    return out


def _counting(stack: BoxofficeStack, on: bool) -> None:
    """The processes restarted with the counters on or off, and warmed again."""
    if stack.counting(on):
        say(f"  the processes restarted with the counters {'on' if on else 'off'}")
        stack.driver.run("service", n=20)


def _saga_costs(stack: BoxofficeStack, sizes: Sizes) -> dict:
    """What one saga costs: messages, task runs, transactions, statements, log lines."""
    say(f"  what a saga costs ({sizes.counts} purchases)")
    before_c, before_l = stack.counts(), stack.log_lines()
    polls = stack.driver.run("service", n=sizes.counts, counted=True)["polls"]
    counts = diff_counts(before_c, stack.counts())
    starter = counts.get("starter", {})
    for field in ("statement", "commit", "checkout"):
        starter[field] = starter.get(field, 0) - polls - 1  # and the event's creation
    return _per_saga(counts, before_l, stack.log_lines(), sizes.counts)


def _gateway(stack: BoxofficeStack, sizes: Sizes, tmp: Path, out: dict) -> None:
    """Throughput through the gateway, and a trivial Flask route as its baseline."""
    drive = stack.driver.run
    say(f"  throughput through the gateway ({sizes.throughput} purchases)")
    res = drive("gateway", n=sizes.throughput, url=stack.base_url)
    res["cpu_ms_per_saga"] = per_unit_ms(res.pop("cpu_seconds"), res["n"])
    out["gateway"] = res
    say(f"    {res['per_second']:.1f} sagas/s; {res['accepted_per_second']:.1f} starts/s accepted")
    say(f"  starts accepted with the workers paused ({sizes.throughput} purchases)")
    paused = drive("gateway-paused", n=sizes.throughput, url=stack.base_url)
    paused.pop("cpu_seconds")
    out["gateway_paused"] = paused
    say(f"    {paused['accepted_per_second']:.1f} starts/s accepted")
    say(f"  a trivial Flask route on the same gunicorn settings ({sizes.http} requests)")
    trivial, url = stack.trivial_gateway(tmp / "trivial.log")
    try:
        wait_for(lambda: _answers(url), timeout=60, what="the trivial gateway")
        out["trivial_route"] = drive("http", n=sizes.http, url=url)
    finally:
        trivial.stop()


def _latency(stack: BoxofficeStack, sizes: Sizes, out: dict) -> None:
    """Latency unloaded, then at half the throughput measured before."""
    drive = stack.driver.run
    say(f"  latency, unloaded ({sizes.sequential} one at a time)")
    out["unloaded"] = percentiles(drive("sequential", n=sizes.sequential)["latencies_ms"])
    rate = out["service"]["per_second"] / 2
    say(f"  latency at {rate:.0f}/s, half the throughput ({sizes.open_loop} purchases)")
    out["half_load"] = percentiles(drive("open", n=sizes.open_loop, rate=rate)["latencies_ms"])
    out["half_load"]["rate"] = round(rate, 1)


def _backlog(stack: BoxofficeStack, sizes: Sizes) -> dict:
    """A backlog drained: how many steps ran more than once."""
    say(f"  backlog: {sizes.backlog} purchases started at once")
    before = stack.counts()
    res = stack.driver.run("backlog", n=sizes.backlog)
    runs = diff_counts(before, stack.counts())
    res["step_runs"] = {t: sum(k.get(f"run {t}", 0) for k in runs.values()) for t in STEPS}
    res["steps_run_twice"] = sum(max(0, n - sizes.backlog) for n in res["step_runs"].values())
    return res


def _scaling(stack: BoxofficeStack, sizes: Sizes, out: dict) -> dict:
    """Throughput with two workers per queue against one."""
    drive = stack.driver.run
    say(f"  scaling: two workers per queue ({sizes.scaling} purchases)")
    one = out["service"] if sizes.scaling == sizes.throughput else drive("service", n=sizes.scaling)
    stack.add_workers()
    try:
        two = drive("service", n=sizes.scaling)
    finally:
        stack.remove_workers()
    return {"one_worker_per_queue": round(one["per_second"], 1),
            "two_workers_per_queue": round(two["per_second"], 1),
            "two_to_one_ratio": round(two["per_second"] / one["per_second"], 2)}


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.post(url, json={}, timeout=2).status_code == 202
    except requests.RequestException:
        return False


def _per_saga(counts: dict, lines_before: dict, lines_after: dict, n: int) -> dict:
    total = {}
    for fields in counts.values():
        for f, v in fields.items():
            total[f] = total.get(f, 0) + v
    published = {f[8:]: v / n for f, v in total.items() if f.startswith("publish ")}
    ran = {f[4:]: v / n for f, v in total.items() if f.startswith("run ")}
    return {
        "messages": round(sum(published.values()), 2),  # the start message included
        "deliveries": round(sum(ran.values()), 2),
        "messages_by_task": {k: round(v, 2) for k, v in sorted(published.items())},
        "transactions": round((total.get("commit", 0) + total.get("rollback", 0)
                               + total.get("autocommit", 0)) / n, 2),
        "statements": round(total.get("statement", 0) / n, 2),
        "pool_checkouts": round(total.get("checkout", 0) / n, 2),
        "log_lines": round(sum(lines_after[k] - lines_before.get(k, 0) for k in lines_after) / n, 2),
        "by_kind": {kind: {f: round(v / n, 2) for f, v in sorted(fields.items())}
                    for kind, fields in sorted(counts.items())},
    }


def _embedded(services, tmp: Path, key: str, sizes: Sizes) -> dict:
    say("\n== embedded default: SQLite and the spool broker, the same processes")
    with BoxofficeStack(database_url=None, broker_url=None, redis_url=services.redis_url,
                        var_dir=tmp / "embedded", counters=f"{key}:embedded",
                        counted=False) as stack:
        stack.driver.run("service", n=10)
        res = stack.driver.run("service", n=sizes.embedded)
        res["cpu_ms_per_saga"] = per_unit_ms(res.pop("cpu_seconds"), res["n"])
        res["peak_rss_mb"] = stack.peak_rss_mb()
    say(f"    {res['per_second']:.1f} sagas/s")
    return res
