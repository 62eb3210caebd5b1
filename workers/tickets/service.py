"""Business rules of the tickets domain, as plain functions over a database session.

Seats are taken by one conditional UPDATE (``available >= n``) whose row count says
whether it happened: concurrent buyers serialise on the tier row and none can take
more than is left, on PostgreSQL and SQLite alike.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from contracts.statuses import EventStatus, HoldStatus, TicketStatus
from settings import CRASH_CONFIRM_TIER, FAIL_CONFIRM_TIER
from workers import runtime
from workers.db import decide_last, step_transaction
from workers.tickets import codes, holds
from workers.steps import DomainError, utcnow
from workers.tickets.errors import (
    EventNotOnSale, HoldLapsed, HoldNotFound, HoldReleased, InjectedFault, OrderLimitExceeded,
    SoldOut, TierNotFound,
)
from workers.tickets.models import Event, Hold, Ticket, Tier

# The domain's public face is this module, ``queries`` and ``errors``: what the gateway may
# use of the other modules is re-exported from them.
from workers.tickets.checkin import check_in  # noqa: F401
from workers.tickets.models import MAX_PER_ORDER  # noqa: F401

from workers.tickets.organising import (  # noqa: F401  organisers' events
    EVENT_OPTIONS, cancel_event, create_event, update_event,
)


def reserve_seats(*, saga_id, user_id, event_id, tier_id, quantity) -> dict:
    """Hold ``quantity`` seats of a tier for a saga; repeating it returns the same hold."""
    with step_transaction() as s:
        hold, new = _hold(s, saga_id=saga_id, user_id=user_id, event_id=event_id,
                          tier_id=tier_id, quantity=quantity)
        if not new:
            return _reserved(hold)
        # The tier's row is locked from the UPDATE until the commit: it is left for last.
        taken = decide_last(s, lambda: _take_or_reclaim(s, tier_id, quantity),
                            lambda: _refuse(s, hold["id"], quantity, tier_id))
        if taken is False:  # the refused hold is kept: raised after the commit
            refused = _refuse(s, hold["id"], quantity, tier_id)
    if taken is False:
        raise refused
    return _reserved(hold)


def _hold(s, *, saga_id, user_id, event_id, tier_id, quantity) -> tuple:
    """The saga's hold and whether it is new: inserted now if the order may be made,
    else the hold a repeat finds; the order's refusal if there is none.

    The hold goes in before the seats are taken: a duplicate delivery of this step waits
    on its unique ``saga_id`` and then finds it, instead of racing for seats and reading
    ``SoldOut``. On PostgreSQL the usual case (on sale, within the limit, the saga's first
    hold) is one statement that reads the terms as it inserts; anything else is asked
    step by step, as on SQLite."""
    now = utcnow()
    hold = dict(id=uuid.uuid4(), saga_id=saga_id, user_id=user_id, tier_id=tier_id,
                quantity=quantity, status=HoldStatus.HELD, created_at=now)
    if s.bind.dialect.name == "postgresql":
        priced = holds.insert_on_terms(s, hold, event_id)
        if priced is not None:
            return {**hold, **priced}, True
    try:
        terms = terms_of(s, tier_id, event_id)
        check_order(terms, terms, quantity, now)
    except DomainError:  # a repeat of a reserve made before this changed is answered
        held = holds.of_saga(s, saga_id)
        if held is None:
            raise
        return held, False
    hold.update(amount_cents=terms.price_cents * quantity, currency=terms.currency,
                expires_at=now + timedelta(seconds=terms.hold_seconds))
    if not holds.insert(s, hold):
        return holds.of_saga(s, saga_id), False
    return hold, True


def _take_or_reclaim(s, tier_id, quantity) -> bool:
    """Take the seats; short of them, reclaim the tier's overdue holds and try once more.
    An overdue hold the sweeper is expiring is waited for rather than skipped, and the
    second take follows even when this reserve reclaimed nothing: the sweeper's commit
    may just have given the seats back, and a buyer is not told "sold out" while they
    are on their way."""
    if _take(s, tier_id, quantity):
        return True
    holds.reclaim_overdue(s, tier_id=tier_id, wait=True)
    return _take(s, tier_id, quantity)


def _refuse(s, hold_id, quantity, tier_id) -> SoldOut:
    """Sold out. The hold is kept, empty and "refused", so that a later delivery of this
    step (when seats may have come back) refuses too instead of reserving for a saga that
    is already canceled."""
    s.execute(update(_HOLDS).where(_HOLDS.c.id == hold_id)
              .values(status=HoldStatus.REFUSED, quantity=0, amount_cents=0))
    return SoldOut(f"fewer than {quantity} seats left of tier {tier_id}")


_HOLDS, _TIERS, _EVENTS = Hold.__table__, Tier.__table__, Event.__table__
#: what a reserve needs of a tier and its event, in one row (``check_order`` reads both)
_TERMS = (_TIERS.c.price_cents, _TIERS.c.currency, _TIERS.c.max_per_order, _EVENTS.c.status,
          _EVENTS.c.sale_starts_at, _EVENTS.c.sale_ends_at, _EVENTS.c.hold_seconds)


# The hot path's statements are built once and executed with parameters.
_TERMS_OF = (select(*_TERMS).join_from(_TIERS, _EVENTS, _EVENTS.c.id == _TIERS.c.event_id)
             .where(_TIERS.c.id == bindparam("tier_id"), _TIERS.c.event_id == bindparam("event_id")))
_TAKE = (update(_TIERS).where(_TIERS.c.id == bindparam("tier_id"),
                              _TIERS.c.available >= bindparam("quantity"))
         .values(available=_TIERS.c.available - bindparam("quantity")))


def terms_of(s, tier_id, event_id):
    """What ordering a tier's seats depends on, of the tier and its event, in one row;
    ``TierNotFound`` unless the tier is that event's."""
    row = s.execute(_TERMS_OF, {"tier_id": tier_id, "event_id": event_id}).first()
    if row is None:
        raise TierNotFound(str(tier_id))
    return row


def _take(s, tier_id, quantity) -> bool:
    """The conditional UPDATE that takes seats: whether there were enough."""
    return s.execute(_TAKE, {"tier_id": tier_id, "quantity": quantity}).rowcount == 1


def check_order(tier: Tier, event: Event, quantity: int, now: datetime) -> None:
    """Whether ``quantity`` seats of a tier may be ordered now: the one rule, for the
    gateway's answer and the reserve step alike."""
    check_on_sale(event, now)
    if quantity > tier.max_per_order:
        raise OrderLimitExceeded(f"at most {tier.max_per_order} tickets of this tier per order")


def check_on_sale(event: Event, now: datetime) -> None:
    if event.status != EventStatus.ON_SALE:
        raise EventNotOnSale(f"event is {event.status}")
    if event.sale_starts_at and now < event.sale_starts_at:
        raise EventNotOnSale("sales have not started")
    if event.sale_ends_at and now >= event.sale_ends_at:
        raise EventNotOnSale("sales have ended")


def _reserved(hold) -> dict:
    """The reservation of a hold (a mapping of its columns), or its refusal."""
    if hold["status"] == HoldStatus.REFUSED:
        raise SoldOut(f"seats for saga {hold['saga_id']} were sold out")
    if hold["status"] in (HoldStatus.RELEASED, HoldStatus.EXPIRED):
        raise HoldReleased(f"saga {hold['saga_id']}'s seats were already given back")
    return {"saga_id": hold["saga_id"], "hold_id": hold["id"], "quantity": hold["quantity"],
            "amount_cents": hold["amount_cents"], "currency": hold["currency"],
            "expires_at": hold["expires_at"]}


def confirm_seats(*, saga_id) -> dict:
    """Turn a saga's hold into one ticket per seat; repeating it returns the same tickets.

    A hold past its expiry is not confirmed: its seats go back and the saga compensates.
    """
    with step_transaction() as s:
        # the usual case, a hold held and not overdue, is confirmed by one UPDATE
        hold = s.execute(_CONFIRM_HELD, {"saga": saga_id, "now": utcnow()}).first()
        if hold is not None:
            status, ids = HoldStatus.HELD, _issue_tickets(s, hold)
        else:
            hold, status, ids = _confirm_otherwise(s, saga_id)
    if status == HoldStatus.EXPIRED:  # raised after the commit, so that the expiry itself is kept
        raise HoldLapsed(f"the hold of saga {saga_id} expired before confirmation")
    return {"saga_id": saga_id, "ticket_ids": ids, "amount_cents": hold.amount_cents,
            "currency": hold.currency}


def _confirm_otherwise(s, saga_id):
    """A hold that is not simply held: locked and looked at. The hold, its status, and
    its tickets' ids if it is (or was already) confirmed."""
    hold = s.execute(_LOCK_HOLD, {"saga_id": saga_id}).first()
    if hold is None:
        raise HoldNotFound(str(saga_id))
    status, ids = hold.status, None
    if status == HoldStatus.HELD and hold.expires_at <= utcnow():
        status = _expire(s, hold.id)
    if status in (HoldStatus.RELEASED, HoldStatus.REFUSED):
        raise HoldReleased(str(saga_id))
    if status == HoldStatus.HELD:  # not overdue after all (the UPDATE's clock ran first)
        s.execute(_CONFIRM_HOLD, {"hold_id": hold.id})
        ids = _issue_tickets(s, hold)
    elif status == HoldStatus.CONFIRMED:
        ids = list(s.scalars(select(Ticket.id).where(Ticket.hold_id == hold.id)
                             .order_by(Ticket.id)))
    return hold, status, ids


_LOCK_HOLD = (select(_HOLDS, _TIERS.c.event_id)
              .join_from(_HOLDS, _TIERS, _TIERS.c.id == _HOLDS.c.tier_id)
              .where(_HOLDS.c.saga_id == bindparam("saga_id")).with_for_update(of=_HOLDS))
_CONFIRM_HOLD = (update(_HOLDS).where(_HOLDS.c.id == bindparam("hold_id"))
                 .values(status=HoldStatus.CONFIRMED))
#: confirm a held hold that is not overdue: the hold, and its tier's ``event_id`` as ``_LOCK_HOLD`` adds it
_CONFIRM_HELD = (update(_HOLDS).where(_HOLDS.c.saga_id == bindparam("saga"),
                                      _HOLDS.c.status == HoldStatus.HELD,
                                      _HOLDS.c.expires_at > bindparam("now"))
                 .values(status=HoldStatus.CONFIRMED)
                 .returning(*_HOLDS.c, select(_TIERS.c.event_id)
                            .where(_TIERS.c.id == _HOLDS.c.tier_id).scalar_subquery()
                            .label("event_id")))
_ISSUE = insert(Ticket.__table__)


def _expire(s, hold_id) -> str:
    """Expire the locked hold now: this saga learns it from the error, none is sent."""
    hold = s.get(Hold, hold_id)
    holds.expire(s, hold)
    hold.expiry_sent_at = utcnow()
    return hold.status


def _issue_tickets(s, hold) -> list:
    """Issue the tickets of a hold just confirmed (a row, with its tier's ``event_id``):
    their ids."""
    _fail_if_injected(s, hold)
    now = utcnow()
    ids = sorted(uuid.uuid4() for _ in range(hold.quantity))
    if ids:
        s.execute(_ISSUE, [
            dict(id=ticket_id, hold_id=hold.id, saga_id=hold.saga_id, owner_id=hold.user_id,
                 event_id=hold.event_id, tier_id=hold.tier_id, code=codes.new_code(ticket_id),
                 status=TicketStatus.VALID, issued_at=now) for ticket_id in ids])
    return ids


def _fail_if_injected(s, hold: Hold) -> None:
    if not runtime.settings().fault_injection:
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
        with step_transaction() as s:
            hold = s.scalar(select(Hold).where(Hold.saga_id == saga_id).with_for_update())
            if hold is None:
                now = utcnow()
                s.add(Hold(saga_id=saga_id, user_id=user_id, tier_id=tier_id, quantity=0,
                           amount_cents=0, currency="XXX", status=HoldStatus.RELEASED,
                           created_at=now, expires_at=now))
                return {"saga_id": saga_id, "released": 0}
            return _release(s, hold)
    except IntegrityError:
        # the reserve committed its hold meanwhile: release that
        with step_transaction() as s:
            hold = s.scalar(select(Hold).where(Hold.saga_id == saga_id).with_for_update())
            return _release(s, hold)


def _release(s, hold: Hold) -> dict:
    if hold.status in HoldStatus.given_back():
        return {"saga_id": hold.saga_id, "released": 0}
    hold.status = HoldStatus.RELEASED
    s.execute(update(Ticket).where(Ticket.hold_id == hold.id).values(status=TicketStatus.VOID))
    s.execute(update(Tier).where(Tier.id == hold.tier_id)
              .values(available=Tier.available + hold.quantity))
    return {"saga_id": hold.saga_id, "released": hold.quantity}
