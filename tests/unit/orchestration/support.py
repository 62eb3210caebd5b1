"""Helpers of the orchestration unit tests: starting sagas, and outcome and failure events."""
import importlib
import inspect
import uuid
from pathlib import Path

from sqlalchemy import select, update

import workers

from workers.db import transaction
from workers.orchestration import completion, service
from workers.orchestration.errors import reason_of
from workers.orchestration.models import OutboxMessage, Saga
from workers.steps import utcnow

#: three task messages each: every step records its own outcome (no bookkeeping task)
PURCHASE = ["tickets.reserve_seats", "payments.charge", "tickets.confirm_seats"]
COMPENSATION = ["payments.refund", "tickets.release_seats"]
BUYER = uuid.uuid4()
WORKERS = Path(workers.__file__).resolve().parent


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


def relayed_completions(sent) -> list[dict]:
    """Run the relay of ``SagaCompleted`` events; the events its batch message held (none
    is published on its own: the relay sends every unsent one in one message)."""
    completion.relay_completed()
    return [event for (batch,) in sent.args_of("users.sagas_completed")
            for event in batch["events"]]


def domain_errors() -> dict[str, type]:
    """Every exception class defined in a ``workers/<domain>/errors.py``, by name."""
    found = {}
    for path in sorted(WORKERS.glob("*/errors.py")):
        module = importlib.import_module(f"workers.{path.parent.name}.errors")
        found.update({name: obj for name, obj in vars(module).items()
                      if inspect.isclass(obj) and issubclass(obj, BaseException)
                      and obj.__module__ == module.__name__})
    return found


def failure(saga_id, step, error_type, message="refused") -> dict:
    """The ``StepFailed`` of a step that raised the error named ``error_type`` (a domain's,
    or any other such as ``OperationalError``), as ``on_step_failed`` builds it."""
    error = domain_errors().get(error_type)
    return {"saga_id": saga_id, "step": step, "error_type": error_type, "message": message,
            "reason": reason_of(error.__new__(error)) if error else None,
            "attempts": 1, "failed_at": utcnow()}
