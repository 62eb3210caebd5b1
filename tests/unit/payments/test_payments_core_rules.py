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
from workers.payments.errors import InsufficientFunds as InsufficientFundsError
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
    # the waiting refund is on record, so the charge, once settled, stops the purchase
    assert rows(saga) == [("charge", "pending", 700), ("refund", "requested", 0)]


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


def stale(saga, at):
    claim = service._claim(saga, "charge", "pending", 700, "EUR")
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == claim.id).values(created_at=at))
        return s.get(Payment, claim.id)


def test_taking_a_stale_claim_over_touches_no_other_saga_s_claim():
    at = service.utcnow() - timedelta(minutes=5)
    one, other = uuid.uuid4(), uuid.uuid4()
    stale(one, at), stale(other, at)  # two claims of the same instant
    charge(one)
    assert charge(other)["amount_cents"] == 700  # still stale, so taken over too
    assert calls(one) == calls(other) == 1


def read(payment_id):
    with transaction() as s:
        return s.get(Payment, payment_id)


def test_a_stale_claim_is_taken_over_once_and_not_once_settled():
    saga, at = uuid.uuid4(), service.utcnow() - timedelta(minutes=5)
    row = stale(saga, at)
    seen_by_another = read(row.id)  # another taker read it stale too
    service._take_over(row)
    with pytest.raises(ChargeInFlight, match=f"{saga} is being taken over"):
        service._take_over(seen_by_another)
    settled = stale(uuid.uuid4(), at)
    seen = read(settled.id)
    with transaction() as s:
        s.execute(update(Payment).where(Payment.id == settled.id).values(status="succeeded"))
    with pytest.raises(ChargeInFlight):
        service._take_over(seen)


def test_a_claim_whose_claimer_died_after_the_processor_answered_takes_that_answer():
    saga = uuid.uuid4()
    stale(saga, service.utcnow() - timedelta(minutes=5))
    with pytest.raises(InsufficientFundsError):  # the dead claimer's request
        simulator.charge(saga, "tok_chargeDeclinedInsufficientFunds", 700, "EUR")
    with pytest.raises(InsufficientFundsError):
        charge(saga, "tok_visa")  # settled from the processor's record, not asked again
    with transaction() as s:
        row = s.query(Payment).filter_by(saga_id=saga).one()
        assert (row.status, row.decline_code) == ("declined", "insufficient_funds")
    assert calls(saga) == 1


def test_a_transient_failure_gives_up_only_its_own_claim():
    other = uuid.uuid4()
    service._claim(other, "charge", "pending", 700, "EUR")
    with pytest.raises(PaymentProcessingError):
        charge(uuid.uuid4(), "tok_processingError")
    assert rows(other) == [("charge", "pending", 700)]


def test_slow_test_tokens_are_honoured_with_fault_injection():
    assert charge(uuid.uuid4(), "tok_visa_delay_1")["amount_cents"] == 700


def test_a_fresh_claim_says_which_saga_is_in_flight():
    saga = uuid.uuid4()
    service._claim(saga, "charge", "pending", 700, "EUR")
    with pytest.raises(ChargeInFlight, match=str(saga)):
        charge(saga)
    with pytest.raises(ChargeInFlight, match=str(saga)):
        service.refund(saga_id=saga)


def test_settling_a_charge_touches_no_other_claim_and_no_settled_charge():
    mine, other = uuid.uuid4(), uuid.uuid4()
    service._claim(other, "charge", "pending", 700, "EUR")
    charge(mine)
    assert rows(other) == [("charge", "pending", 700)]
    with transaction() as s:
        declined = s.query(Payment).filter_by(saga_id=mine).one()
        s.execute(update(Payment).where(Payment.id == declined.id).values(status="declined",
                                                                           decline_code="x"))
    with pytest.raises(PaymentDeclined):
        service._settle(declined, "succeeded", None)  # a late settle changes nothing
    assert rows(mine) == [("charge", "declined", 700)]


def test_insufficient_funds_is_recorded_with_its_code():
    from workers.payments.errors import InsufficientFunds

    saga = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(InsufficientFunds):
            charge(saga, "tok_chargeDeclinedInsufficientFunds")
    with transaction() as s:
        assert s.query(Payment).filter_by(saga_id=saga).one().decline_code == \
            "insufficient_funds"


def test_refund_answers_name_the_saga():
    declined, charged = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(PaymentDeclined):
        charge(declined, "tok_chargeDeclined")
    assert service.refund(saga_id=declined) == {"saga_id": declined, "refunded_cents": 0}
    charge(charged)
    assert service.refund(saga_id=charged) == {"saga_id": charged, "refunded_cents": 700}
