"""The conditional seat UPDATE on PostgreSQL, where two deliveries of one reserve step
really run at once: the one that loses the race for the saga's hold answers with the
winner's hold, and the seats are taken once. A reserve meeting the sweeper halfway
through giving an overdue hold's seats back waits for them instead of selling out."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.unit.concurrency import Running, blocked
from tests.unit.tickets.support import (
    BUYER, available, hold_of, make_overdue, new_event, reserve,
)
from workers.db import transaction
from workers.tickets import holds, service
from workers.tickets.models import Hold, Tier

pytestmark = pytest.mark.usefixtures("postgres_db")


def test_a_reserve_losing_the_race_for_its_saga_s_hold_answers_with_the_winner_s_hold():
    event_id, tier_id = new_event(capacity=5)
    saga = uuid.uuid4()
    with transaction() as first_delivery:  # its hold is in and its seats taken, uncommitted
        now = service.utcnow()
        hold = Hold(saga_id=saga, user_id=BUYER, tier_id=tier_id, quantity=2,
                    amount_cents=5000, currency="EUR", status="held", created_at=now,
                    expires_at=now + timedelta(minutes=15))
        first_delivery.add(hold)
        first_delivery.flush()
        first_delivery.get(Tier, tier_id).available -= 2
        first_delivery.flush()
        racing = Running(reserve, event_id=event_id, tier_id=tier_id, quantity=2, saga_id=saga)
        assert blocked(racing)  # on the saga's unique hold
    answer = racing.outcome()
    assert (answer["saga_id"], answer["hold_id"], answer["quantity"]) == (saga, hold.id, 2)
    assert available(tier_id) == 3


def test_concurrent_buyers_never_take_more_seats_than_there_are():
    event_id, tier_id = new_event(capacity=3)
    with transaction() as first_buyer:  # has taken two of the three, uncommitted
        first_buyer.get(Tier, tier_id).available -= 2
        first_buyer.flush()
        racing = Running(reserve, event_id=event_id, tier_id=tier_id, quantity=2)
        assert blocked(racing)  # on the tier row
    with pytest.raises(service.SoldOut):
        racing.outcome()
    assert available(tier_id) == 1


def test_a_reserve_finding_the_sweeper_giving_seats_back_waits_for_them_and_takes_them():
    event_id, tier_id = new_event(capacity=2)
    overdue = uuid.uuid4()
    reserve(event_id, tier_id, 2, overdue)
    make_overdue(overdue)
    buyer = uuid.uuid4()
    with transaction() as sweeper:  # has locked the overdue hold, seats not yet given back
        hold = sweeper.get(Hold, hold_of(overdue).id, with_for_update=True)
        racing = Running(reserve, event_id=event_id, tier_id=tier_id, quantity=2, saga_id=buyer)
        assert blocked(racing), racing.outcome()  # waits on the hold instead of selling out
        holds.expire(sweeper, hold)
    reserved = racing.outcome()
    assert (reserved["saga_id"], reserved["quantity"]) == (buyer, 2)
    assert (hold_of(overdue).status, hold_of(buyer).status) == ("expired", "held")
    assert available(tier_id) == 0


def test_a_usual_reserve_reads_the_terms_in_the_statement_that_inserts_its_hold():
    event_id, tier_id = new_event(capacity=5, price_cents=1250, max_per_order=3)
    saga = uuid.uuid4()
    seen = []

    def listener(conn, cursor, statement, *_):
        seen.append(statement.split()[0])

    event.listen(Engine, "after_cursor_execute", listener)
    try:
        reserved = reserve(event_id, tier_id, 3, saga)
    finally:
        event.remove(Engine, "after_cursor_execute", listener)

    assert seen[:2] == ["INSERT", "UPDATE"], seen  # the hold from the terms, then the seats
    hold = hold_of(saga)
    assert (reserved["amount_cents"], reserved["currency"]) == (3750, "EUR")
    assert (hold.amount_cents, hold.currency, hold.quantity) == (3750, "EUR", 3)
    assert hold.expires_at - hold.created_at == timedelta(seconds=900)
    assert reserved["expires_at"] == hold.expires_at
    assert available(tier_id) == 2
