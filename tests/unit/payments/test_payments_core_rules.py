"""The charge claim, on SQLite: one charge row per saga claimed before the processor is
asked, so the processor is asked once; a refund first voids it for good."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from workers.db import transaction
from workers.payments import service, simulator
from workers.payments.errors import (
    ChargeInFlight, PaymentDeclined, PaymentProcessingError, SagaCompensated,
)
from workers.payments.models import Payment

pytestmark = pytest.mark.usefixtures("sqlite_db")


def charge(saga, token="tok_visa"):
    return service.charge(saga_id=saga, payment_token=token, amount_cents=700, currency="EUR")


def rows(saga):
    with transaction() as s:
        return sorted((p.kind, p.status, p.amount_cents)
                      for p in s.query(Payment).filter_by(saga_id=saga))


def calls(saga):
    return sum(r["calls"] for r in simulator.ledger([saga]))


def test_a_charge_is_captured_once_and_repeats_return_it():
    saga = uuid.uuid4()
    first = charge(saga)
    assert first["amount_cents"] == 700 and first["saga_id"] == saga
    assert charge(saga) == first
    assert rows(saga) == [("charge", "succeeded", 700)]
    assert calls(saga) == 1


def test_a_decline_is_recorded_once_and_repeated():
    saga = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(PaymentDeclined):
            charge(saga, "tok_chargeDeclined")
    assert rows(saga) == [("charge", "declined", 700)]
    assert calls(saga) == 1


def test_a_claim_in_flight_makes_a_duplicate_wait_without_asking_the_processor():
    saga = uuid.uuid4()
    assert service._claim(saga, "charge", "pending", 700, "EUR") is not None
    assert service._claim(saga, "charge", "pending", 700, "EUR") is None
    with pytest.raises(ChargeInFlight):
        charge(saga)
    with pytest.raises(ChargeInFlight):
        service.refund(saga_id=saga)
    assert calls(saga) == 0
    assert rows(saga) == [("charge", "pending", 700)]


def test_a_stale_claim_is_taken_over_and_asks_the_processor_once():
    saga = uuid.uuid4()
    claim = service._claim(saga, "charge", "pending", 700, "EUR")
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == claim.id)
                  .values(created_at=claim.created_at - timedelta(minutes=5)))
    assert charge(saga)["amount_cents"] == 700
    assert charge(saga)["amount_cents"] == 700
    assert rows(saga) == [("charge", "succeeded", 700)]
    assert calls(saga) == 1


def test_a_claim_just_inside_its_lease_is_not_taken_over(monkeypatch):
    saga = uuid.uuid4()
    claim = service._claim(saga, "charge", "pending", 700, "EUR")
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == claim.id)
                  .values(created_at=claim.created_at - timedelta(seconds=25)))
    with pytest.raises(ChargeInFlight):  # the lease is 30 s
        charge(saga)
    assert calls(saga) == 0


def test_a_refund_before_the_charge_voids_it_and_no_charge_follows():
    saga = uuid.uuid4()
    assert service.refund(saga_id=saga) == {"saga_id": saga, "refunded_cents": 0}
    with pytest.raises(SagaCompensated):
        charge(saga)
    assert rows(saga) == [("charge", "voided", 0)]
    assert calls(saga) == 0


def test_a_refund_after_the_charge_refunds_it_once():
    saga = uuid.uuid4()
    charge(saga)
    assert service.refund(saga_id=saga)["refunded_cents"] == 700
    assert service.refund(saga_id=saga)["refunded_cents"] == 700
    assert rows(saga) == [("charge", "succeeded", 700), ("refund", "succeeded", 700)]


def test_a_declined_charge_refunds_nothing():
    saga = uuid.uuid4()
    with pytest.raises(PaymentDeclined):
        charge(saga, "tok_chargeDeclined")
    assert service.refund(saga_id=saga)["refunded_cents"] == 0
    assert rows(saga) == [("charge", "declined", 700)]


def test_a_transient_failure_gives_the_claim_up():
    saga = uuid.uuid4()
    with pytest.raises(PaymentProcessingError):
        charge(saga, "tok_processingError")
    assert rows(saga) == []
    assert charge(saga)["amount_cents"] == 700  # the retry claims afresh
    assert calls(saga) == 1


def test_what_a_saga_paid():
    saga = uuid.uuid4()
    assert service.payment_of_saga(saga) == {"status": "none", "charged_cents": 0,
                                             "refunded_cents": 0}
    charge(saga)
    assert service.payment_of_saga(saga) == {"status": "charged", "charged_cents": 700,
                                             "refunded_cents": 0}
    service.refund(saga_id=saga)
    assert service.payment_of_saga(saga) == {"status": "refunded", "charged_cents": 700,
                                             "refunded_cents": 700}
