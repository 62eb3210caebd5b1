"""The headline figures of a run (its ``summary``), each beside its baseline and their
ratio: what the table of ``bench.report`` shows."""
from __future__ import annotations


#: the chains the saga is set beside (no target): the summary's name for each, the
#: baselines' variant it ran as (``bench.suite.VARIANTS``), and how the table shows it
BESIDE = (("durable_chain", "quorum_confirms", ("durable chain", "quorum, confirms")),
          ("minimal_saga", "minimal", ("minimal saga", "Celery's defaults")),
          ("durable_minimal_saga", "minimal_durable", ("minimal saga", "quorum, confirms")),
          ("late_minimal_saga", "minimal_late",
           ("minimal saga", "quorum, confirms, acks late, prefetch 1")))


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def summarise(r: dict) -> dict:
    """The headline figures, each beside its baseline and their ratio."""
    ceiling = r.get("ceiling", {}).get("classic", {})
    saga = r.get("saga", {})
    c_rate = ceiling.get("per_second")
    s = {**_rates_and_cpu(ceiling, saga, c_rate), **_latency_and_load(r, ceiling, saga, c_rate)}
    for name, variant, _shown in BESIDE:
        s.update(_beside(name, r.get("ceiling", {}).get(variant, {}), saga, s))
    s["messages_per_saga"] = saga.get("per_saga", {}).get("messages")
    s["transactions_per_saga"] = saga.get("per_saga", {}).get("transactions")
    return s


def _rates_and_cpu(ceiling: dict, saga: dict, c_rate) -> dict:
    """Throughput and CPU per saga, beside the ceiling chain's."""
    s = {}
    s["ceiling_sagas_per_second"] = round(c_rate, 1) if c_rate else None
    for name in ("service", "gateway"):
        rate = saga.get(name, {}).get("per_second")
        s[f"{name}_sagas_per_second"] = round(rate, 1) if rate else None
        s[f"{name}_ratio_to_ceiling"] = _ratio(rate, c_rate)
    servers = ("rabbitmq", "postgresql")
    c_cpu = ceiling.get("cpu_ms_per_chain", {})
    s_cpu = saga.get("service", {}).get("cpu_ms_per_saga", {})
    s["ceiling_cpu_ms_per_chain"] = round(sum(c_cpu.values()), 2) if c_cpu else None
    s["saga_cpu_ms"] = round(sum(s_cpu.values()), 2) if s_cpu else None
    s["cpu_ratio_to_ceiling"] = _ratio(s["saga_cpu_ms"], s["ceiling_cpu_ms_per_chain"])
    s["ceiling_cpu_ms_per_chain_processes_only"] = round(
        sum(v for k, v in c_cpu.items() if k not in servers), 2) if c_cpu else None
    s["saga_cpu_ms_processes_only"] = round(
        sum(v for k, v in s_cpu.items() if k not in servers), 2) if s_cpu else None
    s["cpu_processes_only_ratio_to_ceiling"] = _ratio(
        s["saga_cpu_ms_processes_only"], s["ceiling_cpu_ms_per_chain_processes_only"])
    return s


def _latency_and_load(r: dict, ceiling: dict, saga: dict, c_rate) -> dict:
    """Latencies, the gateway, contention, backlog, the embedded default, scaling, queues."""
    s = {}
    c_p50 = ceiling.get("unloaded", {}).get("p50")
    s["ceiling_unloaded_p50_ms"] = c_p50
    s["unloaded_p50_ms"] = saga.get("unloaded", {}).get("p50")
    s["unloaded_p50_ratio_to_ceiling"] = _ratio(s["unloaded_p50_ms"], c_p50)
    s["half_load_p99_ms"] = saga.get("half_load", {}).get("p99")
    s["ceiling_half_load_p99_ms"] = ceiling.get("half_load", {}).get("p99")
    accepted = saga.get("gateway", {}).get("accepted_per_second")
    trivial = saga.get("trivial_route", {}).get("per_second")
    s["gateway_accepted_per_second"] = round(accepted, 1) if accepted else None
    s["trivial_route_per_second"] = round(trivial, 1) if trivial else None
    s["gateway_accepted_ratio_to_trivial"] = _ratio(accepted, trivial)
    alone = saga.get("gateway_paused", {}).get("accepted_per_second")
    s["gateway_accepted_workers_paused_per_second"] = round(alone, 1) if alone else None
    s["gateway_accepted_workers_paused_ratio_to_trivial"] = _ratio(alone, trivial)
    s["contention_seconds"] = round(saga["contention"]["seconds"], 1) if "contention" in saga else None
    s["backlog_steps_run_twice"] = saga.get("backlog", {}).get("steps_run_twice")
    s["backlog_redriven_sagas"] = saga.get("backlog", {}).get("redriven_sagas")
    emb = r.get("embedded", {}).get("per_second")
    s["embedded_sagas_per_second"] = round(emb, 1) if emb else None
    s["embedded_ratio_to_service"] = _ratio(emb, saga.get("service", {}).get("per_second"))
    s["scaling_two_to_one_ratio"] = saga.get("scaling", {}).get("two_to_one_ratio")
    s["quorum_ratio_to_ceiling"] = _ratio(r.get("ceiling", {}).get("quorum", {}).get("per_second"), c_rate)
    s["quorum_confirms_ratio_to_ceiling"] = _ratio(
        r.get("ceiling", {}).get("quorum_confirms", {}).get("per_second"), c_rate)
    return s


def _beside(name: str, chain: dict, saga: dict, s: dict) -> dict:
    """The saga beside another chain of three tasks: the no-op chain made durable as the
    saga's messages are (quorum queues, publisher confirms), what Celery alone costs for
    three such messages; or the minimal saga (``bench.minimal``), on Celery's defaults or
    on durable queues: what the purchase's database work costs with nothing around it."""
    rate, cpu = chain.get("per_second"), chain.get("cpu_ms_per_chain")
    d = {f"{name}_sagas_per_second": round(rate, 1) if rate else None,
         f"{name}_cpu_ms_per_chain": round(sum(cpu.values()), 2) if cpu else None,
         f"{name}_unloaded_p50_ms": chain.get("unloaded", {}).get("p50")}
    d[f"service_ratio_to_{name}"] = _ratio(saga.get("service", {}).get("per_second"), rate)
    d[f"cpu_ratio_to_{name}"] = _ratio(s["saga_cpu_ms"], d[f"{name}_cpu_ms_per_chain"])
    d[f"unloaded_p50_ratio_to_{name}"] = _ratio(s["unloaded_p50_ms"],
                                              d[f"{name}_unloaded_p50_ms"])
    return d
