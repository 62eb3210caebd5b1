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

from contracts.statuses import SagaStatus

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


def _step(*statements) -> None:
    """One transaction: the statements, then the commit."""
    conn = connection()
    with conn.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, params)
    conn.commit()


def _status(saga_id: str, status: SagaStatus):
    return ("UPDATE minimal_sagas SET status = %s, updated_at = now() WHERE id = %s",
            (str(status), saga_id))


def setup(database_url: str, seats: int = 10_000_000) -> None:
    """The tables and the tier, in ``database_url``."""
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA)
        cur.execute("INSERT INTO minimal_tiers VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (TIER, seats))
    conn.close()


def begin(saga_id: str) -> None:
    _step(("INSERT INTO minimal_sagas (id, status) VALUES (%s, 'pending')", (saga_id,)))


def reserve(saga_id: str) -> None:
    _step(("UPDATE minimal_tiers SET available = available - 1 WHERE id = %s AND available >= 1",
           (TIER,)),
          ("INSERT INTO minimal_holds VALUES (%s, %s, 1, 'held')", (saga_id, TIER)),
          _status(saga_id, SagaStatus.RESERVED))


def charge(saga_id: str) -> None:
    _step(("INSERT INTO minimal_payments VALUES (%s, 2500, 'succeeded')", (saga_id,)),
          _status(saga_id, SagaStatus.PAID))


def confirm(saga_id: str) -> None:
    ticket = uuid.uuid4()
    _step(("UPDATE minimal_holds SET status = 'confirmed' WHERE saga_id = %s", (saga_id,)),
          ("INSERT INTO minimal_tickets VALUES (%s, %s, %s)", (str(ticket), saga_id, ticket.hex[:10])),
          _status(saga_id, SagaStatus.CONFIRMED))
