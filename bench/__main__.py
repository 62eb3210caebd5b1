"""`make bench`: scenarios on the real services, each on a throwaway database and vhost.

    python -m bench [contention] [--buyers N] [--seats N]
"""
import argparse
import sys

from bench import contention


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="contention", choices=["contention"])
    p.add_argument("--buyers", type=int, default=2000)
    p.add_argument("--seats", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=2, help="pool size of each worker")
    a = p.parse_args(argv)
    return contention.run(buyers=a.buyers, seats=a.seats, concurrency=a.concurrency)


if __name__ == "__main__":
    sys.exit(main())
