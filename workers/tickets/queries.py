"""Read-only views of the tickets domain for callers that must answer at once."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from workers.db import reading, transaction
from workers.steps import utcnow
from workers.tickets import holds
from workers.tickets.models import Event, Hold, Ticket, Tier
from workers.tickets.service import check_order, terms_of


def _tier(t: Tier, overdue: dict) -> dict:
    return {"id": t.id, "name": t.name, "price_cents": t.price_cents, "currency": t.currency,
            "capacity": t.capacity, "available": t.available + overdue.get(t.id, 0),
            "max_per_order": t.max_per_order}


def _events(s, events) -> list[dict]:
    """Events with live availability: seats of holds past their expiry count as free."""
    overdue = holds.overdue_seats(s, [t.id for e in events for t in e.tiers])
    return [{"id": e.id, "name": e.name, "venue": e.venue, "starts_at": e.starts_at,
             "status": e.status, "hold_seconds": e.hold_seconds,
             "sale_starts_at": e.sale_starts_at, "sale_ends_at": e.sale_ends_at,
             "created_by": e.created_by, "tiers": [_tier(t, overdue) for t in e.tiers]}
            for e in events]


def get_event(event_id: uuid.UUID) -> dict | None:
    with transaction() as s:
        event = s.get(Event, event_id)
        return _events(s, [event])[0] if event else None


def check_purchase(event_id: uuid.UUID, tier_id: uuid.UUID, quantity: int) -> None:
    """Raise ``TierNotFound``, ``EventNotOnSale`` or ``OrderLimitExceeded`` unless
    ``quantity`` seats of this event's tier may be ordered now."""
    with reading() as s:  # one query: what an order needs of the tier and its event
        terms = terms_of(s, tier_id, event_id)
    check_order(terms, terms, quantity, utcnow())


def _ticket(t: Ticket) -> dict:
    return {"id": t.id, "code": t.code, "status": t.status, "event_id": t.event_id,
            "tier_id": t.tier_id, "saga_id": t.saga_id, "issued_at": t.issued_at,
            "used_at": t.used_at}


def tickets_of_saga(saga_id: uuid.UUID) -> list[dict]:
    with transaction() as s:
        q = select(Ticket).where(Ticket.saga_id == saga_id).order_by(Ticket.id)
        return [_ticket(t) for t in s.scalars(q)]


def tickets_of_owner(owner_id: uuid.UUID, *, limit: int, after: uuid.UUID | None = None) -> list[dict]:
    with transaction() as s:
        q = select(Ticket).where(Ticket.owner_id == owner_id).order_by(Ticket.id).limit(limit)
        if after is not None:
            q = q.where(Ticket.id > after)
        return [_ticket(t) for t in s.scalars(q)]


def get_ticket(ticket_id: uuid.UUID) -> dict | None:
    """A ticket with its ``owner_id``, whoever owns it (the caller decides who may see it)."""
    with transaction() as s:
        t = s.get(Ticket, ticket_id)
        return {**_ticket(t), "owner_id": t.owner_id} if t is not None else None


def ticket_of_owner(ticket_id: uuid.UUID, owner_id: uuid.UUID) -> dict | None:
    with transaction() as s:
        t = s.get(Ticket, ticket_id)
        return _ticket(t) if t is not None and t.owner_id == owner_id else None


def seats_by_tier(event_id: uuid.UUID) -> list[dict]:
    """Each tier of an event with its seats: ``sold`` (confirmed), ``held`` (reserved, not
    yet confirmed, not expired) and ``available`` (live), which add up to ``capacity``."""
    with transaction() as s:
        event = s.get(Event, event_id)
        if event is None:
            return []
        tier_ids = [t.id for t in event.tiers]
        overdue = holds.overdue_seats(s, tier_ids)
        rows = s.execute(select(Hold.tier_id, Hold.status, func.sum(Hold.quantity))
                         .where(Hold.tier_id.in_(tier_ids), Hold.status.in_(("held", "confirmed")))
                         .group_by(Hold.tier_id, Hold.status))
        seats = {(tier_id, status): int(n) for tier_id, status, n in rows}
        return [{**_tier(t, overdue), "sold": seats.get((t.id, "confirmed"), 0),
                 "held": seats.get((t.id, "held"), 0) - overdue.get(t.id, 0)} for t in event.tiers]


def hold_counts() -> dict[str, int]:
    """Holds by state: ``live`` (held, within time), ``overdue`` (held past its expiry,
    not yet swept) and ``expired`` (seats returned)."""
    from sqlalchemy import case

    now = utcnow()
    state = case((Hold.status == "expired", "expired"),
                 (Hold.expires_at > now, "live"), else_="overdue")
    with transaction() as s:
        rows = s.execute(select(state, func.count())
                         .where(Hold.status.in_(("held", "expired"))).group_by(state)).all()
    found = dict(rows)
    return {k: found.get(k, 0) for k in ("live", "overdue", "expired")}
