"""The saga record of a step's outcome, written inside the step's own transaction.

A step's outcome moves the saga forward (never back: ``pending < reserved < paid <
confirmed``) and upserts its step row, in the transaction in which the step did its work,
so the step and its record commit together (``workers.steps``): one statement on
PostgreSQL, two on SQLite. The outcome that ends the saga writes its ``SagaCompleted``
into the outbox there too.
"""
from __future__ import annotations

import functools

from sqlalchemy import bindparam, case, text, update

from contracts.statuses import SagaStatus, StepName, StepStatus
from workers.orchestration.completion import finished
from workers.orchestration.models import RANK, TERMINAL, OutboxMessage, Saga, SagaStep
from workers.steps import utcnow
from workers.upserts import excluded, insert_on_conflict

STEP_ORDER = {name: position for position, name in enumerate(StepName)}
#: what each outcome event means for the saga
OUTCOME_STATUS = {"SeatsReserved": SagaStatus.RESERVED, "PaymentCaptured": SagaStatus.PAID,
                  "SeatsConfirmed": SagaStatus.CONFIRMED, "PaymentRefunded": None,
                  "SeatsReleased": SagaStatus.CANCELED}
#: the statuses an outcome may move a saga from (ranks only rise)
_BEFORE = {status: ([SagaStatus.COMPENSATING] if status == SagaStatus.CANCELED
                    else [k for k, rank in RANK.items() if rank < RANK[status]])
           for status in OUTCOME_STATUS.values() if status is not None}
# Core statements on the tables: the ORM's bulk machinery costs more than the statements
_SAGAS, _STEPS = Saga.__table__, SagaStep.__table__
_RETURNING = tuple(_SAGAS.c[name] for name in
                   ("id", "user_id", "status", "reason", "amount_cents", "currency"))


def upsert_step(s, saga_id, *, name, status, attempts, started_at, finished_at, error=None):
    s.execute(_UPSERT, dict(
        saga_id=saga_id, name=name, position=STEP_ORDER[name], status=status,
        attempts=attempts, started_at=started_at, finished_at=finished_at, error=error))


_SET = ("position", "status", "attempts", "started_at", "finished_at", "error")
#: the step row's upsert, built once (executed with its values as parameters)
_UPSERT = insert_on_conflict(_STEPS, ("saga_id", "name", *_SET), ("saga_id", "name"),
                             set_=excluded(_SET))


@functools.cache
def _advance(status: str | None, priced: bool):
    """The saga's UPDATE for an outcome meaning ``status``, built once: progress always, the
    status only forward, the price if the outcome has one; what a terminal outcome needs."""
    values = {"updated_at": bindparam("now")}  # the watchdog's measure of life
    if priced:  # SeatsReserved, SeatsConfirmed
        values.update(amount_cents=bindparam("amount_cents"), currency=bindparam("currency"))
    if status is not None:
        values["status"] = case((_SAGAS.c.status.in_(_BEFORE[status]),
                                 bindparam("saga_status", type_=_SAGAS.c.status.type)),
                                else_=_SAGAS.c.status)
    return (update(_SAGAS).where(_SAGAS.c.id == bindparam("saga_id"),
                                 _SAGAS.c.status.notin_(TERMINAL))
            .values(**values).returning(*_RETURNING))


def record_outcome_in(s, event: dict) -> OutboxMessage | None:
    """The step, and the saga's status moved forward (never back) with its progress, in
    ``s``; the saga's ``SagaCompleted`` (to publish once ``s`` committed) if that ended it."""
    step, saga_id = event["step"], event["saga_id"]
    priced = event.get("amount_cents") is not None
    status = OUTCOME_STATUS[event["contract"]]
    step_row = {"saga_id": saga_id, "name": step["name"], "position": STEP_ORDER[step["name"]],
                "status": StepStatus.SUCCEEDED, "attempts": step["attempts"],
                "started_at": step["started_at"], "finished_at": step["finished_at"],
                "error": None}
    # named apart from the step's columns: a Core UPDATE would SET a column a parameter names
    saga = {"saga_id": saga_id, "now": utcnow()}
    if priced:
        saga.update(amount_cents=event["amount_cents"], currency=event["currency"])
    if status is not None:
        saga["saga_status"] = status
    if s.bind.dialect.name == "postgresql":  # the step row first, then the saga row
        row = s.execute(_record_pg(status, priced), {**step_row, **saga}).first()
    else:  # SQLite writes nothing in a WITH: the same two statements, in the same order
        s.execute(_UPSERT, step_row)
        row = s.execute(_advance(status, priced), saga).first()
    if row is not None and row.status in TERMINAL:  # it was not terminal before
        return finished(s, row, row.status, row.reason, ticket_ids=event.get("ticket_ids") or ())
    return None


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


@functools.cache
def _record_pg(status: str | None, priced: bool):
    """The step's upsert and the saga's UPDATE (``_advance``) as ONE statement, built once.
    The UPDATE finds its saga through the upsert's ``RETURNING``, so the step row is
    written (and locked) before the saga row is, always in this order: two deliveries of
    one step recording at once wait for each other instead of deadlocking."""
    sets = ['"updated_at" = :now']  # the watchdog's measure of life
    if priced:  # SeatsReserved, SeatsConfirmed
        sets += ['"amount_cents" = :amount_cents', '"currency" = :currency']
    if status is not None:
        sets.append(f'"status" = CASE WHEN "status" IN ({_in(_BEFORE[status])}) '
                    'THEN :saga_status ELSE "status" END')
    sql = (f'WITH step AS ({_UPSERT.text} RETURNING "saga_id") '
           f'UPDATE "{_SAGAS.name}" SET {", ".join(sets)} '
           f'WHERE "id" = (SELECT "saga_id" FROM step) AND "status" NOT IN ({_in(TERMINAL)}) '
           f'RETURNING {", ".join(f"{chr(34)}{c.name}{chr(34)}" for c in _RETURNING)}')
    binds = [bindparam(name, type_=_STEPS.c[name].type) for name in ("saga_id", "name", *_SET)]
    binds.append(bindparam("now", type_=_SAGAS.c.updated_at.type))
    if priced:
        binds += [bindparam(c, type_=_SAGAS.c[c].type) for c in ("amount_cents", "currency")]
    if status is not None:
        binds.append(bindparam("saga_status", type_=_SAGAS.c.status.type))
    return text(sql).bindparams(*binds).columns(*_RETURNING)
