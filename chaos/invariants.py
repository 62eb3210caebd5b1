"""The invariants, checked from the database after a run; each a ``Check`` that names its
offenders (saga ids with what is known about them), never a bare ``False``."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from contextlib import closing, contextmanager
from dataclasses import dataclass, field

import psycopg2

from contracts.statuses import (
    HoldStatus, OutboxKind, PaymentKind, PaymentStatus, SagaReason, SagaStatus, StepName,
    StepStatus, TicketStatus,
)
from harness.sagas import TERMINAL

SOLD = (TicketStatus.VALID, TicketStatus.USED)
SEAT_KEEPING = (HoldStatus.HELD, HoldStatus.CONFIRMED)
#: the outcomes the load asks for (tok_visa, the two declining tokens, tiers that sell out)
EXPECTED_REASONS = (None, SagaReason.SOLD_OUT, SagaReason.PAYMENT_DECLINED,
                    SagaReason.INSUFFICIENT_FUNDS)
#: cancel reasons that mean "the reserve step refused": nothing was held or charged
RESERVE_REFUSALS = (SagaReason.SOLD_OUT, SagaReason.NOT_ON_SALE)
#: cancel reasons that undo a confirmed purchase on purpose (the load causes neither)
CANCELS_CONFIRMED = (SagaReason.EVENT_CANCELED, SagaReason.BUYER_CANCELED)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    offenders: list = field(default_factory=list)


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


def every_saga_terminal(snap: Snapshot, accepted: list[str]) -> Check:
    missing = [sid for sid in accepted if sid not in snap.sagas]
    stuck = [sid for sid, s in snap.sagas.items() if s["status"] not in TERMINAL]
    offenders = [snap.describe(sid) for sid in missing + stuck]
    by_state = Counter((o["status"], (o.get("steps") or ["no step"])[-1]) for o in offenders)
    detail = ", ".join(f"{n} {st} (last step {step})" for (st, step), n in by_state.items())
    return Check("terminal", not offenders, detail, offenders)


def sold_within_capacity(snap: Snapshot) -> Check:
    sold = Counter(str(t["tier_id"]) for t in snap.tickets if t["status"] in SOLD)
    offenders = [{"tier": tid, "capacity": t["capacity"], "sold": sold[tid],
                  "available": t["available"]}
                 for tid, t in snap.tiers.items()
                 if sold[tid] > t["capacity"] or not 0 <= t["available"] <= t["capacity"]]
    return Check("sold<=capacity", not offenders, f"{len(offenders)} tier(s) oversold", offenders)


def sold_are_confirmed_tickets(snap: Snapshot) -> Check:
    sold_by_saga = Counter(str(t["saga_id"]) for t in snap.tickets if t["status"] in SOLD)
    offenders = []
    for sid, s in snap.sagas.items():
        want = s["quantity"] if s["status"] == SagaStatus.CONFIRMED else 0
        if sold_by_saga.get(sid, 0) != want:
            offenders.append({**snap.describe(sid), "valid_tickets": sold_by_saga.get(sid, 0)})
    strays = set(sold_by_saga) - set(snap.sagas)
    offenders += [{"saga": sid, "status": "unknown saga", "valid_tickets": sold_by_saga[sid]}
                  for sid in strays]
    return Check("sold=confirmed tickets", not offenders,
                 f"{len(offenders)} saga(s) with the wrong number of valid tickets", offenders)


def seat_ledger_balances(snap: Snapshot) -> Check:
    """Seats taken from a tier are exactly those of its held and confirmed holds, and no
    canceled saga keeps any (seats neither leaked nor given back twice)."""
    kept = Counter()
    for h in snap.holds.values():
        if h["status"] in SEAT_KEEPING:
            kept[str(h["tier_id"])] += h["quantity"]
    offenders = [{"tier": tid, "taken": t["capacity"] - t["available"], "held_or_sold": kept[tid]}
                 for tid, t in snap.tiers.items() if t["capacity"] - t["available"] != kept[tid]]
    offenders += [snap.describe(sid) for sid, h in snap.holds.items()
                  if h["status"] in SEAT_KEEPING
                  and snap.sagas.get(sid, {}).get("status") == SagaStatus.CANCELED]
    return Check("seat ledger", not offenders, f"{len(offenders)} mismatch(es)", offenders)


def at_most_one_charge(snap: Snapshot) -> Check:
    offenders = []
    for sid, s in snap.sagas.items():
        n = len(snap.charges(sid))
        if n > 1 or (s["status"] == SagaStatus.CONFIRMED and n != 1):
            offenders.append({**snap.describe(sid), "succeeded_charges": n})
    return Check("<=1 charge", not offenders,
                 f"{len(offenders)} saga(s) charged twice, or confirmed uncharged", offenders)


def processor_asked_once(snap: Snapshot) -> Check:
    """The processor's ledger, not only our rows: each saga whose charge was answered was
    asked exactly once, with the outcome and amount we recorded; no other saga was asked."""
    offenders = []
    for sid in set(snap.sagas) | set(snap.processor):
        ours, theirs = snap.settled_charges(sid), snap.processor.get(sid)
        if not ours and theirs is None:
            continue
        if not (ours and theirs and theirs["calls"] == 1
                and theirs["outcome"] == ours[0]["status"]
                and theirs["amount_cents"] == ours[0]["amount_cents"]):
            offenders.append({**snap.describe(sid), "processor": theirs})
    calls = sum(r["calls"] for r in snap.processor.values())
    charged = sum(1 for sid in snap.sagas if snap.settled_charges(sid))
    return Check("processor asked once", not offenders,
                 f"{calls} processor call(s) for {charged} charged saga(s); "
                 f"{len(offenders)} saga(s) asked other than once", offenders)


def canceled_charged_refunded_once(snap: Snapshot) -> Check:
    offenders = []
    for sid, s in snap.sagas.items():
        charged, refunds = snap.charges(sid), snap.refunds(sid)
        if s["status"] == SagaStatus.CANCELED and charged:
            ok = (len(refunds) == 1 and refunds[0]["status"] == PaymentStatus.SUCCEEDED
                  and refunds[0]["amount_cents"] == charged[0]["amount_cents"])
        else:
            ok = not (refunds and not charged)  # never refund what was not charged
        if not ok:
            offenders.append(snap.describe(sid))
    return Check("canceled+charged: 1 refund", not offenders,
                 f"{len(offenders)} saga(s) not refunded exactly once", offenders)


def confirmed_never_refunded(snap: Snapshot) -> Check:
    offenders = [snap.describe(sid) for sid, s in snap.sagas.items()
                 if s["status"] == SagaStatus.CONFIRMED and snap.refunds(sid)]
    return Check("confirmed not refunded", not offenders,
                 f"{len(offenders)} confirmed saga(s) refunded", offenders)


def one_saga_per_purchase(snap: Snapshot, accepted: list[str]) -> Check:
    """Retries with the same Idempotency-Key made no second saga: the database holds
    exactly the sagas the gateway accepted."""
    extra = sorted(set(snap.sagas) - set(accepted))
    repeated = len(accepted) - len(set(accepted))
    return Check("one saga per purchase", not extra and not repeated,
                 f"{len(extra)} saga(s) nobody was told of, {repeated} id(s) given twice",
                 [snap.describe(sid) for sid in extra])


def refused_never_charged(snap: Snapshot) -> Check:
    """A saga canceled because its seats could not be reserved (sold out, not on sale)
    never got as far as a charge or a seat: otherwise the reason is a lie and a sale was
    lost (the outcome of a stale failure of a step that in fact succeeded)."""
    offenders = [snap.describe(sid) for sid, s in snap.sagas.items()
                 if s["status"] == SagaStatus.CANCELED and s["reason"] in RESERVE_REFUSALS
                 and (snap.charges(sid) or (snap.holds.get(sid) or {}).get("quantity"))]
    return Check("sold_out never charged", not offenders,
                 f"{len(offenders)} saga(s) canceled as {'/'.join(RESERVE_REFUSALS)} that had "
                 "reserved seats or been charged", offenders)


def confirmed_stays_confirmed(snap: Snapshot) -> Check:
    """A saga whose confirm step succeeded ends ``confirmed``, never canceled or failed."""
    offenders = [snap.describe(sid) for sid, s in snap.sagas.items()
                 if s["status"] != SagaStatus.CONFIRMED and s["reason"] not in CANCELS_CONFIRMED
                 and any(st["name"] == StepName.CONFIRM and st["status"] == StepStatus.SUCCEEDED
                         for st in snap.steps.get(sid, ()))]
    return Check("confirmed stays confirmed", not offenders, f"{len(offenders)} saga(s) "
                 "not confirmed after their confirm step succeeded", offenders)


def database_checks(snap: Snapshot, accepted: list[str]) -> list[Check]:
    """Every invariant read from the database but ``terminal``, which depends on when."""
    return [one_saga_per_purchase(snap, accepted),
            sold_within_capacity(snap),
            sold_are_confirmed_tickets(snap), seat_ledger_balances(snap),
            at_most_one_charge(snap), processor_asked_once(snap),
            canceled_charged_refunded_once(snap),
            confirmed_never_refunded(snap), confirmed_stays_confirmed(snap),
            refused_never_charged(snap)]
