"""Two deliveries of one step at the same time: the second finds the first's work."""
import threading
import uuid
from datetime import datetime, timezone

from sqlalchemy import create_engine, text

from harness.processes import wait_for
from settings import get_settings
from workers.tickets import service
from workers.tickets.queries import get_event

_observer = None


def a_transaction_waits_on_a_lock() -> bool:
    global _observer
    _observer = _observer or create_engine(get_settings().database_url)
    with _observer.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'")))


def test_a_duplicate_reserve_racing_the_first_returns_its_hold_not_sold_out(monkeypatch):
    event_id = service.create_event(
        name="race", venue="v", starts_at=datetime(2031, 1, 1, tzinfo=timezone.utc),
        created_by=uuid.uuid4(),
        tiers=[{"name": "t", "price_cents": 100, "currency": "EUR", "capacity": 2}])
    tier_id = get_event(event_id)["tiers"][0]["id"]
    first_holds_the_seats = threading.Event()
    take = service._take

    def take_then_wait_for_the_duplicate(s, tier, quantity):
        taken = take(s, tier, quantity)
        if not first_holds_the_seats.is_set():
            first_holds_the_seats.set()
            # keep this transaction open until the duplicate waits on one of its locks
            wait_for(a_transaction_waits_on_a_lock, timeout=10, what="the duplicate to block")
        return taken

    monkeypatch.setattr(service, "_take", take_then_wait_for_the_duplicate)
    saga, user, results = uuid.uuid4(), uuid.uuid4(), {}

    def deliver(n):
        if n == 2:
            first_holds_the_seats.wait(10)
        try:
            results[n] = service.reserve_seats(saga_id=saga, user_id=user, event_id=event_id,
                                               tier_id=tier_id, quantity=2)["hold_id"]
        except Exception as exc:  # noqa: BLE001  the outcome is what is asserted
            results[n] = exc

    threads = [threading.Thread(target=deliver, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert isinstance(results[1], uuid.UUID) and results[2] == results[1], results
    assert get_event(event_id)["tiers"][0]["available"] == 0


def test_a_sold_out_reserve_delivered_again_after_seats_came_back_still_refuses():
    import pytest

    from workers.tickets.errors import SoldOut

    event_id = service.create_event(
        name="late", venue="v", starts_at=datetime(2031, 1, 1, tzinfo=timezone.utc),
        created_by=uuid.uuid4(),
        tiers=[{"name": "t", "price_cents": 100, "currency": "EUR", "capacity": 1}])
    tier_id = get_event(event_id)["tiers"][0]["id"]
    first, late = uuid.uuid4(), uuid.uuid4()

    def reserve(saga):
        return service.reserve_seats(saga_id=saga, user_id=uuid.uuid4(), event_id=event_id,
                                     tier_id=tier_id, quantity=1)

    reserve(first)
    with pytest.raises(SoldOut):
        reserve(late)
    service.release_seats(saga_id=first, user_id=uuid.uuid4(), tier_id=tier_id)
    with pytest.raises(SoldOut):  # its saga was canceled as sold_out: it takes nothing now
        reserve(late)

    assert get_event(event_id)["tiers"][0]["available"] == 1


def test_a_charge_delivered_twice_at_once_reaches_the_processor_once():
    from tests.integration.conftest import payments_of
    from workers.payments import service as payments, simulator
    from workers.payments.errors import ChargeInFlight

    saga, results = uuid.uuid4(), {}

    def deliver(n):
        while True:  # as the task does: ChargeInFlight is retried until the charge settles
            try:
                results[n] = payments.charge(saga_id=saga, payment_token="tok_visa_delay_300",
                                             amount_cents=900, currency="EUR")
                return
            except ChargeInFlight:
                results.setdefault(f"waited-{n}", True)
                wait_for(lambda: payments_of([saga])[0][2] != "pending", timeout=30,
                         what="the first delivery to settle the charge")

    first = threading.Thread(target=deliver, args=(1,))
    first.start()
    wait_for(lambda: payments_of([saga]), timeout=30, what="the first delivery's claim")
    deliver(2)
    first.join(30)

    assert results[1] == results[2]
    assert [r["calls"] for r in simulator.ledger([saga])] == [1]
