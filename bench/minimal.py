"""The minimal saga: the database work of a purchase with nothing else around it.

The no-op chain of ``bench.noop`` with each task doing what its step must do, and no more:
the start records the saga; reserve takes a seat with the conditional ``UPDATE`` on the
tier and inserts the hold; charge inserts the payment; confirm confirms the hold and
inserts the ticket; each step also moves the saga's status on. One transaction per step
(four per saga, the start's included), three messages, plain psycopg2, no schemas, no
idempotency, no outbox, no compensation. Its tables live in the run's throwaway database
(``MINIMAL_DATABASE_URL``), one tier of ample capacity.
"""
from __future__ import annotations

import os
import threading
import uuid

from contracts.statuses import HoldStatus, PaymentStatus, SagaStatus

TIER = 1
_local = threading.local()  # a connection per thread (the load) or per process (a worker)

SCHEMA = """
CREATE TABLE IF NOT EXISTS minimal_tiers (id int PRIMARY KEY, available int NOT NULL
    CHECK (available >= 0));
CREATE TABLE IF NOT EXISTS minimal_sagas (id uuid PRIMARY KEY, status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz);
CREATE TABLE IF NOT EXISTS minimal_holds (saga_id uuid PRIMARY KEY, tier_id int NOT NULL,
    quantity int NOT NULL, status text NOT NULL);
CREATE TABLE IF NOT EXISTS minimal_payments (saga_id uuid PRIMARY KEY, amount_cents int NOT NULL,
    status text NOT NULL);
CREATE TABLE IF NOT EXISTS minimal_tickets (id uuid PRIMARY KEY, saga_id uuid NOT NULL,
    code text NOT NULL);
"""


def connection():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed or getattr(_local, "pid", None) != os.getpid():
        import psycopg2

        conn = _local.conn = psycopg2.connect(os.environ["MINIMAL_DATABASE_URL"])
        _local.pid = os.getpid()
    return conn


def _step(ids: list, status: SagaStatus, *work) -> None:
    """One transaction: each ``work(cursor)`` for the sagas ``ids``, then their status."""
    conn = connection()
    with conn.cursor() as cur:
        for w in work:
            w(cur)
        cur.execute("UPDATE minimal_sagas SET status = %s, updated_at = now() "
                    "WHERE id = ANY(%s::uuid[])", (str(status), ids))
    conn.commit()


def _rows(sql: str, rows: list):
    """Work inserting ``rows`` with one statement."""
    def insert(cur):
        from psycopg2.extras import execute_values

        execute_values(cur, sql, rows)
    return insert


def setup(database_url: str, seats: int = 10_000_000) -> None:
    """The tables and the tier, in ``database_url``."""
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA)
        cur.execute("INSERT INTO minimal_tiers VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (TIER, seats))
    conn.close()


# Each step takes a list of saga ids: one saga (``bench.noop``), or a batch of them
# (``bench.batched``), in one transaction either way.

def begin(ids: list) -> None:
    conn = connection()
    with conn.cursor() as cur:
        _rows("INSERT INTO minimal_sagas (id, status) VALUES %s",
              [(i, str(SagaStatus.PENDING)) for i in ids])(cur)
    conn.commit()


def reserve(ids: list) -> None:
    _step(ids, SagaStatus.RESERVED,
          lambda cur: cur.execute("UPDATE minimal_tiers SET available = available - %s "
                                  "WHERE id = %s AND available >= %s",
                                  (len(ids), TIER, len(ids))),
          _rows("INSERT INTO minimal_holds VALUES %s",
                [(i, TIER, 1, str(HoldStatus.HELD)) for i in ids]))


def charge(ids: list) -> None:
    _step(ids, SagaStatus.PAID, _rows("INSERT INTO minimal_payments VALUES %s",
                                      [(i, 2500, str(PaymentStatus.SUCCEEDED)) for i in ids]))


def confirm(ids: list) -> None:
    tickets = [uuid.uuid4() for _ in ids]
    _step(ids, SagaStatus.CONFIRMED,
          lambda cur: cur.execute("UPDATE minimal_holds SET status = %s "
                                  "WHERE saga_id = ANY(%s::uuid[])",
                                  (str(HoldStatus.CONFIRMED), ids)),
          _rows("INSERT INTO minimal_tickets VALUES %s",
                [(str(t), i, t.hex[:10]) for t, i in zip(tickets, ids)]))
