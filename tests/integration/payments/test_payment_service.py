"""Charges and refunds happen at most once per saga, whatever the order of arrival."""
import uuid

import pytest

from tests.integration.conftest import payments_of
from workers.payments import service
from workers.payments.errors import (
    ChargeInFlight, PaymentDeclined, PaymentProcessingError, SagaCompensated,
)


def charge(saga_id, token="tok_visa"):
    return service.charge(saga_id=saga_id, payment_token=token, amount_cents=1200, currency="EUR")


def test_charging_twice_records_one_charge_and_returns_the_same_payment():
    saga = uuid.uuid4()
    first, second = charge(saga), charge(saga)
    assert first == second
    assert payments_of([saga]) == [(saga, "charge", "succeeded", 1200)]


def test_a_declined_charge_stays_declined_on_repeat():
    saga = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(PaymentDeclined):
            charge(saga, "tok_chargeDeclined")
    assert payments_of([saga]) == [(saga, "charge", "declined", 1200)]


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
    assert service._claim(saga, "charge", "pending", 1200, "EUR") is not None
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
    assert service._claim(saga, "charge", "pending", 1200, "EUR") is not None
    with pytest.raises(ChargeInFlight):
        service.refund(saga_id=saga)
    with pytest.raises(error):
        charge(saga, token)

    assert service.refund(saga_id=saga)["refunded_cents"] == 0
    assert [p[1] for p in payments_of([saga])] == ["charge"]
    assert service.payment_of_saga(saga)["refunded_cents"] == 0


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
    assert service.refund(saga_id=saga)["refunded_cents"] == 0  # and no charge can follow
