"""Rules of the payments service (charge once, refund once, void), on a migrated SQLite file."""
import uuid

import pytest
from sqlalchemy import select

from workers.db import transaction
from workers.payments import service
from workers.payments.errors import (
    ChargeInFlight, InsufficientFunds, PaymentDeclined, PaymentProcessingError, SagaCompensated,
)
from workers.payments.models import Payment

pytestmark = pytest.mark.usefixtures("sqlite_db")


def charge(saga_id, token="tok_visa", amount_cents=5000):
    return service.charge(saga_id=saga_id, payment_token=token, amount_cents=amount_cents,
                          currency="EUR")


def rows(saga_id) -> dict[str, Payment]:
    with transaction() as s:
        return {p.kind: p for p in s.scalars(select(Payment).where(Payment.saga_id == saga_id))}


def test_a_charge_captures_the_amount_and_records_it():
    saga_id = uuid.uuid4()

    captured = charge(saga_id, amount_cents=7500)

    assert (captured["saga_id"], captured["amount_cents"], captured["currency"]) == (saga_id, 7500, "EUR")
    recorded = rows(saga_id)["charge"]
    assert (recorded.id, recorded.status, recorded.amount_cents) == (captured["payment_id"], "succeeded", 7500)
    assert service.payment_of_saga(saga_id) == {"status": "charged", "charged_cents": 7500,
                                                "refunded_cents": 0}


def test_charging_again_returns_the_first_capture_and_charges_nothing_more(monkeypatch):
    saga_id = uuid.uuid4()
    first = charge(saga_id)
    calls = []
    monkeypatch.setattr(service.simulator, "authorize", lambda *a, **k: calls.append(a))

    again = charge(saga_id)

    assert again == first
    assert calls == []  # the processor is not asked twice
    assert list(rows(saga_id)) == ["charge"]


@pytest.mark.parametrize("token, error, code", [
    ("tok_chargeDeclined", PaymentDeclined, "card_declined"),
    ("tok_chargeDeclinedInsufficientFunds", InsufficientFunds, "insufficient_funds"),
])
def test_a_decline_is_recorded_and_repeats_as_the_same_decline(token, error, code):
    saga_id = uuid.uuid4()

    with pytest.raises(error):
        charge(saga_id, token=token)
    with pytest.raises(error) as again:
        charge(saga_id, token="tok_visa")  # a redelivery: the first outcome stands

    assert type(again.value) is error
    recorded = rows(saga_id)["charge"]
    assert (recorded.status, recorded.decline_code) == ("declined", code)
    assert service.payment_of_saga(saga_id)["charged_cents"] == 0


def test_a_processing_error_gives_the_claim_up_so_a_retry_charges_afresh():
    saga_id = uuid.uuid4()

    with pytest.raises(PaymentProcessingError):
        charge(saga_id, token="tok_processingError")
    assert rows(saga_id) == {}
    charge(saga_id, token="tok_visa")

    assert rows(saga_id)["charge"].status == "succeeded"


def test_a_refund_returns_a_successful_charge_once():
    saga_id = uuid.uuid4()
    charge(saga_id, amount_cents=4200)

    first = service.refund(saga_id=saga_id)
    again = service.refund(saga_id=saga_id)

    assert first == again == {"saga_id": saga_id, "refunded_cents": 4200}
    assert rows(saga_id)["refund"].amount_cents == 4200
    with transaction() as s:
        assert len(list(s.scalars(select(Payment).where(Payment.saga_id == saga_id,
                                                        Payment.kind == "refund")))) == 1
    assert service.payment_of_saga(saga_id) == {"status": "refunded", "charged_cents": 4200,
                                                "refunded_cents": 4200}


def test_a_refund_before_any_charge_voids_the_saga_so_no_charge_can_follow():
    saga_id = uuid.uuid4()

    refunded = service.refund(saga_id=saga_id)
    with pytest.raises(SagaCompensated):
        charge(saga_id)

    assert refunded["refunded_cents"] == 0
    assert rows(saga_id)["charge"].status == "voided"
    assert "refund" not in rows(saga_id)
    assert service.payment_of_saga(saga_id) == {"status": "none", "charged_cents": 0,
                                                "refunded_cents": 0}


def test_a_refund_of_a_declined_charge_returns_nothing():
    saga_id = uuid.uuid4()
    with pytest.raises(PaymentDeclined):
        charge(saga_id, token="tok_chargeDeclined")

    assert service.refund(saga_id=saga_id)["refunded_cents"] == 0
    assert "refund" not in rows(saga_id)


def test_a_refund_waits_while_the_charge_is_in_flight(monkeypatch):
    saga_id = uuid.uuid4()
    seen = {}

    def authorize_while_a_refund_arrives(*args, **kwargs):
        with pytest.raises(ChargeInFlight):
            service.refund(saga_id=saga_id)
        seen["during"] = rows(saga_id)["charge"].status

    monkeypatch.setattr(service.simulator, "authorize", authorize_while_a_refund_arrives)
    with pytest.raises(SagaCompensated):  # a refund waits for it: the purchase stops here
        charge(saga_id, amount_cents=3000)

    assert seen["during"] == "pending"
    assert service.refund(saga_id=saga_id)["refunded_cents"] == 3000
