"""`make bench`: the benchmark suite on the local RabbitMQ, PostgreSQL and Redis (a throwaway
database and vhost), the stack started as deployed. Prints the table and writes
docs/benchmarks/results.json, the table in docs/benchmarks/README.md and PNG charts.

    python -m bench [--quick] [--only ceiling,counts,gateway,latency,...] [--no-write]

Sizes are the issue's by default (2,000 purchases a throughput run, 10,000 buyers for
1,000 seats, a backlog of 10,000); ``--quick`` runs a small size for iteration.
"""
import argparse
import dataclasses
import json
import signal
import sys

from bench import report, suite

PARTS = ("ceiling", "counts", "gateway", "latency", "contention", "backlog", "scaling",
         "embedded")


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through every cleanup


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for iteration")
    p.add_argument("--only", help=f"comma-separated parts of: {', '.join(PARTS)}")
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    p.add_argument("--throughput", type=int, help="purchases of a throughput run")
    p.add_argument("--out", help="write the JSON here instead (with --no-write)")
    a = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    sizes = suite.QUICK if a.quick else suite.Sizes()
    if a.throughput:
        sizes = dataclasses.replace(sizes, throughput=a.throughput, scaling=a.throughput)
    only = set(a.only.split(",")) if a.only else None
    results = suite.run(sizes, only=only)
    print("\n" + report.table(results) + "\n\n" + report.details(results))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2, default=str)
    if not a.no_write:
        report.write(results)
        print(f"\nwritten: {report.OUT}/results.json, README.md, *.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
