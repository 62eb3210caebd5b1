"""Check-in at the door: a scanned code admits its ticket, exactly once.

The ticket is marked used by one conditional UPDATE (``status = 'valid'``) whose row count
says whether this scan won: of two scans of one ticket at two doors at the same moment,
one admits and the other is told when the first did. ``TicketUsed`` is written to the outbox
in the transaction that admits, and published after the commit (relayed if the broker is
down): what follows from it (the live count of arrivals) never holds up the door.
"""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import redis
from sqlalchemy import update

from contracts import TicketUsed
from contracts.statuses import TicketStatus
from workers import runtime
from workers import outbox
from workers.db import transaction
from workers.steps import TransientError, utcnow
from workers.tickets import codes
from workers.tickets.errors import (
    TicketAlreadyUsed, TicketForAnotherEvent, TicketVoid, UnknownTicketCode,
)
from workers.tickets.models import Ticket

log = logging.getLogger(__name__)

#: how long an event's arrivals are kept in Redis after the last one
ARRIVALS_TTL = timedelta(days=30)


def check_in(code: str, *, staff_id: uuid.UUID, event_id: uuid.UUID | None = None) -> dict:
    """Admit the ticket of ``code`` (at ``event_id``'s door, if given): mark it used, once.

    Raises ``UnknownTicketCode``, ``TicketForAnotherEvent``, ``TicketAlreadyUsed`` or
    ``TicketVoid`` and changes nothing when the ticket may not enter.
    """
    ticket_id = codes.verify(code)
    if ticket_id is None:
        raise UnknownTicketCode("no ticket has this code")
    return _use(ticket_id, staff_id=staff_id, event_id=event_id)


def _use(ticket_id: uuid.UUID, *, staff_id: uuid.UUID, event_id: uuid.UUID | None) -> dict:
    with transaction() as s:
        q = update(Ticket).where(Ticket.id == ticket_id, Ticket.status == TicketStatus.VALID)
        if event_id is not None:
            q = q.where(Ticket.event_id == event_id)
        admitted = s.execute(q.values(status=TicketStatus.USED, used_at=utcnow(),
                                      used_by=staff_id)).rowcount
        ticket = s.get(Ticket, ticket_id)
        if admitted != 1:
            _refuse(ticket, event_id)
        outbox.add(s, "tickets.ticket_used", TicketUsed.build(
            ticket_id=ticket.id, event_id=ticket.event_id, used_at=ticket.used_at,
            used_by=staff_id))
        return {"ticket_id": ticket.id, "status": ticket.status, "used_at": ticket.used_at,
                "event_id": ticket.event_id, "tier_id": ticket.tier_id}


def _refuse(ticket: Ticket | None, event_id: uuid.UUID | None):
    """Why a ticket the conditional UPDATE left alone may not enter."""
    if ticket is None:
        raise UnknownTicketCode("no ticket has this code")
    if event_id is not None and ticket.event_id != event_id:
        raise TicketForAnotherEvent("this ticket is for another event")
    if ticket.status == TicketStatus.USED:
        raise TicketAlreadyUsed(ticket.id, ticket.used_at)
    raise TicketVoid(f"this ticket is {ticket.status}: its purchase was canceled")


def record_arrival(*, event_id: uuid.UUID, ticket_id: uuid.UUID) -> int | None:
    """Add a ticket to its event's arrivals in Redis; how many have arrived (``None``
    without Redis). A set, not a counter: a redelivered ``TicketUsed`` adds nothing."""
    client = _redis()
    if client is None:
        return None
    key = arrivals_key(event_id)
    try:
        with client.pipeline() as p:  # MULTI/EXEC
            p.sadd(key, str(ticket_id)).expire(key, ARRIVALS_TTL).scard(key)
            return p.execute()[-1]
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise TransientError(f"Redis: {exc}") from exc
    finally:
        client.close()


def arrivals(event_id: uuid.UUID) -> int | None:
    """How many tickets of an event have been checked in, as counted in Redis."""
    client = _redis()
    if client is None:
        return None
    try:
        return client.scard(arrivals_key(event_id))
    finally:
        client.close()


def arrivals_key(event_id: uuid.UUID) -> str:
    return f"boxoffice:tickets:arrivals:{event_id}"


def _redis() -> redis.Redis | None:
    url = runtime.settings().redis_url
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None
