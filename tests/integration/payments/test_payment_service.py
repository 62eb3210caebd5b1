"""Charges and refunds happen at most once per saga, whatever the order of arrival, and
the processor is asked once per charged saga (its ledger counts the requests by key)."""
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.integration.conftest import payments_of
from workers.db import transaction
from workers.payments import service, simulator
from workers.payments.models import Payment
from workers.payments.errors import (
    ChargeInFlight, PaymentDeclined, PaymentProcessingError, SagaCompensated,
)


def charge(saga_id, token="tok_visa"):
    return service.charge(saga_id=saga_id, payment_token=token, amount_cents=1200, currency="EUR")


def processor_calls(saga) -> int:
    """Charge requests that reached the processor with this saga's idempotency key."""
    return sum(r["calls"] for r in simulator.ledger([saga]))


def test_charging_twice_records_one_charge_and_returns_the_same_payment():
    saga = uuid.uuid4()
    first, second = charge(saga), charge(saga)
    assert first == second
    assert payments_of([saga]) == [(saga, "charge", "succeeded", 1200)]
    assert processor_calls(saga) == 1


def test_a_declined_charge_stays_declined_on_repeat():
    saga = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(PaymentDeclined):
            charge(saga, "tok_chargeDeclined")
    assert payments_of([saga]) == [(saga, "charge", "declined", 1200)]
    assert processor_calls(saga) == 1


def test_a_charge_delivered_again_while_the_first_is_at_the_processor_waits_for_it(monkeypatch):
    saga, at_processor, answer = uuid.uuid4(), threading.Event(), threading.Event()
    authorize = simulator.authorize

    def held_authorize(*args, **kwargs):
        at_processor.set()
        answer.wait(30)
        return authorize(*args, **kwargs)

    monkeypatch.setattr(simulator, "authorize", held_authorize)
    results = {}
    first = threading.Thread(target=lambda: results.update(first=charge(saga)))
    first.start()
    assert at_processor.wait(30)
    with pytest.raises(ChargeInFlight):  # the duplicate does not ask the processor
        charge(saga)
    answer.set()
    first.join(30)
    assert charge(saga) == results["first"]  # its retry, once settled, finds the outcome
    assert processor_calls(saga) == 1


def test_no_processor_call_follows_a_void():
    saga = uuid.uuid4()
    service.refund(saga_id=saga)
    for _ in range(2):
        with pytest.raises(SagaCompensated):
            charge(saga)
    assert processor_calls(saga) == 0


def stale_claim(saga):
    """A ``pending`` claim whose claimer died longer than the lease ago."""
    claim = service._claim(saga, "charge", "pending", 1200, "EUR")
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == claim.id)
                  .values(created_at=claim.created_at - timedelta(hours=1)))


def test_a_claim_whose_claimer_died_before_asking_the_processor_is_taken_over():
    saga = uuid.uuid4()
    stale_claim(saga)
    assert charge(saga)["amount_cents"] == 1200
    assert payments_of([saga]) == [(saga, "charge", "succeeded", 1200)]
    assert processor_calls(saga) == 1


def test_a_claim_whose_claimer_died_after_asking_the_processor_takes_its_answer():
    saga = uuid.uuid4()
    stale_claim(saga)
    with pytest.raises(PaymentDeclined):  # the dead claimer's request reached the processor
        simulator.charge(saga, "tok_chargeDeclined", 1200, "EUR")
    with pytest.raises(PaymentDeclined):
        charge(saga, "tok_chargeDeclined")
    assert payments_of([saga]) == [(saga, "charge", "declined", 1200)]
    assert processor_calls(saga) == 1


def test_the_processor_answers_a_repeated_key_with_its_first_outcome():
    saga = uuid.uuid4()
    simulator.charge(saga, "tok_visa", 1200, "EUR")
    simulator.charge(saga, "tok_chargeDeclined", 1200, "EUR")  # answered as the first
    assert simulator.ledger([saga])[0] | {"idempotency_key": None} == {
        "idempotency_key": None, "outcome": "succeeded", "decline_code": None,
        "amount_cents": 1200, "currency": "EUR", "calls": 2}


def test_refunding_twice_refunds_once():
    saga = uuid.uuid4()
    charge(saga)
    assert service.refund(saga_id=saga)["refunded_cents"] == 1200
    assert service.refund(saga_id=saga)["refunded_cents"] == 1200
    assert sorted(p[1:] for p in payments_of([saga])) == [("charge", "succeeded", 1200),
                                                         ("refund", "succeeded", 1200)]


def test_a_refund_that_arrives_before_the_charge_forbids_the_charge():
    saga = uuid.uuid4()
    assert service.refund(saga_id=saga)["refunded_cents"] == 0
    with pytest.raises(SagaCompensated):
        charge(saga)
    assert payments_of([saga]) == [(saga, "charge", "voided", 0)]


def test_a_refund_waits_while_the_charge_is_in_flight_and_the_charge_then_stops_the_purchase():
    saga = uuid.uuid4()
    stale_claim(saga)
    with pytest.raises(ChargeInFlight):
        service.refund(saga_id=saga)
    # the charge goes through, but reports the saga compensated: nothing is confirmed on it
    with pytest.raises(SagaCompensated):
        charge(saga)
    with pytest.raises(SagaCompensated):
        charge(saga)  # a repeat too
    assert service.refund(saga_id=saga)["refunded_cents"] == 1200
    assert service.refund(saga_id=saga)["refunded_cents"] == 1200
    assert sorted(p[1:] for p in payments_of([saga])) == [("charge", "succeeded", 1200),
                                                         ("refund", "succeeded", 1200)]


@pytest.mark.parametrize("token, error", [("tok_chargeDeclined", PaymentDeclined),
                                          ("tok_processingError", PaymentProcessingError)])
def test_a_waiting_refund_of_a_charge_that_took_nothing_leaves_no_refund(token, error):
    saga = uuid.uuid4()
    claim = service._claim(saga, "charge", "pending", 1200, "EUR")
    with pytest.raises(ChargeInFlight):
        service.refund(saga_id=saga)
    _outlive_the_lease(claim)  # its claimer died: this delivery takes the charge over
    with pytest.raises(error):
        charge(saga, token)

    assert service.refund(saga_id=saga)["refunded_cents"] == 0
    assert [p[1] for p in payments_of([saga])] == ["charge"]
    assert service.payment_of_saga(saga)["refunded_cents"] == 0


def _outlive_the_lease(claim) -> None:
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == claim.id)
                  .values(created_at=claim.created_at - timedelta(minutes=5)))


def test_a_charge_confirmed_before_the_refund_arrived_is_refunded_once():
    saga = uuid.uuid4()
    assert charge(saga)["amount_cents"] == 1200
    assert service.refund(saga_id=saga)["refunded_cents"] == 1200
    with pytest.raises(SagaCompensated):
        charge(saga)  # a late duplicate of the charge confirms nothing more
    assert sorted(p[1:] for p in payments_of([saga])) == [("charge", "succeeded", 1200),
                                                         ("refund", "succeeded", 1200)]


def test_a_transient_processor_failure_leaves_no_claim_behind():
    saga = uuid.uuid4()
    with pytest.raises(PaymentProcessingError):
        charge(saga, "tok_processingError")
    assert payments_of([saga]) == []
    assert processor_calls(saga) == 0  # nothing executed, nothing recorded
    assert service.refund(saga_id=saga)["refunded_cents"] == 0  # and no charge can follow
