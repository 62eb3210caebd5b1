"""Holds that expire.

A hold keeps its seats until ``expires_at``. After that the seats belong to whoever needs
them: a reserve short of seats reclaims its tier's overdue holds in its own transaction,
and the sweeper (beat) reclaims the rest. Reclaiming marks the hold ``expired`` and gives
its seats back in one transaction, with the hold row locked, so a confirm racing it
either confirms first (the seats stay sold) or finds it expired and compensates.
The hold row is its own outbox: ``expiry_sent_at`` records that its saga was told, which
happens after the expiry has committed.
"""
from __future__ import annotations

import logging

from sqlalchemy import bindparam, func, select, text, update

from contracts.statuses import EventStatus, HoldStatus
from workers.db import transaction
from workers.steps import utcnow
from workers.upserts import insert_on_conflict, names
from workers.tickets.models import Event, Hold, Tier

log = logging.getLogger(__name__)

HOLDS = Hold.__table__


def insert(s, hold: dict) -> bool:
    """Insert the hold (all its columns) unless the saga has one (waiting for a racing one
    to commit)."""
    return s.execute(_INSERT, hold).first() is not None


_NEW_HOLD = ("id", "saga_id", "user_id", "tier_id", "quantity", "amount_cents", "currency",
             "status", "created_at", "expires_at")

_INSERT = insert_on_conflict(HOLDS, _NEW_HOLD, ("saga_id",), returning=("id",))


def insert_on_terms(s, hold: dict, event_id) -> dict | None:
    """PostgreSQL: insert the saga's first hold (``hold`` without its price and expiry) in
    ONE statement that reads the tier's terms: only if the event is on sale now (its
    ``created_at``) and the quantity within the tier's limit, as ``check_order`` rules.
    The hold's priced columns (``amount_cents``, ``currency``, ``expires_at``) if it went
    in; ``None`` if it did not -- a refusal, or a repeat: the caller asks as before."""
    row = s.execute(_INSERT_ON_TERMS, {**hold, "event_id": event_id,
                                       "selling": EventStatus.ON_SALE}).first()
    return None if row is None else dict(row._mapping)


_TIERS, _EVENTS = Tier.__table__, Event.__table__
_PRICED = ("amount_cents", "currency", "expires_at")


#: the hold's insert from its tier's terms; the conflict (a repeat) inserts nothing
_INSERT_ON_TERMS = text(
    f'INSERT INTO "{HOLDS.name}" ({names(_NEW_HOLD)}) '
    'SELECT :id, :saga_id, :user_id, t."id", :quantity, t."price_cents" * :quantity, '
    't."currency", :status, :created_at, :created_at + make_interval(secs => e."hold_seconds") '
    f'FROM "{_TIERS.name}" t JOIN "{_EVENTS.name}" e ON e."id" = t."event_id" '
    'WHERE t."id" = :tier_id AND t."event_id" = :event_id AND e."status" = :selling '
    'AND (e."sale_starts_at" IS NULL OR e."sale_starts_at" <= :created_at) '
    'AND (e."sale_ends_at" IS NULL OR :created_at < e."sale_ends_at") '
    'AND :quantity <= t."max_per_order" '
    f'ON CONFLICT ("saga_id") DO NOTHING RETURNING {names(_PRICED)}'
).bindparams(*(bindparam(c, type_=HOLDS.c[c].type) for c in _NEW_HOLD
               if c not in _PRICED),
             bindparam("event_id", type_=_TIERS.c.event_id.type),
             bindparam("selling", type_=_EVENTS.c.status.type)
             ).columns(*(HOLDS.c[c] for c in _PRICED))


_OF_SAGA = select(HOLDS).where(HOLDS.c.saga_id == bindparam("saga_id"))


def of_saga(s, saga_id):
    """The saga's hold (a mapping of its columns), or ``None``."""
    row = s.execute(_OF_SAGA, {"saga_id": saga_id}).first()
    return None if row is None else row._mapping


def reclaim_overdue(s, *, tier_id=None, limit: int = 500, wait: bool = False) -> int:
    """Expire overdue holds (of one tier, or any) inside ``s``; the seats reclaimed.

    A hold another transaction has locked is skipped, unless ``wait``: then it is waited
    for, and left out if that transaction expired it (its seats are back once it
    committed, for a statement after this one to see)."""
    q = (select(Hold).where(Hold.status == HoldStatus.HELD, Hold.expires_at <= utcnow())
         .order_by(Hold.expires_at).limit(limit).with_for_update(skip_locked=not wait))
    if tier_id is not None:
        q = q.where(Hold.tier_id == tier_id)
    seats = 0
    for hold in s.scalars(q):
        seats += expire(s, hold)
    return seats


def expire(s, hold: Hold) -> int:
    """Mark a locked, held hold expired and give its seats back; the seats given."""
    hold.status = HoldStatus.EXPIRED
    s.execute(update(Tier).where(Tier.id == hold.tier_id)
              .values(available=Tier.available + hold.quantity))
    return hold.quantity


def overdue_seats(s, tier_ids) -> dict:
    """Seats still counted in ``available`` but held by holds past their expiry, by tier."""
    if not tier_ids:
        return {}
    rows = s.execute(
        select(Hold.tier_id, func.sum(Hold.quantity))
        .where(Hold.tier_id.in_(tier_ids), Hold.status == HoldStatus.HELD,
               Hold.expires_at <= utcnow())
        .group_by(Hold.tier_id))
    return {tier_id: int(n) for tier_id, n in rows}


def sweep(publish_expired) -> int:
    """Expire every overdue hold, then tell each expired hold's saga, once.

    The expiry commits first; the notices are sent after, with no row locked (a hold
    is never held locked while the broker is called). ``publish_expired(saga_id)`` sends
    a notice; a hold is marked told once it returned, so a notice that failed is sent by
    the next sweep, and one that two sweeps raced to send arrives twice, which its saga
    absorbs. Returns the number of notices sent.
    """
    with transaction() as s:
        reclaim_overdue(s)
    with transaction() as s:
        due = s.execute(select(Hold.id, Hold.saga_id)
                        .where(Hold.status == HoldStatus.EXPIRED, Hold.expiry_sent_at.is_(None))
                        .order_by(Hold.expires_at).limit(500)).all()
    told = []
    try:
        for hold_id, saga_id in due:
            publish_expired(saga_id)
            told.append(hold_id)
    finally:
        if told:
            with transaction() as s:
                s.execute(update(Hold).where(Hold.id.in_(told)).values(expiry_sent_at=utcnow()))
    if told:
        log.info("told %d saga(s) that their hold expired", len(told))
    return len(told)
