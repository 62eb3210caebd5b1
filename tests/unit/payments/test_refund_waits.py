"""A refund that finds the charge still in flight waits for it: within the claim's lease
its retries are not attempts of its own (the claimer is at work, or the charge's message
is taken over once the lease is up); past the lease it waits within the step's budget."""
import uuid
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from sqlalchemy import select, update

from contracts import RefundPayment
from contracts.statuses import PaymentKind, PaymentStatus
from workers import runtime
from workers.db import transaction
from workers.payments import service, tasks
from workers.payments.errors import ChargeInFlight
from workers.payments.models import Payment

pytestmark = pytest.mark.usefixtures("sqlite_db")


def claimed_charge(age_seconds: float = 0):
    """A saga whose charge is claimed (the processor being asked), ``age_seconds`` ago."""
    saga_id = uuid.uuid4()
    service._claim(saga_id, PaymentKind.CHARGE, PaymentStatus.PENDING, 4000, "EUR")
    with transaction() as s:
        s.execute(update(Payment).where(Payment.saga_id == saga_id).values(
            created_at=service.utcnow() - timedelta(seconds=age_seconds)))
    return saga_id


def refund_at_attempt(saga_id, retries: int):
    """Deliver the refund step as its ``retries``-th retry."""
    message = RefundPayment.build(saga_id=saga_id)
    tasks.refund.push_request(id=str(uuid.uuid4()), retries=retries, is_eager=False,
                              called_directly=False, delivery_info={}, args=[message])
    try:
        return tasks.refund(message)
    finally:
        tasks.refund.pop_request()


def test_a_refund_waits_for_a_charge_within_its_lease_beyond_its_retry_budget(sent):
    saga_id = claimed_charge()
    budget = runtime.settings().step_max_retries

    with pytest.raises(Retry):
        refund_at_attempt(saga_id, retries=budget)  # the budget is spent, yet it waits

    assert sent.names() == ["payments.refund"]  # sent again, to wait for the charge
    assert {p.kind: p.status for p in service_rows(saga_id)} == {
        "charge": "pending", "refund": "requested"}


def test_a_refund_waits_for_a_claim_past_its_lease_only_within_its_budget(sent):
    lease = runtime.settings().payment_claim_lease_seconds
    saga_id = claimed_charge(age_seconds=lease + 1)
    budget = runtime.settings().step_max_retries

    with pytest.raises(Retry):
        refund_at_attempt(saga_id, retries=budget - 1)
    with pytest.raises(ChargeInFlight):
        refund_at_attempt(saga_id, retries=budget)  # no retry left: the step fails

    assert sent.names() == ["payments.refund"]


def service_rows(saga_id):
    with transaction() as s:
        return list(s.scalars(select(Payment).where(Payment.saga_id == saga_id)))
