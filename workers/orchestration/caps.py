"""How much one buyer may have in flight at once, so that no buyer can hold a tier's
seats hostage: ``MAX_OPEN_PURCHASES_PER_USER`` purchases not yet confirmed or canceled,
and ``MAX_HELD_SEATS_PER_USER`` seats among them (0: no cap).

Checked where a purchase begins, in the transaction that records it; a buyer's starts
are serialised (a transaction-scoped advisory lock on PostgreSQL; SQLite serialises
every writer), so racing requests cannot pass a cap together.
"""
from __future__ import annotations

from sqlalchemy import func, select, text

from contracts.statuses import SagaStatus
from workers import runtime
from workers.orchestration.errors import PurchaseCapReached
from workers.orchestration.models import Saga

#: purchases that hold, or may soon hold, seats
IN_FLIGHT = SagaStatus.purchasing()


def enabled() -> bool:
    """Whether any cap is set."""
    settings = runtime.settings()
    return settings.max_open_purchases_per_user > 0 or settings.max_held_seats_per_user > 0


def check(s, user_id, quantity: int) -> None:
    """Refuse a new purchase of ``quantity`` seats that would pass a cap."""
    if not enabled():
        return
    settings = runtime.settings()
    max_open, max_seats = settings.max_open_purchases_per_user, settings.max_held_seats_per_user
    if s.bind.dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                  {"key": f"purchases-of:{user_id}"})
    count, seats = s.execute(
        select(func.count(), func.coalesce(func.sum(Saga.quantity), 0))
        .where(Saga.user_id == user_id, Saga.status.in_(IN_FLIGHT))).one()
    if max_open > 0 and count >= max_open:
        raise PurchaseCapReached(
            f"you have {count} purchases in progress, the most allowed at once: "
            "start another when one has finished")
    if max_seats > 0 and seats + quantity > max_seats:
        raise PurchaseCapReached(
            f"your purchases in progress hold {seats} seats; {quantity} more would pass "
            f"the limit of {max_seats} at once: start this when one has finished")
