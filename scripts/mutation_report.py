"""Write docs/mutation-report.md from the results of ``mutmut run`` (``make mutate``).

Counts every mutated function's mutants by outcome, and lists the mutants of the five core
rules' functions that survived (each must be killed by a unit test or explained).
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the functions that carry the five core rules
CORE_RULES = {
    "conditional seat UPDATE": ["workers.tickets.service.x__take",
                                "workers.tickets.service.x_reserve_seats",
                                "workers.tickets.service.x__refuse"],
    "charge claim": ["workers.payments.service.x__claim", "workers.payments.service.x_charge",
                     "workers.payments.service.x__claim_statement",
                     "workers.payments.service.x__ask_processor",
                     "workers.payments.service.x__take_over",
                     "workers.payments.service.x__settle", "workers.payments.service.x_refund"],
    "idempotency conflict": ["workers.orchestration.service.x_start_purchase",
                             "workers.orchestration.service.x__repeated"],
    "API-key check": ["api.auth.x__require_api_key", "workers.users.service.x_api_key_client",
                      "workers.users.service.x__key_hash"],
    "check-in single use": ["workers.tickets.checkin.x_check_in", "workers.tickets.checkin.x__use",
                            "workers.tickets.checkin.x__refuse"],
}
LINE = re.compile(r"^\s*(?P<name>[\w.]+)__mutmut_\d+: (?P<status>.+)$")


def results() -> list[tuple[str, str, str]]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            found.append((m["name"], line.strip().split(":")[0], m["status"].strip()))
    return found


def main(notes: str = "") -> str:
    rows = results()
    by_status = Counter(status for _, _, status in rows)
    per_rule = defaultdict(Counter)
    survivors = defaultdict(list)
    for function, mutant, status in rows:
        for rule, functions in CORE_RULES.items():
            if function in functions:
                per_rule[rule][status] += 1
                if status not in ("killed", "timeout"):
                    survivors[rule].append(f"{mutant} ({status})")
    out = ["# Mutation report", "",
           "`make mutate` runs mutmut on `workers/*/service.py`, `workers/tickets/checkin.py` "
           "and `api/auth.py` against the fast unit tests (no RabbitMQ or Redis: the core rules "
           "run on a migrated SQLite database, and those that depend on PostgreSQL's row "
           "locks and concurrent inserts on a throwaway PostgreSQL database). Regenerate "
           "this file with `make mutate`.", "",
           "## All mutants", "", "| outcome | mutants |", "|---|---|"]
    out += [f"| {status} | {n} |" for status, n in sorted(by_status.items())]
    out += ["", "## The five core rules", "", "| rule | killed | survived | other |", "|---|---|---|---|"]
    for rule in CORE_RULES:
        c = per_rule[rule]
        other = sum(n for s, n in c.items() if s not in ("killed", "survived"))
        out.append(f"| {rule} | {c['killed']} | {c['survived']} | {other} |")
    out += ["", "### Surviving mutants of the core rules", ""]
    for rule in CORE_RULES:
        out.append(f"- **{rule}**: " + (", ".join(survivors[rule]) or "none"))
    if notes:
        out += ["", notes.strip()]
    return "\n".join(out) + "\n"


def patterns() -> list[str]:
    """``mutmut run`` arguments that select the mutants of the core rules' functions."""
    return [f"{function}__mutmut_*" for functions in CORE_RULES.values() for function in functions]


if __name__ == "__main__":
    if sys.argv[1:] == ["--patterns"]:
        print(" ".join(patterns()))
        sys.exit(0)
    notes_file = ROOT / "docs" / "mutation-notes.md"
    text = main(notes_file.read_text() if notes_file.exists() else "")
    (ROOT / "docs" / "mutation-report.md").write_text(text)
    print(text)
