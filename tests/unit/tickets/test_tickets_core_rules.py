"""Two core rules of tickets, on SQLite: seats are taken by one conditional UPDATE (never
more than are available), and a ticket is admitted once."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from workers.tickets import checkin, codes, service
from workers.tickets.checkin import (
    TicketAlreadyUsed, TicketForAnotherEvent, TicketVoid, UnknownTicketCode,
)
from workers.tickets.errors import SoldOut
from workers.tickets.queries import get_event

pytestmark = pytest.mark.usefixtures("either_database")


def a_tier(capacity, **tier):
    event_id = service.create_event(
        name="rules", venue="v", starts_at=datetime(2031, 1, 1, tzinfo=timezone.utc),
        created_by=uuid.uuid4(),
        tiers=[{"name": "t", "price_cents": 100, "currency": "EUR", "capacity": capacity,
                **tier}])
    return event_id, get_event(event_id)["tiers"][0]["id"]


def available(event_id):
    return get_event(event_id)["tiers"][0]["available"]


def reserve(event_id, tier_id, quantity, saga=None):
    return service.reserve_seats(saga_id=saga or uuid.uuid4(), user_id=uuid.uuid4(),
                                 event_id=event_id, tier_id=tier_id, quantity=quantity)


def test_the_last_seats_can_be_taken_to_exactly_zero():
    event_id, tier_id = a_tier(3)
    reserve(event_id, tier_id, 1)
    held = reserve(event_id, tier_id, 2)
    assert held["quantity"] == 2
    assert available(event_id) == 0


def test_more_seats_than_are_left_are_refused_and_none_are_taken():
    event_id, tier_id = a_tier(3)
    reserve(event_id, tier_id, 2)
    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 2)
    assert available(event_id) == 1


def test_the_update_takes_the_quantity_only_when_enough_are_available():
    event_id, tier_id = a_tier(5)
    from workers.db import transaction

    with transaction() as s:
        assert service._take(s, tier_id, 5) is True
    with transaction() as s:
        assert service._take(s, tier_id, 1) is False
    assert available(event_id) == 0


def a_ticket(event_id, tier_id):
    saga = uuid.uuid4()
    reserve(event_id, tier_id, 1, saga)
    ticket_id = service.confirm_seats(saga_id=saga)["ticket_ids"][0]
    return saga, ticket_id


@pytest.fixture
def quiet_checkin(sent):
    """Each admission's TicketUsed, recorded instead of sent."""
    return sent


def announced(sent) -> list[tuple]:
    """(ticket id, staff id) of every TicketUsed published, in order."""
    return [(uuid.UUID(str(m["ticket_id"])), uuid.UUID(str(m["used_by"])))
            for (m,) in sent.args_of("tickets.ticket_used")]


def code_of(ticket_id):
    from workers.db import transaction
    from workers.tickets.models import Ticket

    with transaction() as s:
        return s.get(Ticket, ticket_id).code


def test_a_ticket_is_admitted_once_and_a_second_time_refused_with_the_first_time(
        quiet_checkin):
    event_id, tier_id = a_tier(2)
    _, ticket_id = a_ticket(event_id, tier_id)
    first = checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4(), event_id=event_id)
    assert (first["ticket_id"], first["status"]) == (ticket_id, "used")

    with pytest.raises(TicketAlreadyUsed) as again:
        checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4(), event_id=event_id)
    assert again.value.used_at == first["used_at"]


def test_a_ticket_of_another_event_is_refused_and_stays_valid(quiet_checkin):
    event_id, tier_id = a_tier(2)
    other, _ = a_tier(2)
    _, ticket_id = a_ticket(event_id, tier_id)
    with pytest.raises(TicketForAnotherEvent):
        checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4(), event_id=other)
    admitted = checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4())
    assert admitted["status"] == "used"


def test_a_ticket_of_a_canceled_purchase_is_void(quiet_checkin):
    event_id, tier_id = a_tier(2)
    saga, ticket_id = a_ticket(event_id, tier_id)
    service.release_seats(saga_id=saga, user_id=uuid.uuid4(), tier_id=tier_id)
    with pytest.raises(TicketVoid):
        checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4())


def test_a_forged_or_unknown_code_is_refused(quiet_checkin):
    with pytest.raises(UnknownTicketCode):
        checkin.check_in("forged", staff_id=uuid.uuid4())
    with pytest.raises(UnknownTicketCode):
        checkin.check_in(codes.new_code(uuid.uuid4()), staff_id=uuid.uuid4())


def test_checking_one_ticket_in_leaves_the_others_valid_and_records_who(quiet_checkin):
    from workers.db import transaction
    from workers.tickets.models import Ticket

    event_id, tier_id = a_tier(3)
    _, first = a_ticket(event_id, tier_id)
    _, second = a_ticket(event_id, tier_id)
    staff = uuid.uuid4()
    used = checkin.check_in(code_of(first), staff_id=staff, event_id=event_id)
    assert set(used) == {"ticket_id", "status", "used_at", "event_id", "tier_id"}
    assert (used["event_id"], used["tier_id"]) == (event_id, tier_id)
    assert announced(quiet_checkin) == [(first, staff)]
    with transaction() as s:
        assert s.get(Ticket, first).used_by == staff
        assert s.get(Ticket, second).status == "valid"
    assert checkin.check_in(code_of(second), staff_id=staff)["status"] == "used"


def test_refusals_say_why(quiet_checkin):
    event_id, tier_id = a_tier(2)
    other, _ = a_tier(1)
    saga, ticket_id = a_ticket(event_id, tier_id)
    with pytest.raises(UnknownTicketCode, match="^no ticket has this code$"):
        checkin.check_in(codes.new_code(uuid.uuid4()), staff_id=uuid.uuid4())
    with pytest.raises(UnknownTicketCode, match="^no ticket has this code$"):
        checkin.check_in("forged", staff_id=uuid.uuid4())
    with pytest.raises(TicketForAnotherEvent, match="^this ticket is for another event$"):
        checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4(), event_id=other)
    checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4())
    with pytest.raises(TicketAlreadyUsed) as used:
        checkin.check_in(code_of(ticket_id), staff_id=uuid.uuid4())
    assert used.value.ticket_id == ticket_id
    _, void = a_ticket(event_id, tier_id)
    from workers.db import transaction
    from workers.tickets.models import Ticket
    from sqlalchemy import update

    with transaction() as s:
        s.execute(update(Ticket).where(Ticket.id == void).values(status="void"))
    with pytest.raises(TicketVoid, match="^this ticket is void: its purchase was canceled$"):
        checkin.check_in(code_of(void), staff_id=uuid.uuid4())


def hold_of(saga):
    from workers.db import transaction
    from workers.tickets.models import Hold

    with transaction() as s:
        h = s.query(Hold).filter_by(saga_id=saga).one()
        return h.status, h.quantity, h.amount_cents


def test_a_repeated_reserve_returns_the_same_hold_and_takes_nothing_more():
    event_id, tier_id = a_tier(5)
    saga = uuid.uuid4()
    first = reserve(event_id, tier_id, 2, saga)
    assert reserve(event_id, tier_id, 2, saga) == first
    assert (first["amount_cents"], first["currency"]) == (200, "EUR")
    assert hold_of(saga) == ("held", 2, 200)
    assert available(event_id) == 3


def test_an_order_of_exactly_the_tier_limit_is_allowed_one_more_is_not():
    from workers.tickets.errors import OrderLimitExceeded

    event_id, tier_id = a_tier(10, max_per_order=3)
    assert reserve(event_id, tier_id, 3)["quantity"] == 3
    with pytest.raises(OrderLimitExceeded, match="at most 3 tickets of this tier per order"):
        reserve(event_id, tier_id, 4)
    assert available(event_id) == 7


def test_seats_of_an_overdue_hold_go_to_the_next_buyer():
    from sqlalchemy import update

    from workers.db import transaction
    from workers.steps import utcnow
    from workers.tickets.models import Hold

    event_id, tier_id = a_tier(2)
    late = uuid.uuid4()
    reserve(event_id, tier_id, 2, late)
    with transaction() as s:
        s.execute(update(Hold).where(Hold.saga_id == late)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert reserve(event_id, tier_id, 2)["quantity"] == 2
    assert hold_of(late)[0] == "expired"
    assert available(event_id) == 0


def test_a_sold_out_reserve_keeps_an_empty_refused_hold_and_refuses_again():
    event_id, tier_id = a_tier(1)
    saga = uuid.uuid4()
    with pytest.raises(SoldOut, match="fewer than 2 seats left"):
        reserve(event_id, tier_id, 2, saga)
    assert hold_of(saga) == ("refused", 0, 0)
    with pytest.raises(SoldOut):
        reserve(event_id, tier_id, 1, saga)
    assert available(event_id) == 1


def test_no_seat_is_taken_before_the_sale_starts():
    from workers.tickets.errors import EventNotOnSale

    event_id = service.create_event(
        name="later", venue="v", starts_at=datetime(2031, 1, 1, tzinfo=timezone.utc),
        created_by=uuid.uuid4(), sale_starts_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
        tiers=[{"name": "t", "price_cents": 100, "currency": "EUR", "capacity": 2}])
    tier_id = get_event(event_id)["tiers"][0]["id"]
    with pytest.raises(EventNotOnSale):
        reserve(event_id, tier_id, 1)
    assert available(event_id) == 2


def test_a_repeated_reserve_returns_its_hold_after_the_sale_ended():
    from sqlalchemy import update

    from workers.db import transaction
    from workers.steps import utcnow
    from workers.tickets.models import Event

    event_id, tier_id = a_tier(5)
    saga, other = uuid.uuid4(), uuid.uuid4()
    reserve(event_id, tier_id, 1, other)
    first = reserve(event_id, tier_id, 2, saga)
    with transaction() as s:  # the sale ends while the step is delivered again
        s.execute(update(Event).where(Event.id == event_id)
                  .values(sale_ends_at=utcnow() - timedelta(seconds=1)))
    assert reserve(event_id, tier_id, 2, saga) == first
    assert available(event_id) == 2


def test_a_reserve_short_of_seats_reclaims_only_its_own_tier_s_overdue_holds():
    from sqlalchemy import update

    from workers.db import transaction
    from workers.steps import utcnow
    from workers.tickets.models import Hold

    event_id, tier_id = a_tier(1)
    other_event, other_tier = a_tier(1)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    reserve(event_id, tier_id, 1, mine)
    reserve(other_event, other_tier, 1, theirs)
    with transaction() as s:
        s.execute(update(Hold).where(Hold.saga_id.in_([mine, theirs]))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert reserve(event_id, tier_id, 1)["quantity"] == 1
    assert hold_of(mine)[0] == "expired"
    assert hold_of(theirs) == ("held", 1, 100)  # left to the sweeper, which tells its saga
