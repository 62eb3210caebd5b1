"""Helpers of the orchestration unit tests: starting sagas, and outcome and failure events."""
import uuid

from sqlalchemy import select, update

from workers.db import transaction
from workers.orchestration import service
from workers.orchestration.models import OutboxMessage, Saga
from workers.steps import utcnow

#: three task messages each: every step records its own outcome (no bookkeeping task)
PURCHASE = ["tickets.reserve_seats", "payments.charge", "tickets.confirm_seats"]
COMPENSATION = ["payments.refund", "tickets.release_seats"]
BUYER = uuid.uuid4()


def start(key=None, user_id=BUYER, quantity=2, event_id=None, **body):
    request = dict(event_id=event_id or uuid.uuid4(), tier_id=uuid.uuid4(), quantity=quantity,
                   payment_token="tok_visa")
    request.update(body)
    return service.start_purchase(user_id=user_id, idempotency_key=key, **request)


def saga(saga_id) -> Saga:
    with transaction() as s:
        return s.get(Saga, saga_id)


def outbox(saga_id) -> list[OutboxMessage]:
    with transaction() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.saga_id == saga_id)
                              .order_by(OutboxMessage.created_at)))


def set_status(saga_id, status) -> None:
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(status=status))


def outcome(saga_id, contract, step, **fields) -> dict:
    now = utcnow()
    return {"contract": contract, "saga_id": saga_id, **fields,
            "step": {"name": step, "attempts": 1, "started_at": now, "finished_at": now}}


def failure(saga_id, step, error_type, message="refused") -> dict:
    return {"saga_id": saga_id, "step": step, "error_type": error_type, "message": message,
            "attempts": 1, "failed_at": utcnow()}
