"""Who sees which events: the catalogue buyers browse, an organiser's own events, and
everything for admins.

Buyers (and callers without a token) are shown events on sale or sold out, soonest first;
an event ever published (not a draft) can still be read by id, so that a buyer whose event
was canceled sees it. Drafts are seen only by their organiser, staff and admins.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_

from contracts.statuses import EventStatus
from workers.db import transaction
from workers.tickets.models import Event
from workers.tickets.queries import _events

#: what the catalogue lists to buyers
LISTED = EventStatus.listed()
#: roles that may read any event by id
SEE_ALL = ("admin", "staff")


@dataclass(frozen=True)
class Viewer:
    """Who asks: no user for a caller without a bearer token."""

    user_id: uuid.UUID | None = None
    role: str | None = None


@dataclass(frozen=True)
class Filters:
    mine: bool = False
    status: str | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None
    venue: str | None = None
    q: str | None = None


def may_see(event: Event | dict, viewer: Viewer) -> bool:
    status = event["status"] if isinstance(event, dict) else event.status
    owner = event["created_by"] if isinstance(event, dict) else event.created_by
    return (status != EventStatus.DRAFT or viewer.role in SEE_ALL
            or (viewer.user_id is not None and owner == viewer.user_id))


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
