"""The edges of the charge claim, on SQLite: the lease's exact end, a processor failure
after the claim was settled by another delivery, what the processor is asked with, and
what a void records."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import settings
from workers.db import transaction
from workers.payments import service, simulator
from workers.payments.errors import ChargeInFlight, PaymentProcessingError, SagaCompensated
from workers.payments.models import Payment

pytestmark = pytest.mark.usefixtures("sqlite_db")


def charge(saga, token="tok_visa"):
    return service.charge(saga_id=saga, payment_token=token, amount_cents=700, currency="EUR")


def payments(saga):
    with transaction() as s:
        return sorted((p.kind, p.status, p.amount_cents, p.currency)
                      for p in s.scalars(select(Payment).where(Payment.saga_id == saga)))


def calls(saga):
    return sum(r["calls"] for r in simulator.ledger([saga]))


def claimed_at(saga, at):
    claim = service._claim(saga, "charge", "pending", 700, "EUR")
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == claim.id).values(created_at=at))


@pytest.fixture
def frozen_now(monkeypatch):
    now = service.utcnow()
    monkeypatch.setattr(service, "utcnow", lambda: now)
    return now


def test_a_claim_exactly_as_old_as_its_lease_is_taken_over(frozen_now):
    lease = timedelta(seconds=settings.get_settings().payment_claim_lease_seconds)
    saga = uuid.uuid4()
    claimed_at(saga, frozen_now - lease)
    assert charge(saga)["amount_cents"] == 700
    assert calls(saga) == 1


def test_a_claim_a_microsecond_younger_than_its_lease_is_waited_for(frozen_now):
    lease = timedelta(seconds=settings.get_settings().payment_claim_lease_seconds)
    saga = uuid.uuid4()
    claimed_at(saga, frozen_now - lease + timedelta(microseconds=1))
    with pytest.raises(ChargeInFlight):
        charge(saga)
    assert calls(saga) == 0


def test_a_processor_failure_does_not_give_up_a_claim_settled_meanwhile(monkeypatch):
    saga = uuid.uuid4()

    def settled_by_a_taker_then_failing(*args, **kwargs):
        with transaction() as s:  # the claim was taken over and settled meanwhile
            s.execute(update(Payment).where(Payment.saga_id == saga)
                      .values(status="succeeded"))
        raise PaymentProcessingError("processing_error")

    monkeypatch.setattr(simulator, "charge", settled_by_a_taker_then_failing)
    with pytest.raises(PaymentProcessingError):
        charge(saga)
    assert payments(saga) == [("charge", "succeeded", 700, "EUR")]


@pytest.fixture
def slow_processor(monkeypatch):
    """A configured processor latency (3 ms); the requests that reach the processor."""
    monkeypatch.setenv("PAYMENT_LATENCY_MS", "3")
    settings.reset_settings()
    from workers.bootstrap import bootstrap

    bootstrap()  # the process's parts, rebuilt from these settings
    asked, real = [], simulator.charge

    def recorded(*args, **kwargs):
        asked.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(simulator, "charge", recorded)
    return asked


def test_the_processor_is_asked_once_with_the_charge_and_the_configured_latency(slow_processor):
    saga = uuid.uuid4()
    charge(saga)
    charge(saga)
    assert slow_processor == [((saga, "tok_visa", 700, "EUR"),
                               {"latency_ms": 3, "slow_tokens": True})]


def test_a_decline_is_recorded_with_the_processor_s_code():
    saga, other = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(simulator.PaymentDeclined):
        charge(saga, "tok_chargeDeclined")
    with pytest.raises(simulator.PaymentDeclined):
        charge(other, "tok_unknown")
    with transaction() as s:
        codes = {p.saga_id: p.decline_code for p in s.scalars(
            select(Payment).where(Payment.saga_id.in_([saga, other])))}
    assert codes == {saga: "card_declined", other: "unknown payment token 'tok_unknown'"}


def test_a_void_records_no_amount_in_no_currency():
    saga = uuid.uuid4()
    service.refund(saga_id=saga)
    assert payments(saga) == [("charge", "voided", 0, "XXX")]  # ISO 4217: no currency


def test_a_charge_delivered_again_after_its_refund_answers_that_the_saga_is_undone():
    saga = uuid.uuid4()
    charge(saga)
    service.refund(saga_id=saga)
    with pytest.raises(SagaCompensated):
        charge(saga)
    assert payments(saga) == [("charge", "succeeded", 700, "EUR"),
                              ("refund", "succeeded", 700, "EUR")]


def test_a_refund_delivered_again_while_the_charge_is_in_flight_waits_once():
    saga = uuid.uuid4()
    service._claim(saga, "charge", "pending", 700, "EUR")
    for _ in range(2):
        with pytest.raises(ChargeInFlight):
            service.refund(saga_id=saga)
    assert payments(saga) == [("charge", "pending", 700, "EUR"), ("refund", "requested", 0, "EUR")]


def test_a_waiting_refund_of_a_charge_that_was_declined_is_dropped_and_returns_nothing():
    saga, other = uuid.uuid4(), uuid.uuid4()
    for waiting in (saga, other):
        service._claim(waiting, "charge", "pending", 700, "EUR")
        with pytest.raises(ChargeInFlight):
            service.refund(saga_id=waiting)
    with transaction() as s:
        s.execute(update(Payment).where(Payment.saga_id == saga, Payment.kind == "charge")
                  .values(status="declined", decline_code="card_declined"))
    assert service.refund(saga_id=saga) == {"saga_id": saga, "refunded_cents": 0}
    assert payments(saga) == [("charge", "declined", 700, "EUR")]
    assert payments(other) == [("charge", "pending", 700, "EUR"), ("refund", "requested", 0, "EUR")]
