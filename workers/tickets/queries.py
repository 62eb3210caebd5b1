"""Read-only views of the tickets domain for callers that must answer at once."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, tuple_

from contracts.statuses import HoldStatus
from workers.db import reading, transaction
from workers.steps import utcnow
from workers.tickets import holds
from workers.tickets.catalogue import LISTED, Filters, Viewer, may_see
from workers.tickets.codes import qr_png  # noqa: F401  part of the public face
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
                         .where(Hold.tier_id.in_(tier_ids),
                                Hold.status.in_((HoldStatus.HELD, HoldStatus.CONFIRMED)))
                         .group_by(Hold.tier_id, Hold.status))
        seats = {(tier_id, status): int(n) for tier_id, status, n in rows}
        return [{**_tier(t, overdue), "sold": seats.get((t.id, HoldStatus.CONFIRMED), 0),
                 "held": seats.get((t.id, HoldStatus.HELD), 0) - overdue.get(t.id, 0)}
                for t in event.tiers]


def hold_counts() -> dict[str, int]:
    """Holds by state: ``live`` (held, within time), ``overdue`` (held past its expiry,
    not yet swept) and ``expired`` (seats returned)."""
    from sqlalchemy import case

    now = utcnow()
    state = case((Hold.status == HoldStatus.EXPIRED, str(HoldStatus.EXPIRED)),
                 (Hold.expires_at > now, "live"), else_="overdue")
    with transaction() as s:
        rows = s.execute(select(state, func.count())
                         .where(Hold.status.in_((HoldStatus.HELD, HoldStatus.EXPIRED)))
                         .group_by(state)).all()
    found = dict(rows)
    return {k: found.get(k, 0) for k in ("live", "overdue", HoldStatus.EXPIRED)}


def visible_event(event_id: uuid.UUID, viewer: Viewer) -> dict | None:
    """The event with live availability, or ``None`` if it is not there for this viewer."""
    with transaction() as s:
        event = s.get(Event, event_id)
        return _events(s, [event])[0] if event is not None and may_see(event, viewer) else None


def list_events(viewer: Viewer, filters: Filters, *, limit: int,
                after: tuple[datetime, uuid.UUID] | None = None) -> list[dict]:
    """Soonest first (then by id), ``limit`` of them after the key ``after``.

    ``filters.mine`` lists the viewer's own events, drafts included; otherwise admins see
    every event and everyone else the catalogue (on sale or sold out). The other filters
    narrow what the viewer may see: ``starts_from <= starts_at < starts_to``, ``venue``
    (exact, any case), ``q`` (part of the name, any case), ``status``.
    """
    q = select(Event).order_by(Event.starts_at, Event.id).limit(limit)
    if filters.mine:
        q = q.where(Event.created_by == viewer.user_id)
    elif viewer.role != "admin":
        q = q.where(Event.status.in_(LISTED))
    q = _narrowed(q, filters)
    if after is not None:
        q = q.where(tuple_(Event.starts_at, Event.id) > after)
    with transaction() as s:
        return _events(s, list(s.scalars(q)))


def _narrowed(q, f: Filters):
    if f.status is not None:
        q = q.where(Event.status == f.status)
    if f.starts_from is not None:
        q = q.where(Event.starts_at >= f.starts_from)
    if f.starts_to is not None:
        q = q.where(Event.starts_at < f.starts_to)
    if f.venue is not None:
        q = q.where(func.lower(Event.venue) == f.venue.lower())
    if f.q is not None:
        q = q.where(Event.name.icontains(f.q, autoescape=True))
    return q
