"""Rules of the tickets service (events, reserve, confirm, release), on a migrated SQLite file."""
import uuid
from datetime import timedelta

import pytest

from tests.unit.tickets.support import (
    BUYER, ORGANIZER, available, hold_of, make_overdue, new_event, reserve, tickets_of,
)
from workers.db import transaction
from workers.steps import utcnow
from workers.tickets import service
from workers.tickets.errors import (
    EventNotOnSale, HoldLapsed, HoldNotFound, HoldReleased, NotAllowed, OrderLimitExceeded,
    SoldOut, TierNotFound,
)
from workers.tickets.models import Event, Tier

pytestmark = pytest.mark.usefixtures("either_database")


# --- events ------------------------------------------------------------------------------

def test_a_new_event_is_on_sale_with_every_seat_available_and_default_limits():
    event_id, tier_id = new_event(capacity=7)

    with transaction() as s:
        event, tier = s.get(Event, event_id), s.get(Tier, tier_id)
        assert (event.status, event.hold_seconds) == ("on_sale", 900)
        assert (tier.capacity, tier.available, tier.max_per_order) == (7, 7, 10)
        assert tier.currency == "EUR"


def test_capacity_can_not_drop_below_the_seats_already_taken():
    event_id, tier_id = new_event(capacity=5)
    reserve(event_id, tier_id, 3)

    with pytest.raises(NotAllowed):
        service.update_event(event_id, editor_id=ORGANIZER, editor_is_admin=False,
                             changes={"tiers": [{"id": tier_id, "capacity": 2}]})
    service.update_event(event_id, editor_id=ORGANIZER, editor_is_admin=False,
                         changes={"tiers": [{"id": tier_id, "capacity": 8}]})

    assert available(tier_id) == 5  # 8 seats, 3 of them held


def test_only_the_organizer_or_an_admin_may_cancel_an_event(sent):
    event_id, _ = new_event()

    with pytest.raises(NotAllowed):
        service.cancel_event(event_id, editor_id=uuid.uuid4(), editor_is_admin=False)
    assert sent.messages == []
    service.cancel_event(event_id, editor_id=uuid.uuid4(), editor_is_admin=True)

    with transaction() as s:
        assert s.get(Event, event_id).status == "canceled"


def test_canceling_an_event_asks_the_orchestration_to_undo_its_purchases(sent):
    event_id, _ = new_event()

    service.cancel_event(event_id, editor_id=ORGANIZER, editor_is_admin=False)

    assert sent.names() == ["orchestration.cancel_event_sagas"]
    (command,), = sent.args_of("orchestration.cancel_event_sagas")
    assert (command["event_id"], command["after"]) == (str(event_id), None)


# --- reserve -----------------------------------------------------------------------------

def test_reserving_takes_the_seats_and_prices_the_hold():
    event_id, tier_id = new_event(capacity=10, price_cents=2500, hold_seconds=600)
    before = utcnow()

    held = reserve(event_id, tier_id, 3)

    assert available(tier_id) == 7
    assert (held["quantity"], held["amount_cents"], held["currency"]) == (3, 7500, "EUR")
    assert before + timedelta(seconds=600) <= held["expires_at"] <= utcnow() + timedelta(seconds=600)
    assert hold_of(held["saga_id"]).status == "held"


def test_reserving_again_for_the_same_saga_returns_the_same_hold_and_takes_nothing_more():
    event_id, tier_id = new_event(capacity=10)
    saga_id = uuid.uuid4()

    first = reserve(event_id, tier_id, 2, saga_id)
    again = reserve(event_id, tier_id, 2, saga_id)

    assert again["hold_id"] == first["hold_id"]
    assert available(tier_id) == 8


def test_the_last_seats_can_be_taken_but_not_one_more():
    event_id, tier_id = new_event(capacity=3)

    reserve(event_id, tier_id, 3)
    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 1)

    assert available(tier_id) == 0


def test_a_sold_out_reserve_takes_nothing_and_leaves_an_empty_refused_hold():
    event_id, tier_id = new_event(capacity=2)
    saga_id = uuid.uuid4()

    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 3, saga_id)

    hold = hold_of(saga_id)
    assert (hold.status, hold.quantity, hold.amount_cents) == ("refused", 0, 0)
    assert available(tier_id) == 2


def test_a_repeated_sold_out_reserve_still_refuses_when_seats_have_come_back():
    event_id, tier_id = new_event(capacity=2)
    other, refused = uuid.uuid4(), uuid.uuid4()
    reserve(event_id, tier_id, 2, other)
    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 2, refused)
    service.release_seats(saga_id=other, user_id=BUYER, tier_id=tier_id)

    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 2, refused)

    assert available(tier_id) == 2


def test_an_order_over_the_tier_limit_is_refused_and_takes_nothing():
    event_id, tier_id = new_event(capacity=10, max_per_order=4)
    saga_id = uuid.uuid4()

    with pytest.raises(OrderLimitExceeded):
        reserve(event_id, tier_id, 5, saga_id)
    reserve(event_id, tier_id, 4)

    assert hold_of(saga_id) is None
    assert available(tier_id) == 6


@pytest.mark.parametrize("options", [
    {"sale_starts_at": utcnow() + timedelta(hours=1)},
    {"sale_ends_at": utcnow() - timedelta(seconds=1)},
    {"status": "draft"},
], ids=["before-sales-start", "after-sales-end", "not-on-sale"])
def test_no_seats_outside_the_sale_window(options):
    event_id, tier_id = new_event(capacity=5, **options)

    with pytest.raises(EventNotOnSale):
        reserve(event_id, tier_id, 1)

    assert available(tier_id) == 5


def test_seats_can_be_reserved_inside_the_sale_window():
    event_id, tier_id = new_event(capacity=5, sale_starts_at=utcnow() - timedelta(hours=1),
                                  sale_ends_at=utcnow() + timedelta(hours=1))

    reserve(event_id, tier_id, 1)

    assert available(tier_id) == 4


def test_no_seats_of_a_canceled_event(sent):
    event_id, tier_id = new_event(capacity=5)
    service.cancel_event(event_id, editor_id=ORGANIZER, editor_is_admin=False)

    with pytest.raises(EventNotOnSale):
        reserve(event_id, tier_id, 1)


def test_a_tier_of_another_event_is_not_found():
    event_id, _ = new_event()
    _, other_tier = new_event()

    with pytest.raises(TierNotFound):
        reserve(event_id, other_tier, 1)


# --- confirm -----------------------------------------------------------------------------

def test_confirming_issues_one_valid_ticket_per_seat():
    event_id, tier_id = new_event(capacity=10)
    held = reserve(event_id, tier_id, 3)

    confirmed = service.confirm_seats(saga_id=held["saga_id"])

    tickets = tickets_of(held["saga_id"])
    assert sorted(t.id for t in tickets) == confirmed["ticket_ids"]
    assert len(tickets) == 3
    assert {(t.status, t.owner_id, t.event_id, t.tier_id) for t in tickets} == {
        ("valid", BUYER, event_id, tier_id)}
    assert len({t.code for t in tickets}) == 3
    assert hold_of(held["saga_id"]).status == "confirmed"
    assert available(tier_id) == 7


def test_confirming_again_returns_the_same_tickets():
    event_id, tier_id = new_event()
    held = reserve(event_id, tier_id, 2)

    first = service.confirm_seats(saga_id=held["saga_id"])
    again = service.confirm_seats(saga_id=held["saga_id"])

    assert again == first
    assert len(tickets_of(held["saga_id"])) == 2


def test_confirming_without_a_hold_is_refused():
    with pytest.raises(HoldNotFound):
        service.confirm_seats(saga_id=uuid.uuid4())


def test_confirming_released_seats_is_refused():
    event_id, tier_id = new_event()
    held = reserve(event_id, tier_id, 2)
    service.release_seats(saga_id=held["saga_id"], user_id=BUYER, tier_id=tier_id)

    with pytest.raises(HoldReleased):
        service.confirm_seats(saga_id=held["saga_id"])

    assert tickets_of(held["saga_id"]) == []


def test_a_hold_past_its_expiry_is_not_confirmed_and_its_seats_go_back():
    event_id, tier_id = new_event(capacity=5)
    held = reserve(event_id, tier_id, 2)
    make_overdue(held["saga_id"])

    with pytest.raises(HoldLapsed):
        service.confirm_seats(saga_id=held["saga_id"])

    hold = hold_of(held["saga_id"])
    assert hold.status == "expired"
    assert hold.expiry_sent_at is not None  # the saga learns it from the error, not the sweeper
    assert available(tier_id) == 5
    assert tickets_of(held["saga_id"]) == []


# --- release -----------------------------------------------------------------------------

def test_releasing_gives_the_seats_back_and_voids_the_tickets_once():
    event_id, tier_id = new_event(capacity=5)
    held = reserve(event_id, tier_id, 2)
    service.confirm_seats(saga_id=held["saga_id"])

    first = service.release_seats(saga_id=held["saga_id"], user_id=BUYER, tier_id=tier_id)
    again = service.release_seats(saga_id=held["saga_id"], user_id=BUYER, tier_id=tier_id)

    assert (first["released"], again["released"]) == (2, 0)
    assert available(tier_id) == 5
    assert {t.status for t in tickets_of(held["saga_id"])} == {"void"}
    assert hold_of(held["saga_id"]).status == "released"


def test_release_before_reserve_records_an_empty_hold_and_fences_the_late_reserve():
    event_id, tier_id = new_event(capacity=5)
    saga_id = uuid.uuid4()

    released = service.release_seats(saga_id=saga_id, user_id=BUYER, tier_id=tier_id)
    with pytest.raises(HoldReleased):
        reserve(event_id, tier_id, 2, saga_id)

    assert released["released"] == 0
    hold = hold_of(saga_id)
    assert (hold.status, hold.quantity) == ("released", 0)
    assert available(tier_id) == 5


def test_releasing_a_refused_or_expired_hold_gives_nothing_back():
    event_id, tier_id = new_event(capacity=2)
    refused, expired = uuid.uuid4(), uuid.uuid4()
    reserve(event_id, tier_id, 2, expired)
    make_overdue(expired)
    with pytest.raises(HoldLapsed):
        service.confirm_seats(saga_id=expired)
    reserve(event_id, tier_id, 2)
    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 1, refused)

    for saga_id in (refused, expired):
        assert service.release_seats(saga_id=saga_id, user_id=BUYER, tier_id=tier_id)["released"] == 0

    assert available(tier_id) == 0
