"""Business rules of the tickets domain, as plain functions over a database session.

Seats are taken by one conditional UPDATE (``available >= n``) whose row count says
whether it happened: concurrent buyers serialise on the tier row and none can take
more than is left, on PostgreSQL and SQLite alike.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from contracts import CancelEventSagas
from settings import CRASH_CONFIRM_TIER, FAIL_CONFIRM_TIER, get_settings
from workers import outbox
from workers.db import transaction
from workers.tickets import codes, holds, lifecycle
from workers.steps import utcnow
from workers.tickets.errors import (
    EventNotFound, EventNotOnSale, HoldExpired, HoldNotFound, HoldReleased, InjectedFault,
    NotAllowed, OrderLimitExceeded, SoldOut, TierNotFound,
)
from workers.tickets.models import Event, Hold, Ticket, Tier

EVENT_OPTIONS = ("status", "hold_seconds", "sale_starts_at", "sale_ends_at")


def create_event(*, name: str, venue: str, starts_at: datetime, tiers: list[dict],
                 created_by: uuid.UUID, **options) -> uuid.UUID:
    """Create an event (on sale unless ``status`` says otherwise) with its tiers."""
    now = utcnow()
    with transaction() as s:
        event = Event(name=name, venue=venue, starts_at=starts_at, created_by=created_by,
                      created_at=now, status=options.get("status") or "on_sale",
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
        if event.status != "canceled":  # repeating the cancelation is safe
            lifecycle.check_transition(event.status, "canceled")
            event.status = "canceled"
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


def reserve_seats(*, saga_id, user_id, event_id, tier_id, quantity) -> dict:
    """Hold ``quantity`` seats of a tier for a saga; repeating it returns the same hold."""
    try:
        with transaction() as s:
            existing = s.scalar(select(Hold).where(Hold.saga_id == saga_id))
            if existing is not None:
                return _reserved(existing)
            tier, event = tier_and_event(s, tier_id, event_id)
            now = utcnow()
            check_order(tier, event, quantity, now)
            # The hold goes in first: a duplicate delivery of this step waits on its unique
            # saga_id and then finds it, instead of racing for seats and reading SoldOut.
            hold = Hold(saga_id=saga_id, user_id=user_id, tier_id=tier_id, quantity=quantity,
                        amount_cents=tier.price_cents * quantity, currency=tier.currency,
                        created_at=now,  # status: the default, held
                        expires_at=now + timedelta(seconds=event.hold_seconds))
            s.add(hold)
            s.flush()
            # Seats of overdue holds are free: reclaim them, then try once more.
            if _take(s, tier_id, quantity) or (holds.reclaim_overdue(s, tier_id=tier_id)
                                               and _take(s, tier_id, quantity)):
                return _reserved(hold)
            # Sold out. The hold is kept, empty and "refused", so that a later delivery of
            # this step (when seats may have come back) refuses too instead of reserving
            # for a saga that is already canceled.
            hold.status, hold.quantity, hold.amount_cents = "refused", 0, 0
        raise SoldOut(f"fewer than {quantity} seats left of tier {tier_id}")
    except IntegrityError:
        # A duplicate delivery of this step committed first; its hold is the answer.
        with transaction() as s:
            return _reserved(s.scalar(select(Hold).where(Hold.saga_id == saga_id)))


def tier_and_event(s, tier_id, event_id) -> tuple[Tier, Event]:
    """A tier with its event, in one query; ``TierNotFound`` unless it is that event's."""
    row = s.execute(select(Tier, Event).join(Event, Event.id == Tier.event_id)
                    .where(Tier.id == tier_id, Tier.event_id == event_id)
                    .options(lazyload(Event.tiers))).first()
    if row is None:
        raise TierNotFound(str(tier_id))
    return row.Tier, row.Event


def _take(s, tier_id, quantity) -> bool:
    return s.execute(update(Tier).where(Tier.id == tier_id, Tier.available >= quantity)
                     .values(available=Tier.available - quantity)).rowcount == 1


def check_order(tier: Tier, event: Event, quantity: int, now: datetime) -> None:
    """Whether ``quantity`` seats of a tier may be ordered now: the one rule, for the
    gateway's answer and the reserve step alike."""
    check_on_sale(event, now)
    if quantity > tier.max_per_order:
        raise OrderLimitExceeded(f"at most {tier.max_per_order} tickets of this tier per order")


def check_on_sale(event: Event, now: datetime) -> None:
    if event.status != "on_sale":
        raise EventNotOnSale(f"event is {event.status}")
    if event.sale_starts_at and now < event.sale_starts_at:
        raise EventNotOnSale("sales have not started")
    if event.sale_ends_at and now >= event.sale_ends_at:
        raise EventNotOnSale("sales have ended")


def _reserved(hold: Hold) -> dict:
    if hold.status == "refused":
        raise SoldOut(f"seats for saga {hold.saga_id} were sold out")
    if hold.status in ("released", "expired"):
        raise HoldReleased(f"saga {hold.saga_id}'s seats were already given back")
    return {"saga_id": hold.saga_id, "hold_id": hold.id, "quantity": hold.quantity,
            "amount_cents": hold.amount_cents, "currency": hold.currency,
            "expires_at": hold.expires_at}


def confirm_seats(*, saga_id) -> dict:
    """Turn a saga's hold into one ticket per seat; repeating it returns the same tickets.

    A hold past its expiry is not confirmed: its seats go back and the saga compensates.
    """
    with transaction() as s:
        hold = s.scalar(select(Hold).where(Hold.saga_id == saga_id).with_for_update())
        if hold is None:
            raise HoldNotFound(str(saga_id))
        if hold.status == "held" and hold.expires_at <= utcnow():
            holds.expire(s, hold)
            hold.expiry_sent_at = utcnow()  # this saga learns it from the error below
        if hold.status == "expired":
            expired = True
        elif hold.status in ("released", "refused"):
            raise HoldReleased(str(saga_id))
        else:
            expired = False
            if hold.status == "held":
                _issue_tickets(s, hold)
            ids = s.scalars(select(Ticket.id).where(Ticket.hold_id == hold.id).order_by(Ticket.id))
            confirmed = {"saga_id": saga_id, "ticket_ids": list(ids),
                         "amount_cents": hold.amount_cents, "currency": hold.currency}
    if expired:  # raised after the commit, so that the expiry itself is kept
        raise HoldExpired(f"the hold of saga {saga_id} expired before confirmation")
    return confirmed


def _issue_tickets(s, hold: Hold) -> None:
    _fail_if_injected(s, hold)
    hold.status = "confirmed"
    tier = s.get(Tier, hold.tier_id)
    now = utcnow()
    for ticket_id in (uuid.uuid4() for _ in range(hold.quantity)):
        s.add(Ticket(id=ticket_id, hold_id=hold.id, saga_id=hold.saga_id, owner_id=hold.user_id,
                     event_id=tier.event_id, tier_id=tier.id,
                     code=codes.new_code(ticket_id), status="valid", issued_at=now))
    s.flush()


def _fail_if_injected(s, hold: Hold) -> None:
    if not get_settings().fault_injection:
        return
    name = s.get(Tier, hold.tier_id).name
    if name == FAIL_CONFIRM_TIER:
        raise InjectedFault("confirm fails for this tier (fault injection)")
    if name == CRASH_CONFIRM_TIER:
        os._exit(70)  # a poison message: the process dies mid-task, every time


def release_seats(*, saga_id, user_id, tier_id) -> dict:
    """Give a saga's seats back and void its tickets, once; repeating it changes nothing.

    With no hold yet, an empty released hold is recorded so that a reserve arriving
    late for this saga finds it and takes nothing.
    """
    try:
        with transaction() as s:
            hold = s.scalar(select(Hold).where(Hold.saga_id == saga_id).with_for_update())
            if hold is None:
                now = utcnow()
                s.add(Hold(saga_id=saga_id, user_id=user_id, tier_id=tier_id, quantity=0,
                           amount_cents=0, currency="XXX", status="released",
                           created_at=now, expires_at=now))
                return {"saga_id": saga_id, "released": 0}
            return _release(s, hold)
    except IntegrityError:
        # the reserve committed its hold meanwhile: release that
        with transaction() as s:
            hold = s.scalar(select(Hold).where(Hold.saga_id == saga_id).with_for_update())
            return _release(s, hold)


def _release(s, hold: Hold) -> dict:
    if hold.status in ("released", "expired", "refused"):
        return {"saga_id": hold.saga_id, "released": 0}
    hold.status = "released"
    s.execute(update(Ticket).where(Ticket.hold_id == hold.id).values(status="void"))
    s.execute(update(Tier).where(Tier.id == hold.tier_id)
              .values(available=Tier.available + hold.quantity))
    return {"saga_id": hold.saga_id, "released": hold.quantity}
