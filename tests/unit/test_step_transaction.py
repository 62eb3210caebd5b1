"""A saga step and its record commit in one transaction (workers.steps, workers.db).

The real step tasks run on a private SQLite database: the step's own writes and the saga
record's commit together, once; a refusal keeps what the step kept before refusing and
records nothing.
"""
import uuid

import pytest
from sqlalchemy import event, select

from contracts import ReserveSeats
from tests.unit.tickets.support import hold_of, new_event
from workers import db
from workers.db import transaction
from workers.orchestration import service as orchestration
from workers.orchestration import tasks as _recorder  # noqa: F401  registers the recorder
from workers.orchestration.models import Saga, SagaStep
from workers.tickets import service as tickets
from workers.tickets.models import Tier
from workers.tickets import tasks
from workers.tickets.errors import SoldOut


@pytest.fixture
def commits(sqlite_db):
    """How many transactions the database committed, counted from now."""
    counted = []
    listener = lambda *_: counted.append(1)  # noqa: E731
    event.listen(db.engine(), "commit", listener)
    yield counted
    event.remove(db.engine(), "commit", listener)


def _purchase(sent, event_id, tier_id) -> uuid.UUID:
    saga_id, _ = orchestration.start_purchase(user_id=uuid.uuid4(), event_id=event_id,
                                              tier_id=tier_id, quantity=1,
                                              payment_token="tok_visa")
    return saga_id


def _reserve(saga_id, event_id, tier_id):
    message = ReserveSeats.build(saga_id=saga_id, user_id=uuid.uuid4(), event_id=event_id,
                                 tier_id=tier_id, quantity=1)
    tasks.reserve_seats.push_request(id=str(uuid.uuid4()), retries=0)
    try:
        return tasks.reserve_seats(message)
    finally:
        tasks.reserve_seats.pop_request()


def _saga(saga_id):
    with transaction() as s:
        saga = s.get(Saga, saga_id)
        steps = s.scalars(select(SagaStep.name).where(SagaStep.saga_id == saga_id)).all()
        return saga.status, steps


def test_a_reserve_and_its_record_commit_once_together(sent, commits):
    event_id, tier_id = new_event(capacity=1)
    saga_id = _purchase(sent, event_id, tier_id)
    commits.clear()

    outcome = _reserve(saga_id, event_id, tier_id)

    assert outcome["contract"] == "SeatsReserved"
    assert len(commits) == 1
    assert _saga(saga_id) == ("reserved", ["reserve"])
    assert hold_of(saga_id).status == "held"


def test_a_sold_out_reserve_keeps_its_refused_hold_and_records_nothing(sent, commits):
    event_id, tier_id = new_event(capacity=1)
    first, late = (_purchase(sent, event_id, tier_id) for _ in range(2))
    _reserve(first, event_id, tier_id)

    with pytest.raises(SoldOut, match=f"^fewer than 1 seats left of tier {tier_id}$"):
        _reserve(late, event_id, tier_id)

    assert hold_of(late).status == "refused" and hold_of(late).quantity == 0
    assert _saga(late) == ("pending", [])
    assert _saga(first) == ("reserved", ["reserve"])


@pytest.fixture
def statements(sqlite_db):
    """The SQL statements the database ran, and its commits (as "COMMIT"), from now."""
    ran = []
    on_sql = lambda _c, _cur, sql, *_: ran.append(sql.split()[0:3])  # noqa: E731
    on_commit = lambda *_: ran.append(["COMMIT"])  # noqa: E731
    event.listen(db.engine(), "before_cursor_execute", on_sql)
    event.listen(db.engine(), "commit", on_commit)
    yield ran
    event.remove(db.engine(), "before_cursor_execute", on_sql)
    event.remove(db.engine(), "commit", on_commit)


def test_the_tier_row_is_written_last_before_the_commit(sent, statements):
    event_id, tier_id = new_event(capacity=1)
    saga_id = _purchase(sent, event_id, tier_id)
    statements.clear()

    _reserve(saga_id, event_id, tier_id)

    writes = [sql for sql in statements if sql[0] in ("INSERT", "UPDATE", "COMMIT")]
    assert writes[-2:] == [["UPDATE", Tier.__tablename__, "SET"], ["COMMIT"]]
    assert ["UPDATE", Saga.__tablename__, "SET"] in writes[:-2]  # the record came first


def test_outside_a_step_a_sold_out_reserve_names_the_seats_and_the_tier(sqlite_db, sent):
    event_id, tier_id = new_event(capacity=1)
    saga_id = _purchase(sent, event_id, tier_id)

    with pytest.raises(SoldOut, match=f"^fewer than 2 seats left of tier {tier_id}$"):
        tickets.reserve_seats(saga_id=saga_id, user_id=uuid.uuid4(), event_id=event_id,
                              tier_id=tier_id, quantity=2)
    assert hold_of(saga_id).status == "refused"
