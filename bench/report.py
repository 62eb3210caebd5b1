"""The results as a table (stdout and docs/benchmarks/README.md), JSON and PNG charts."""
from __future__ import annotations

import json
from pathlib import Path

from bench.summary import BESIDE
from harness.processes import ROOT

OUT = ROOT / "docs" / "benchmarks"
BEGIN, END = "<!-- bench:results -->", "<!-- /bench:results -->"


def _f(v, unit=""):
    if v is None:
        return "—"
    return f"{v:,.1f}{unit}" if isinstance(v, float) else f"{v:,}{unit}"


def _met(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


def _cmp(v, limit, below=True):
    return None if v is None else (v <= limit if below else v >= limit)


def rows(r: dict) -> list[tuple]:
    """(figure, boxoffice, baseline, ratio, target, met?)"""
    return _speed_rows(r["summary"]) + _load_rows(r, r["summary"])


def _speed_rows(s: dict) -> list[tuple]:
    """Throughput, CPU and latency, each beside its baseline."""
    return [
        ("saga throughput, through the service (sagas/s)", _f(s["service_sagas_per_second"]),
         f"ceiling chain {_f(s['ceiling_sagas_per_second'])}", _f(s["service_ratio_to_ceiling"]),
         "≥ 0.5×", _met(_cmp(s["service_ratio_to_ceiling"], 0.5, False))),
        ("saga throughput, through the gateway (sagas/s)", _f(s["gateway_sagas_per_second"]),
         f"ceiling chain {_f(s['ceiling_sagas_per_second'])}", _f(s["gateway_ratio_to_ceiling"]),
         "≥ 0.45×", _met(_cmp(s["gateway_ratio_to_ceiling"], 0.45, False))),
        ("CPU per saga, all processes and servers (ms)", _f(s["saga_cpu_ms"]),
         f"ceiling chain {_f(s['ceiling_cpu_ms_per_chain'])}", _f(s["cpu_ratio_to_ceiling"]),
         "≤ 2×", _met(_cmp(s["cpu_ratio_to_ceiling"], 2))),
        ("CPU per saga, our processes only (ms)", _f(s["saga_cpu_ms_processes_only"]),
         f"ceiling workers {_f(s['ceiling_cpu_ms_per_chain_processes_only'])}",
         _f(s["cpu_processes_only_ratio_to_ceiling"]), "", ""),
        ("unloaded p50, start → confirmed (ms)", _f(s["unloaded_p50_ms"]),
         f"ceiling chain {_f(s['ceiling_unloaded_p50_ms'])}", _f(s["unloaded_p50_ratio_to_ceiling"]),
         "≤ 3×", _met(_cmp(s["unloaded_p50_ratio_to_ceiling"], 3))),
        ("p99 at half the throughput (ms)", _f(s["half_load_p99_ms"]),
         f"ceiling chain {_f(s['ceiling_half_load_p99_ms'])}", "", "≤ 100 ms",
         _met(_cmp(s["half_load_p99_ms"], 100))),
    ]


def _load_rows(r: dict, s: dict) -> list[tuple]:
    """The gateway, contention, backlog, embedded default, scaling, queues and counts."""
    return [
        ("gateway: accepted POST /saga/start per s", _f(s["gateway_accepted_per_second"]),
         f"trivial route {_f(s['trivial_route_per_second'])}",
         _f(s["gateway_accepted_ratio_to_trivial"]), "≥ 0.4×",
         _met(_cmp(s["gateway_accepted_ratio_to_trivial"], 0.4, False))),
        ("… with the workers paused, as the trivial route runs",
         _f(s["gateway_accepted_workers_paused_per_second"]),
         f"trivial route {_f(s['trivial_route_per_second'])}",
         _f(s["gateway_accepted_workers_paused_ratio_to_trivial"]), "≥ 0.4×",
         _met(_cmp(s["gateway_accepted_workers_paused_ratio_to_trivial"], 0.4, False))),
        (f"contention: {r['sizes']['contention_buyers']:,} buyers / "
         f"{r['sizes']['contention_seats']:,} seats, all terminal (s)", _f(s["contention_seconds"]),
         "", "", "< 120 s", _met(_cmp(s["contention_seconds"], 120))),
        (f"backlog of {r['sizes']['backlog']:,}: steps run twice / sagas re-driven",
         f"{_f(s['backlog_steps_run_twice'])} / {_f(s['backlog_redriven_sagas'])}", "", "", "0",
         _met(None if s["backlog_steps_run_twice"] is None
             else s["backlog_steps_run_twice"] == 0 and s["backlog_redriven_sagas"] == 0)),
        ("embedded default (sagas/s)", _f(s["embedded_sagas_per_second"]),
         f"real stack {_f(s['service_sagas_per_second'])}", _f(s["embedded_ratio_to_service"]),
         "≥ 0.3×", _met(_cmp(s["embedded_ratio_to_service"], 0.3, False))),
        ("two workers per queue vs one (throughput)", "", "", _f(s["scaling_two_to_one_ratio"]),
         "", ""),
        ("ceiling chain on quorum queues", "", "classic queues",
         _f(s["quorum_ratio_to_ceiling"]), "", ""),
        ("… and with publisher confirms", "", "classic queues",
         _f(s["quorum_confirms_ratio_to_ceiling"]), "", ""),
        *_beside_rows(s),
        ("task messages / transactions per saga",
         f"{_f(s['messages_per_saga'])} / {_f(s['transactions_per_saga'])}",
         "minimal saga 3 / 4", "", "", ""),
    ]


def _beside_rows(s: dict) -> list[tuple]:
    """The saga beside the durable no-op chain and the minimal saga (no target)."""
    return [(f"saga against the {base} ({how}): {what}", _f(s[mine]),
             f"{base} {_f(s[theirs.format(name)])}", _f(s[ratio.format(name)]), "", "")
            for name, _variant, (base, how) in BESIDE
            for what, mine, theirs, ratio in (
                ("sagas/s", "service_sagas_per_second", "{}_sagas_per_second",
                 "service_ratio_to_{}"),
                ("CPU ms", "saga_cpu_ms", "{}_cpu_ms_per_chain", "cpu_ratio_to_{}"),
                ("unloaded p50 ms", "unloaded_p50_ms", "{}_unloaded_p50_ms",
                 "unloaded_p50_ratio_to_{}"))]


def table(r: dict) -> str:
    head = "| figure | boxoffice | baseline (same run) | ratio | target | met |\n|---|---|---|---|---|---|\n"
    return head + "\n".join("| " + " | ".join(str(c) for c in row) + " |" for row in rows(r))


def details(r: dict) -> str:
    saga, ceiling = r.get("saga", {}), r.get("ceiling", {}).get("classic", {})
    return "\n\n".join(_cost_lines(r, saga, ceiling) + _run_lines(saga, ceiling))


def _cost_lines(r: dict, saga: dict, ceiling: dict) -> list[str]:
    """What a saga costs: messages, transactions and statements; CPU by process kind."""
    lines = []
    per = saga.get("per_saga")
    if per:
        lines.append(f"Per saga ({r['sizes']['counts']} purchases counted): "
                     f"{per['messages']} task messages, {per['deliveries']} task runs, "
                     f"{per['transactions']} transactions, {per['statements']} SQL statements, "
                     f"{per['pool_checkouts']} pool checkouts, {per['log_lines']} log lines. "
                     f"Messages by task: " + ", ".join(f"`{k}` {v}" for k, v in
                                                       per["messages_by_task"].items()) + ".")
    cpu = saga.get("service", {}).get("cpu_ms_per_saga")
    if cpu:
        lines.append("CPU ms per saga by process kind: " + ", ".join(
            f"{k} {v}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])) +
            "; the ceiling chain's: " + ", ".join(
            f"{k} {v}" for k, v in ceiling.get("cpu_ms_per_chain", {}).items()) + ".")
    return lines


def _run_lines(saga: dict, ceiling: dict) -> list[str]:
    """Latencies, contention, backlog and memory."""
    lines = []
    for name, label in (("unloaded", "unloaded"), ("half_load", "at half the throughput")):
        if name in saga:
            a, b = saga[name], ceiling.get(name, {})
            lines.append(f"Latency {label} (p50/p90/p99 ms): saga {a.get('p50')}/{a.get('p90')}/"
                         f"{a.get('p99')}, ceiling chain {b.get('p50')}/{b.get('p90')}/{b.get('p99')}.")
    c = saga.get("contention")
    if c:
        lines.append(f"Contention: {c['confirmed']} confirmed, {c['sold']} seats sold, {c['left']} "
                     f"left; oversold {c['oversold']}, availability exact "
                     f"{c['availability_exact']}, charged without tickets "
                     f"{c['charged_without_tickets']}.")
    b = saga.get("backlog")
    if b:
        lines.append(f"Backlog: drained in {b['seconds']:.1f} s ({b['per_second']:.1f}/s); "
                     f"step runs {b['step_runs']}; re-driven sagas {b['redriven_sagas']}, "
                     f"retried steps {b['retried_steps']}.")
    rss = saga.get("peak_rss_mb")
    if rss:
        lines.append("Peak RSS (MB, all processes of a kind): " + ", ".join(
            f"{k} {v}" for k, v in rss.items()) + ".")
    return lines


def write(r: dict, out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(r, indent=2, default=str) + "\n")
    section = (f"{BEGIN}\nRun of {r['date']} on {r['machine']['cores']} cores "
               f"({r['machine']['platform']}; load average "
               f"{', '.join(f'{x:.1f}' for x in r['machine']['load_average_at_start'])} at the "
               f"start). Sizes: {', '.join(f'{k} {v}' for k, v in r['sizes'].items())}.\n\n"
               f"{table(r)}\n\n{details(r)}\n\n"
               "![throughput](throughput.png) ![latency](latency.png) ![cpu](cpu.png)\n"
               f"{END}")
    readme = out / "README.md"
    text = readme.read_text() if readme.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(head + section + tail)
    charts(r, out)


def charts(r: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    saga, ceiling = r.get("saga", {}), r.get("ceiling", {})
    _throughput_chart(plt, r, saga, ceiling, out)
    _latency_chart(plt, saga, ceiling, out)
    _cpu_chart(plt, saga, ceiling, out)


def _throughput_chart(plt, r: dict, saga: dict, ceiling: dict, out: Path) -> None:
    bars = {"ceiling chain\n(classic)": ceiling.get("classic", {}).get("per_second"),
            "ceiling chain\n(quorum)": ceiling.get("quorum", {}).get("per_second"),
            "saga via\nservice": saga.get("service", {}).get("per_second"),
            "saga via\ngateway": saga.get("gateway", {}).get("per_second"),
            "saga, 2 workers\nper queue": saga.get("scaling", {}).get("two_workers_per_queue"),
            "embedded\ndefault": r.get("embedded", {}).get("per_second")}
    bars = {k: v for k, v in bars.items() if v}
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(list(bars), list(bars.values()), color="#4878a8")
    ax.set_ylabel("sagas (chains) per second")
    ax.set_title(f"Throughput, {r['date'][:10]}, {r['machine']['cores']} cores")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=90)
    plt.close(fig)


def _latency_chart(plt, saga: dict, ceiling: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    groups = [("unloaded", "unloaded"), ("half_load", "half load")]
    labels, width = ("p50", "p90", "p99"), 0.2
    for i, (key, name) in enumerate(groups):
        for j, (src, who) in enumerate(((ceiling.get("classic", {}), "ceiling"), (saga, "saga"))):
            vals = [src.get(key, {}).get(p) or 0 for p in labels]
            ax.bar([x + (2 * i + j) * width for x in range(3)], vals, width,
                   label=f"{who}, {name}")
    ax.set_xticks([x + 1.5 * width for x in range(3)], labels)
    ax.set_ylabel("ms, start → confirmed")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Latency")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=90)
    plt.close(fig)


def _cpu_chart(plt, saga: dict, ceiling: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    cols = {"ceiling chain": ceiling.get("classic", {}).get("cpu_ms_per_chain", {}),
            "saga": saga.get("service", {}).get("cpu_ms_per_saga", {})}
    kinds = sorted({k for v in cols.values() for k in v})
    bottom = [0.0] * len(cols)
    for k in kinds:
        vals = [cols[c].get(k, 0) for c in cols]
        ax.bar(list(cols), vals, bottom=bottom, label=k)
        bottom = [a + b for a, b in zip(bottom, vals)]
    ax.set_ylabel("CPU ms per saga (chain)")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("CPU per saga by process kind")
    fig.tight_layout()
    fig.savefig(out / "cpu.png", dpi=90)
    plt.close(fig)
