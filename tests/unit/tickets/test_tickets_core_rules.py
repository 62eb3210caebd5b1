"""Two core rules of tickets, on SQLite: seats are taken by one conditional UPDATE (never
more than are available), and a ticket is admitted once."""
import uuid
from datetime import datetime, timezone

import pytest

from workers.tickets import checkin, codes, service
from workers.tickets.checkin import (
    TicketAlreadyUsed, TicketForAnotherEvent, TicketVoid, UnknownTicketCode,
)
from workers.tickets.errors import SoldOut
from workers.tickets.queries import get_event

pytestmark = pytest.mark.usefixtures("sqlite_db")


def a_tier(capacity):
    event_id = service.create_event(
        name="rules", venue="v", starts_at=datetime(2031, 1, 1, tzinfo=timezone.utc),
        created_by=uuid.uuid4(),
        tiers=[{"name": "t", "price_cents": 100, "currency": "EUR", "capacity": capacity}])
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
def quiet_checkin(monkeypatch):
    monkeypatch.setattr(checkin, "_announce", lambda used, staff_id: None)


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
