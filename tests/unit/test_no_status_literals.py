"""Every status is spelled once: in ``contracts/statuses.py`` (and in the migrations, which
are history). Anywhere else in the product, and in the scripts, benchmarks and chaos
harness, a status is its enum member.

The rule: a plain string literal (a Python ``STRING`` token, so comments and words inside
longer strings such as log messages or docstrings are not literals) whose value is exactly
a value of one of the vocabularies is a finding, reported as ``file:line``. A few literals
are the same word with another meaning (a field name of a message or a response); they
are listed in ``OTHER_MEANINGS`` with that meaning, each by file and word, and an entry
that no longer matches anything fails the test too, so the list only shrinks.
"""
from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from contracts.statuses import VOCABULARIES

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["api", "workers", "contracts", "scripts", "bench", "chaos", "settings.py",
           "celeryconfig.py"]
EXEMPT = {"contracts/statuses.py"}
#: ``none`` (what a saga paid when nothing was charged) is too plain a word to claim
ORDINARY_WORDS = {"none"}
VALUES = {str(member) for vocabulary in VOCABULARIES for member in vocabulary} - ORDINARY_WORDS

#: (file, word): why that word is not a status there
OTHER_MEANINGS = {
    ("workers/tickets/service.py", "released"): "the seat count field of SeatsReleased",
    ("workers/tickets/queries.py", "held"): "the held-seats field of an event's sales",
    ("api/sales.py", "held"): "the held-seats field of GET /events/{id}/sales",
    ("workers/payments/simulator.py", "declined"): "the decline code when the processor gave none",
    ("workers/payments/service.py", "insufficient_funds"): "the processor's decline code",
    ("workers/payments/simulator.py", "insufficient_funds"): "the processor's decline code",
    ("api/ratelimits.py", "purchase"): "the name of the purchases' rate limit",
    ("workers/orchestration/cli.py", "compensate"): "the name of the operator command",
    ("workers/orchestration/dlq_cli.py", "valid"): "a dead letter's message is well formed",
}


def _python_files():
    for entry in SCANNED:
        path = ROOT / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def _string_literals(path: Path):
    """``(line, value)`` of each plain string literal of a Python file."""
    with open(path, "rb") as f:
        tokens = list(tokenize.tokenize(io.BytesIO(f.read()).readline))
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        prefix = token.string[:token.string.index(token.string[-1])].lower()
        if "f" in prefix or "b" in prefix:
            continue
        yield token.start[0], ast.literal_eval(token.string)


def _findings():
    found, excused = [], set()
    for path in _python_files():
        name = path.relative_to(ROOT).as_posix()
        if name in EXEMPT:
            continue
        for line, value in _string_literals(path):
            if value not in VALUES:
                continue
            if (name, value) in OTHER_MEANINGS:
                excused.add((name, value))
            else:
                found.append(f"{name}:{line}: {value!r}")
    return found, excused


def test_no_status_is_spelled_as_a_string_outside_the_enums_module():
    found, _ = _findings()

    assert not found, "use the enum of contracts/statuses.py:\n" + "\n".join(found)


def test_every_other_meaning_listed_is_still_there():
    _, excused = _findings()

    assert set(OTHER_MEANINGS) == excused, sorted(set(OTHER_MEANINGS) - excused)


def test_the_scan_finds_a_status_literal_and_ignores_comments_and_longer_strings(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('# "pending" in a comment\n'
                      'log = "saga is pending"\n'
                      "x = status == 'compensating'\n"
                      'y = f"{status}"\n')

    literals = [(line, v) for line, v in _string_literals(sample) if v in VALUES]

    assert literals == [(3, "compensating")]
