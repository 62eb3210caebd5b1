"""What the invariants are checked on: a ``Snapshot`` of every row they need, read from the
database in one read-only transaction, with what is known of each saga for a report."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from contextlib import closing, contextmanager
from dataclasses import dataclass, field

import psycopg2

from contracts.statuses import (
    HoldStatus, OutboxKind, PaymentKind, PaymentStatus, SagaReason, SagaStatus, StepStatus,
    TicketStatus,
)
from harness.sagas import TERMINAL

SOLD = (TicketStatus.VALID, TicketStatus.USED)
SEAT_KEEPING = (HoldStatus.HELD, HoldStatus.CONFIRMED)
#: the outcomes the load asks for (tok_visa, the two declining tokens, tiers that sell out)
EXPECTED_REASONS = (None, SagaReason.SOLD_OUT, SagaReason.PAYMENT_DECLINED,
                    SagaReason.INSUFFICIENT_FUNDS)


def plain_url(database_url: str) -> str:
    """A libpq URL for a SQLAlchemy one (``postgresql+psycopg2://``, ``postgres://``)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", database_url, count=1)


@contextmanager
def connect(database_url: str, *, timeout: int):
    """A read-only psycopg2 connection, closed on exit."""
    with closing(psycopg2.connect(plain_url(database_url), connect_timeout=timeout)) as conn:
        conn.set_session(readonly=True)  # one transaction: a consistent snapshot
        yield conn


def select(conn, sql: str, params=None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


@dataclass
class Snapshot:
    """Every row the invariants need, read in one transaction."""

    sagas: dict
    steps: dict
    outbox: dict
    tiers: dict
    holds: dict
    tickets: list
    payments: dict
    #: the payment processor's own books (the simulator's ledger), by idempotency key
    processor: dict = field(default_factory=dict)

    @classmethod
    def read(cls, database_url: str) -> Snapshot:
        with connect(database_url, timeout=5) as conn:
            def rows(sql):
                return select(conn, sql)

            sagas = {str(r["id"]): r for r in rows(
                "SELECT id, status, reason, error, tier_id, quantity, amount_cents, "
                "payment_token, created_at, updated_at FROM orchestration_sagas")}
            steps, outbox, holds, payments = (defaultdict(list), defaultdict(list), {},
                                              defaultdict(list))
            for r in rows("SELECT saga_id, name, status, attempts, error "
                          "FROM orchestration_saga_steps ORDER BY position"):
                steps[str(r["saga_id"])].append(r)
            for r in rows("SELECT saga_id, kind, created_at, sent_at FROM orchestration_outbox "
                          "ORDER BY created_at"):
                outbox[str(r["saga_id"])].append(r)
            tiers = {str(r["id"]): r for r in rows(
                "SELECT id, event_id, name, capacity, available FROM tickets_tiers")}
            for r in rows("SELECT saga_id, tier_id, quantity, status FROM tickets_holds"):
                holds[str(r["saga_id"])] = r
            tickets = rows("SELECT saga_id, tier_id, status FROM tickets_tickets")
            for r in rows("SELECT saga_id, kind, status, amount_cents FROM payments_payments"):
                payments[str(r["saga_id"])].append(r)
            processor = {r["idempotency_key"]: r for r in rows(
                "SELECT idempotency_key, outcome, amount_cents, calls "
                "FROM payments_processor_ledger")}
        return cls(sagas, steps, outbox, tiers, holds, tickets, payments, processor)

    def dump(self, path) -> None:
        """Every row read, as JSON, for whoever investigates a failure."""
        import json

        rows = {name: dict(value) if isinstance(value, dict) else value
                for name, value in vars(self).items()}
        path.write_text(json.dumps(rows, default=str, indent=1))

    def charges(self, saga_id: str, status: str = PaymentStatus.SUCCEEDED) -> list:
        return [p for p in self.payments.get(saga_id, ()) if p["kind"] == PaymentKind.CHARGE
                and p["status"] == status]

    def settled_charges(self, saga_id: str) -> list:
        """Charges that reached the processor and got its answer (captured or declined)."""
        return [p for p in self.payments.get(saga_id, ()) if p["kind"] == PaymentKind.CHARGE
                and p["status"] in (PaymentStatus.SUCCEEDED, PaymentStatus.DECLINED)]

    def refunds(self, saga_id: str) -> list:
        """Refunds that moved money, not one still waiting for its charge (``requested``)."""
        return [p for p in self.payments.get(saga_id, ()) if p["kind"] == PaymentKind.REFUND
                and p["status"] != PaymentStatus.REQUESTED]

    def describe(self, saga_id: str) -> dict:
        """What is known of one saga, for a report of an offender."""
        saga = self.sagas.get(saga_id)
        if saga is None:
            return {"saga": saga_id, "status": "missing from the database"}
        hold = self.holds.get(saga_id)
        return {
            "saga": saga_id, "status": saga["status"], "reason": saga["reason"],
            "error": saga["error"], "quantity": saga["quantity"], "token": saga["payment_token"],
            "updated_at": str(saga["updated_at"]),
            "steps": [f"{s['name']}:{s['status']}x{s['attempts']}" for s in self.steps.get(saga_id, ())],
            "hold": hold["status"] if hold else None,
            "payments": [f"{p['kind']}:{p['status']}:{p['amount_cents']}"
                         for p in self.payments.get(saga_id, ())],
            "outbox": [f"{o['kind']}:{'sent' if o['sent_at'] else 'UNSENT'}"
                       for o in self.outbox.get(saga_id, ())],
        }

    def surprises(self) -> list[dict]:
        """Sagas that ended in a way the load did not ask for (failed, timed out, a step
        failed for good): no invariant is broken, but each is a purchase that went wrong."""
        return [self.describe(sid) for sid, s in self.sagas.items()
                if s["status"] == SagaStatus.FAILED or s["reason"] not in EXPECTED_REASONS]

    def counts(self) -> dict:
        statuses = Counter(s["status"] for s in self.sagas.values())
        reasons = Counter(s["reason"] for s in self.sagas.values() if s["status"] == SagaStatus.CANCELED)
        refunded_for = Counter(s["reason"] for sid, s in self.sagas.items()
                               if s["status"] == SagaStatus.CANCELED and self.charges(sid))
        failed_steps = Counter(f"{st['name']} {(st['error'] or '?').split(':')[0]}"
                               for steps in self.steps.values() for st in steps
                               if st["status"] == StepStatus.FAILED)
        redriven = sum(1 for o in self.outbox.values()
                       if sum(m["kind"] == OutboxKind.PURCHASE for m in o) > 1)
        return {"sagas": len(self.sagas), **{k: statuses.get(k, 0) for k in TERMINAL},
                "failed_steps": dict(failed_steps), "redriven": redriven,
                "in_flight": sum(n for k, n in statuses.items() if k not in TERMINAL),
                "reasons": dict(reasons), "refunded_for": dict(refunded_for),
                "charges": sum(len(self.charges(s)) for s in self.sagas),
                "processor_calls": sum(r["calls"] for r in self.processor.values()),
                "charged_sagas": sum(1 for s in self.sagas if self.settled_charges(s)),
                "refunds": sum(len(self.refunds(s)) for s in self.sagas),
                "seats_sold": sum(1 for t in self.tickets if t["status"] in SOLD),
                "capacity": sum(t["capacity"] for t in self.tiers.values())}
