"""The size rules of the code: no module over 300 lines, no function over 33.

A function's length runs from its ``def`` line to its last line, docstring included
(``end_lineno - lineno + 1`` of its ``ast`` node; its decorators are not counted); methods
and nested functions are functions too. Every ``.py`` of the product, the shared harness,
the benchmarks, the chaos runs and the scripts is measured; migrations (history) and tests
are not. A finding is reported as ``file:line``.

``BEING_REWORKED`` lists files left over the limits for now, each with why; an entry whose
file no longer breaks a rule fails the test too, so the list only shrinks.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ["api", "workers", "contracts", "harness", "bench", "chaos", "scripts",
            "settings.py", "celeryconfig.py"]
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 33

#: file: why it may break the rules for now
BEING_REWORKED = {
}


def _python_files() -> list[Path]:
    files = []
    for entry in MEASURED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def findings(relative: str, source: str) -> list[str]:
    """``file:line what`` for the module if it is too long, and for each function that is."""
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{relative}:1 module of {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source, filename=relative)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{relative}:{node.lineno} function {node.name} of {length} "
                             f"lines (at most {MAX_FUNCTION_LINES})")
    return found


@cache
def _findings_by_file() -> dict[str, list[str]]:
    by_file = {}
    for path in _python_files():
        relative = path.relative_to(ROOT).as_posix()
        found = findings(relative, path.read_text(encoding="utf-8"))
        if found:
            by_file[relative] = found
    return by_file


def test_the_measure_counts_from_def_to_last_line():
    def function(body_lines: int) -> str:
        return "@decorator\ndef f():\n" + "    x = 1\n" * body_lines

    assert findings("f.py", function(MAX_FUNCTION_LINES - 1)) == []
    assert findings("f.py", function(MAX_FUNCTION_LINES)) == [
        f"f.py:2 function f of {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})"]
    method = "class C:\n    async def m(self):\n" + "        pass\n" * MAX_FUNCTION_LINES
    assert [f.split(" of ")[0] for f in findings("c.py", method)] == ["c.py:2 function m"]
    assert findings("m.py", "x = 1\n" * (MAX_MODULE_LINES + 1)) == [
        f"m.py:1 module of {MAX_MODULE_LINES + 1} lines (at most {MAX_MODULE_LINES})"]


def test_every_module_and_function_is_within_the_limits():
    assert len(_python_files()) > 100  # the measured folders are where they are said to be
    by_file = _findings_by_file()
    broken = [f for file, found in sorted(by_file.items()) if file not in BEING_REWORKED
              for f in found]
    assert not broken, "over the size limits:\n" + "\n".join(broken)


def test_every_file_being_reworked_still_breaks_a_rule():
    by_file = _findings_by_file()
    stale = sorted(file for file in BEING_REWORKED if file not in by_file)
    assert not stale, f"within the limits now: remove from BEING_REWORKED: {stale}"
