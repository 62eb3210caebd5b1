"""Organisers' events: creating, editing and canceling them, with their tiers."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from contracts import CancelEventSagas
from contracts.statuses import EventStatus
from workers import outbox
from workers.db import transaction
from workers.tickets import lifecycle
from workers.steps import utcnow
from workers.tickets.errors import EventNotFound, NotAllowed, TierNotFound
from workers.tickets.models import Event, Tier

EVENT_OPTIONS = ("status", "hold_seconds", "sale_starts_at", "sale_ends_at")


def create_event(*, name: str, venue: str, starts_at: datetime, tiers: list[dict],
                 created_by: uuid.UUID, **options) -> uuid.UUID:
    """Create an event (on sale unless ``status`` says otherwise) with its tiers."""
    now = utcnow()
    with transaction() as s:
        event = Event(name=name, venue=venue, starts_at=starts_at, created_by=created_by,
                      created_at=now, status=options.get("status") or EventStatus.ON_SALE,
                      hold_seconds=options.get("hold_seconds") or 900,
                      sale_starts_at=options.get("sale_starts_at"),
                      sale_ends_at=options.get("sale_ends_at"))
        s.add(event)
        s.flush()
        for i, t in enumerate(tiers):
            s.add(_new_tier(event.id, t, now + timedelta(microseconds=i)))
        return event.id


def _new_tier(event_id, t: dict, created_at: datetime) -> Tier:
    return Tier(event_id=event_id, name=t["name"], price_cents=t["price_cents"],
                currency=t["currency"].upper(), capacity=t["capacity"],
                available=t["capacity"], max_per_order=t.get("max_per_order") or 10,
                created_at=created_at)


def update_event(event_id: uuid.UUID, *, editor_id: uuid.UUID, editor_is_admin: bool,
                 changes: dict) -> None:
    """Edit an event's fields, add tiers, or change a tier's price or capacity."""
    with transaction() as s:
        event = _editable_event(s, event_id, editor_id, editor_is_admin)
        lifecycle.check_transition(event.status, changes.get("status") or event.status)
        for field in ("name", "venue", "starts_at", *EVENT_OPTIONS):
            if field in changes:
                setattr(event, field, changes[field])
        for t in changes.get("tiers", []):
            if t.get("id") is None:
                s.add(_new_tier(event.id, t, utcnow()))
            else:
                _edit_tier(s, event.id, t)


def cancel_event(event_id: uuid.UUID, *, editor_id: uuid.UUID, editor_is_admin: bool) -> None:
    """Take an event off sale for good, and owe the orchestration the undoing of its
    purchases in the same transaction (published after the commit; repeating the call
    asks again, which is harmless)."""
    with transaction() as s:
        event = _editable_event(s, event_id, editor_id, editor_is_admin)
        if event.status != EventStatus.CANCELED:  # repeating the cancelation is safe
            lifecycle.check_transition(event.status, EventStatus.CANCELED)
            event.status = EventStatus.CANCELED
        outbox.add(s, "orchestration.cancel_event_sagas", CancelEventSagas.build(event_id=event_id))


def _editable_event(s, event_id, editor_id, editor_is_admin) -> Event:
    """The event, locked, if this editor may change it."""
    event = s.get(Event, event_id, with_for_update=True)
    if event is None:
        raise EventNotFound(str(event_id))
    if not editor_is_admin and event.created_by != editor_id:
        raise NotAllowed("only the event's organizer or an admin may change it")
    return event


def _edit_tier(s, event_id, t: dict) -> None:
    tier = s.get(Tier, t["id"], with_for_update=True)
    if tier is None or tier.event_id != event_id:
        raise TierNotFound(str(t["id"]))
    for field in ("name", "price_cents", "currency", "max_per_order"):
        if field in t:
            setattr(tier, field, t[field].upper() if field == "currency" else t[field])
    if "capacity" in t:
        taken = tier.capacity - tier.available
        if t["capacity"] < taken:
            raise NotAllowed(f"capacity cannot go below the {taken} seats already taken")
        tier.available = t["capacity"] - taken
        tier.capacity = t["capacity"]
