"""Read-only views of the tickets domain for callers that must answer at once."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from workers.db import reading, transaction
from workers.steps import utcnow
from workers.tickets import holds
from workers.tickets.errors import EventNotOnSale, TierNotFound
from workers.tickets.models import Event, Ticket, Tier
from workers.tickets.service import check_on_sale, tier_and_event


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


def list_events(*, limit: int, after: uuid.UUID | None = None) -> list[dict]:
    """Events in id order, ``limit`` of them after the cursor ``after``."""
    with transaction() as s:
        q = select(Event).order_by(Event.id).limit(limit)
        if after is not None:
            q = q.where(Event.id > after)
        return _events(s, list(s.scalars(q)))


def purchasable_tier(event_id: uuid.UUID, tier_id: uuid.UUID) -> dict | None:
    """The tier if it belongs to the event and the event is on sale now, else ``None``."""
    with reading() as s:
        try:
            tier, event = tier_and_event(s, tier_id, event_id)
            check_on_sale(event, utcnow())
        except (TierNotFound, EventNotOnSale):
            return None
        return _tier(tier, {})


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


def ticket_of_owner(ticket_id: uuid.UUID, owner_id: uuid.UUID) -> dict | None:
    with transaction() as s:
        t = s.get(Ticket, ticket_id)
        return _ticket(t) if t is not None and t.owner_id == owner_id else None
