"""Holds that expire: reclaimed by a reserve short of seats or by the sweeper, which tells
each saga once; on a migrated SQLite file."""
import uuid

import pytest

from tests.unit.tickets.support import (
    available, hold_of, make_overdue, new_event, reserve,
)
from workers.tickets import holds, queries
from workers.tickets.errors import SoldOut

pytestmark = pytest.mark.usefixtures("sqlite_db")


# --- reclaiming --------------------------------------------------------------------------

def test_a_reserve_short_of_seats_reclaims_overdue_holds_first():
    event_id, tier_id = new_event(capacity=2)
    overdue = uuid.uuid4()
    reserve(event_id, tier_id, 2, overdue)
    make_overdue(overdue)

    reserve(event_id, tier_id, 2)

    assert hold_of(overdue).status == "expired"
    assert available(tier_id) == 0


def test_seats_of_overdue_holds_are_shown_as_available_before_they_are_reclaimed():
    event_id, tier_id = new_event(capacity=5)
    overdue = reserve(event_id, tier_id, 2)
    reserve(event_id, tier_id, 1)
    make_overdue(overdue["saga_id"])

    [tier] = queries.get_event(event_id)["tiers"]

    assert tier["available"] == 4
    assert available(tier_id) == 2  # nothing was reclaimed by looking
    assert hold_of(overdue["saga_id"]).status == "held"


def test_a_hold_inside_its_time_is_not_reclaimed():
    event_id, tier_id = new_event(capacity=2)
    kept = uuid.uuid4()
    reserve(event_id, tier_id, 2, kept)

    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 1)

    assert hold_of(kept).status == "held"


# --- the sweeper -------------------------------------------------------------------------

def test_the_sweeper_expires_overdue_holds_and_tells_each_saga_once():
    event_id, tier_id = new_event(capacity=5)
    overdue, current = reserve(event_id, tier_id, 2), reserve(event_id, tier_id, 1)
    make_overdue(overdue["saga_id"])
    told = []

    assert holds.sweep(told.append) == 1
    assert holds.sweep(told.append) == 0

    assert told == [overdue["saga_id"]]
    assert hold_of(overdue["saga_id"]).status == "expired"
    assert hold_of(current["saga_id"]).status == "held"
    assert available(tier_id) == 4


def test_a_notice_that_could_not_be_sent_is_sent_by_the_next_sweep():
    event_id, tier_id = new_event(capacity=5)
    held = reserve(event_id, tier_id, 2)
    make_overdue(held["saga_id"])

    def broker_down(saga_id):
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        holds.sweep(broker_down)
    told = []
    holds.sweep(told.append)

    assert told == [held["saga_id"]]
    assert available(tier_id) == 5  # expired once, seats given back once


def test_the_sweeper_tells_a_saga_only_after_the_expiry_committed():
    """No hold row is locked (no write transaction open) while a notice is published."""
    from sqlalchemy import select

    from workers.db import transaction
    from workers.tickets.models import Hold

    event_id, tier_id = new_event(capacity=5)
    held = reserve(event_id, tier_id, 2)
    make_overdue(held["saga_id"])
    seen = []

    def publish_expired(saga_id):
        # a transaction of its own (on SQLite it takes the write lock at BEGIN): it would
        # wait for any transaction the sweeper kept open, and fail
        with transaction() as s:
            hold = s.scalar(select(Hold).where(Hold.saga_id == saga_id))
            seen.append((hold.status, hold.expiry_sent_at))

    assert holds.sweep(publish_expired) == 1
    assert seen == [("expired", None)]
    assert hold_of(held["saga_id"]).expiry_sent_at is not None
