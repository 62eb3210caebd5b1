"""``python -m chaos``: run the scenarios, print the table, exit 1 if any invariant broke."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import time
import traceback

from chaos import report
from chaos.scenarios import FULL, SCENARIOS, SMALL, Run, run_scenario
from harness.processes import stop_all


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    p.add_argument("--scale", choices=("full", "small"), default="full",
                   help="full: 1,000 purchases a scenario (make chaos); small: ~100, as the tests")
    p.add_argument("--purchases", type=int, help="override the number of purchases")
    p.add_argument("--scenario", action="append", choices=SCENARIOS,
                   help="run only this scenario (repeatable); default: all five")
    p.add_argument("--seed", type=int, default=None, help="seed of the random choices")
    p.add_argument("--keep-logs", action="store_true",
                   help="keep every scenario's logs (failing scenarios' are always kept)")
    return p.parse_args(argv)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through every cleanup


def main(argv=None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    signal.signal(signal.SIGTERM, _terminate)
    scale = FULL if args.scale == "full" else SMALL
    if args.purchases:
        scale = dataclasses.replace(scale, purchases=args.purchases)
    seed = args.seed if args.seed is not None else int(time.time())
    print(f"chaos: {scale.purchases} purchases a scenario, seed {seed}", flush=True)
    runs = []
    try:
        for name in args.scenario or SCENARIOS:
            started = time.monotonic()
            print(f"\n== {name} ...", flush=True)
            try:
                run = run_scenario(name, scale, seed=seed, keep_logs=args.keep_logs)
            except Exception as exc:  # noqa: BLE001  report it and go on with the next
                traceback.print_exc()
                run = Run(name, scale, log_dir="(see traceback)")
                run.error = f"{type(exc).__name__}: {exc}"
            runs.append(run)
            verdict = "ERROR" if run.error else ("ok" if run.ok else "FAILED")
            print(f"== {name}: {verdict} in {time.monotonic() - started:.0f}s", flush=True)
    finally:
        stop_all()
    print("\n" + report.table(runs))
    print(report.dead_letters(runs))
    print(report.surprises(runs))
    print(report.failures(runs))
    failed = [r.scenario for r in runs if r.error or not r.ok]
    print(f"\nchaos: {'FAILED: ' + ', '.join(failed) if failed else 'every invariant held'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
