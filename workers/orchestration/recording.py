"""The saga record of a step's outcome, written inside the step's own transaction.

A step's outcome moves the saga forward (never back: ``pending < reserved < paid <
confirmed``) and upserts its step row: two statements, in the transaction in which the
step did its work, so the step and its record commit together (``workers.steps``). The
outcome that ends the saga writes its ``SagaCompleted`` into the outbox there too.
"""
from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.dialects import postgresql, sqlite

from workers.orchestration.completion import finished
from workers.orchestration.models import RANK, TERMINAL, OutboxMessage, Saga, SagaStep
from workers.steps import utcnow

STEP_ORDER = {"reserve": 0, "charge": 1, "confirm": 2, "refund": 3, "release": 4}
#: what each outcome event means for the saga
OUTCOME_STATUS = {"SeatsReserved": "reserved", "PaymentCaptured": "paid",
                  "SeatsConfirmed": "confirmed", "PaymentRefunded": None, "SeatsReleased": "canceled"}
#: the statuses an outcome may move a saga from (ranks only rise)
_BEFORE = {status: (["compensating"] if status == "canceled"
                    else [k for k, rank in RANK.items() if rank < RANK[status]])
           for status in OUTCOME_STATUS.values() if status is not None}
# Core statements on the tables: the ORM's bulk machinery costs more than the statements
_SAGAS, _STEPS = Saga.__table__, SagaStep.__table__
_RETURNING = tuple(_SAGAS.c[name] for name in
                   ("id", "user_id", "status", "reason", "amount_cents", "currency"))


def upsert_step(s, saga_id, *, name, status, attempts, started_at, finished_at, error=None):
    values = dict(saga_id=saga_id, name=name, position=STEP_ORDER[name], status=status,
                  attempts=attempts, started_at=started_at, finished_at=finished_at, error=error)
    dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_STEPS).values(**values)
    s.execute(stmt.on_conflict_do_update(
        index_elements=["saga_id", "name"],
        set_={k: v for k, v in values.items() if k not in ("saga_id", "name")}))


def record_outcome_in(s, event: dict) -> OutboxMessage | None:
    """The step, and the saga's status moved forward (never back) with its progress in
    one UPDATE, in ``s``; the saga's ``SagaCompleted`` (to publish once ``s`` committed)
    if that UPDATE ended it."""
    step = event["step"]
    saga_id = event["saga_id"]
    status = OUTCOME_STATUS[event["contract"]]
    values = {"updated_at": utcnow()}  # the watchdog's measure of life
    if event.get("amount_cents") is not None:  # SeatsReserved, SeatsConfirmed
        values.update(amount_cents=event["amount_cents"], currency=event["currency"])
    if status is not None:
        values["status"] = case((_SAGAS.c.status.in_(_BEFORE[status]), status),
                                else_=_SAGAS.c.status)
    saga = (update(_SAGAS).where(_SAGAS.c.id == saga_id, _SAGAS.c.status.notin_(TERMINAL))
            .values(**values).returning(*_RETURNING))
    # the step row first, then the saga row, always in this order: two deliveries of
    # one step recording at once wait for each other instead of deadlocking
    upsert_step(s, saga_id, name=step["name"], status="succeeded", attempts=step["attempts"],
                started_at=step["started_at"], finished_at=step["finished_at"])
    row = s.execute(saga).first()
    if row is not None and row.status in TERMINAL:  # it was not terminal before
        return finished(s, row, row.status, row.reason, ticket_ids=event.get("ticket_ids") or ())
    return None
