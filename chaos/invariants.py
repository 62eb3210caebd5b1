"""The invariants, checked from the database after a run (on a ``chaos.snapshot.Snapshot``);
each a ``Check`` that names its offenders (saga ids with what is known about them), never a
bare ``False``."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from chaos.snapshot import SEAT_KEEPING, SOLD, Snapshot
from contracts.statuses import PaymentStatus, SagaReason, SagaStatus, StepName, StepStatus
from harness.sagas import TERMINAL

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
