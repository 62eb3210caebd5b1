"""Who sees which events: the catalogue buyers browse, an organiser's own events, and
everything for admins.

Buyers (and callers without a token) are shown events on sale or sold out, soonest first;
an event ever published (not a draft) can still be read by id, so that a buyer whose event
was canceled sees it. Drafts are seen only by their organiser, staff and admins.
The reads that apply these rules are in ``queries`` (``visible_event``, ``list_events``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from contracts.statuses import EventStatus
from workers.tickets.models import Event

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
