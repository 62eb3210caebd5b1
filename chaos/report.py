"""The table of scenarios × invariants, the counts, and what went wrong, in plain text."""
from __future__ import annotations

import json

from contracts.statuses import SagaStatus

INVARIANTS = ("terminal", "one saga per purchase", "sold<=capacity", "sold=confirmed tickets",
              "seat ledger",
              "<=1 charge", "processor asked once", "canceled+charged: 1 refund", "confirmed not refunded",
              "confirmed stays confirmed", "sold_out never charged",
              "queues drained", "dead letters accounted", "gateway 202 throughout",
              "fault injected")
SHOWN_OFFENDERS = 10


def _cell(run, name: str) -> str:
    if run.error:
        return "ERROR"
    check = next((c for c in run.checks if c.name == name), None)
    return "-" if check is None else ("✓" if check.ok else "✗")


def _counts(run) -> dict:
    c = run.counts
    if not c:
        return {}
    gateway = c.get("gateway", {})
    not_202 = sum(n for k, n in gateway.items() if k != 202)
    return {
        "accepted / planned": f"{len(run.accepted)} / {len(run.purchases)}",
        **{str(status): c[status] for status in SagaStatus.terminal()},
        "in flight": c["in_flight"],
        "charges / refunds": f"{c['charges']} / {c['refunds']}",
        "processor calls / charged sagas": f"{c['processor_calls']} / {c['charged_sagas']}",
        "seats sold / capacity": f"{c['seats_sold']} / {c['capacity']}",
        "dead letters": c["dead_letters"],
        "purchases sent again": c["redriven"],
        "drain time": "-" if run.drain_seconds is None else f"{run.drain_seconds:.1f}s",
        "gateway non-202 answers": not_202,
    }


def table(runs) -> str:
    names = [r.scenario for r in runs]
    width = max(14, *(len(n) for n in names))
    label = max(len(x) for x in (*INVARIANTS, "processor calls / charged sagas"))

    def line(first, cells):
        return f"{first:<{label}} | " + " | ".join(f"{c!s:^{width}}" for c in cells)

    out = [line("invariant", names), "-" * (label + 3 + (width + 3) * len(names))]
    out += [line(inv, [_cell(r, inv) for r in runs]) for inv in INVARIANTS]
    out.append("-" * (label + 3 + (width + 3) * len(names)))
    counts = [_counts(r) for r in runs]
    for key in next((c for c in counts if c), {}):
        out.append(line(key, [c.get(key, "-") for c in counts]))
    out.append("")
    for r in runs:
        fault = next((c for c in r.checks if c.name == "fault injected"), None)
        out.append(f"{r.scenario}: {fault.detail if fault else '-'}")
        if r.counts:
            out.append(f"{' ' * len(r.scenario)}  canceled: {_reasons(r.counts['reasons'])}; "
                       f"refunded: {_reasons(r.counts['refunded_for'])}; "
                       f"gateway answers: {_reasons(r.counts['gateway'])}")
            out.append(f"{' ' * len(r.scenario)}  failed steps: "
                       f"{_reasons(r.counts['failed_steps'])}")
    return "\n".join(out)


def _reasons(counts: dict) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def failures(runs) -> str:
    out = []
    for r in runs:
        if r.error:
            out.append(f"\n## {r.scenario}: harness error: {r.error}  (logs: {r.log_dir})")
        for c in r.checks:
            if c.ok:
                continue
            out.append(f"\n## {r.scenario}: {c.name} ✗ {c.detail}  (logs: {r.log_dir})")
            for o in c.offenders[:SHOWN_OFFENDERS]:
                out.append("   " + json.dumps(o, default=str))
            if len(c.offenders) > SHOWN_OFFENDERS:
                out.append(f"   … and {len(c.offenders) - SHOWN_OFFENDERS} more")
    return "\n".join(out)


def surprises(runs) -> str:
    """Outcomes no invariant forbids but the load did not ask for: worth a look."""
    out = []
    for r in runs:
        if r.surprises:
            out.append(f"\n## {r.scenario}: {len(r.surprises)} saga(s) ended unexpectedly "
                       "(failed, or canceled for a reason the load did not cause)")
            out += ["   " + json.dumps(o, default=str) for o in r.surprises[:SHOWN_OFFENDERS]]
    return "\n".join(out)


def dead_letters(runs) -> str:
    out = []
    for r in runs:
        check = next((c for c in r.checks if c.name == "dead letters accounted"), None)
        if check and check.offenders:
            out.append(f"\n## {r.scenario}: dead letters")
            out += ["   " + json.dumps(o, default=str) for o in check.offenders[:50]]
    return "\n".join(out)
