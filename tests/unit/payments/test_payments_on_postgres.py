"""The charge claim on PostgreSQL, where deliveries of one saga's steps really run at once:
a charge racing another delivery's claim waits for it and never asks the processor, and a
refund racing another delivery of the refund waits for it and answers its refund."""
import uuid

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from tests.unit.concurrency import Running, blocked
from workers.db import transaction
from workers.payments import service, simulator
from workers.payments.errors import ChargeInFlight
from workers.payments.models import Payment

pytestmark = pytest.mark.usefixtures("postgres_db")


def charge(saga):
    return service.charge(saga_id=saga, payment_token="tok_visa", amount_cents=700,
                          currency="EUR")


def rows(saga):
    with transaction() as s:
        return sorted((p.kind, p.status, p.amount_cents)
                      for p in s.scalars(select(Payment).where(Payment.saga_id == saga)))


def calls(saga):
    return sum(r["calls"] for r in simulator.ledger([saga]))


def test_a_charge_racing_another_delivery_s_claim_waits_for_it_and_asks_nothing():
    saga = uuid.uuid4()
    with transaction() as other_delivery:  # claimed, not yet committed
        other_delivery.add(Payment(saga_id=saga, kind="charge", status="pending",
                                   amount_cents=700, currency="EUR",
                                   created_at=service.utcnow()))
        other_delivery.flush()
        racing = Running(charge, saga=saga)
        assert blocked(racing)  # on the (saga, kind) key of the uncommitted claim
    with pytest.raises(ChargeInFlight):
        racing.outcome()
    assert rows(saga) == [("charge", "pending", 700)]
    assert calls(saga) == 0


def test_a_refund_racing_another_delivery_of_it_waits_and_answers_that_refund():
    saga = uuid.uuid4()
    charge(saga)
    with transaction() as other_delivery:  # a refund holding the charge, not yet committed
        charged = other_delivery.scalar(select(Payment).where(
            Payment.saga_id == saga, Payment.kind == "charge").with_for_update())
        other_delivery.add(Payment(saga_id=saga, kind="refund", status="succeeded",
                                   amount_cents=charged.amount_cents, currency="EUR",
                                   created_at=service.utcnow()))
        other_delivery.flush()
        racing = Running(service.refund, saga_id=saga)
        assert blocked(racing)
    assert racing.outcome() == {"saga_id": saga, "refunded_cents": 700}
    assert rows(saga) == [("charge", "succeeded", 700), ("refund", "succeeded", 700)]
    assert calls(saga) == 1


def test_the_claim_is_one_insert_that_yields_only_to_the_saga_s_row_of_that_kind():
    statements = []

    def record(conn, cursor, statement, *args):
        statement = " ".join(statement.replace('"', "").split())
        if statement.startswith("INSERT INTO payments_payments"):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)  # the claim runs in autocommit
    try:
        saga = uuid.uuid4()
        charge(saga)
        service.refund(saga_id=saga)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    claims = [s for s in statements if "ON CONFLICT" in s]
    assert len(claims) == 2  # the charge's claim, the refund's void
    assert all("ON CONFLICT (saga_id, kind) DO NOTHING" in s for s in claims), claims
