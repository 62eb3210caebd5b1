"""Helpers of the tickets unit tests: an event on sale, reserving, and reading the tables."""
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from workers.db import transaction
from workers.steps import utcnow
from workers.tickets import service
from workers.tickets.models import Hold, Ticket, Tier

ORGANIZER = uuid.uuid4()
BUYER = uuid.uuid4()

def new_event(capacity=10, price_cents=2500, max_per_order=None, **options):
    """An event with one tier; its id and the tier's id."""
    tier = {"name": "General", "price_cents": price_cents, "currency": "eur",
            "capacity": capacity, "max_per_order": max_per_order}
    event_id = service.create_event(name="Jazz night", venue="Hall A",
                                    starts_at=utcnow() + timedelta(days=30), tiers=[tier],
                                    created_by=ORGANIZER, **options)
    with transaction() as s:
        return event_id, s.scalar(select(Tier.id).where(Tier.event_id == event_id))


def reserve(event_id, tier_id, quantity, saga_id=None):
    return service.reserve_seats(saga_id=saga_id or uuid.uuid4(), user_id=BUYER,
                                 event_id=event_id, tier_id=tier_id, quantity=quantity)


def available(tier_id) -> int:
    with transaction() as s:
        return s.get(Tier, tier_id).available


def hold_of(saga_id) -> Hold | None:
    with transaction() as s:
        return s.scalar(select(Hold).where(Hold.saga_id == saga_id))


def tickets_of(saga_id) -> list[Ticket]:
    with transaction() as s:
        return list(s.scalars(select(Ticket).where(Ticket.saga_id == saga_id)))


def make_overdue(saga_id) -> None:
    """Move a hold's expiry into the past, as if its time had run out."""
    with transaction() as s:
        s.execute(update(Hold).where(Hold.saga_id == saga_id)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
