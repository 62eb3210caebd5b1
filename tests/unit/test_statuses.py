"""The status vocabularies: their derived sets, and the database refusing what they lack."""
import pytest
from sqlalchemy import Enum, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from contracts.statuses import EventStatus, SagaStatus
from tests.unit.tickets.support import new_event
from workers.db import Base, transaction
from workers.tickets.models import Event

# --- derived sets ------------------------------------------------------------------------


def test_terminal_and_in_flight_statuses_split_the_saga_statuses_between_them():
    assert SagaStatus.terminal() == ("confirmed", "canceled", "failed")
    assert SagaStatus.in_flight() == ("pending", "reserved", "paid", "compensating")
    assert sorted(SagaStatus.terminal() + SagaStatus.in_flight()) == sorted(SagaStatus)


def test_purchasing_is_in_flight_without_compensating():
    assert SagaStatus.purchasing() == ("pending", "reserved", "paid")


def test_every_terminal_status_ranks_above_every_purchasing_one():
    assert (min(s.rank for s in SagaStatus.terminal())
            > max(s.rank for s in SagaStatus.purchasing()))


def test_a_status_is_its_plain_string_in_json_and_in_text():
    import json

    assert json.dumps({"status": SagaStatus.PAID}) == '{"status": "paid"}'
    assert f"{SagaStatus.COMPENSATING}" == "compensating"


# --- the database ------------------------------------------------------------------------


def _vocabulary_columns():
    return [(table.name, column.name, column.type.enum_class)
            for table in Base.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, Enum)]


def test_every_vocabulary_column_has_its_check_constraint_after_migrating(sqlite_db):
    columns = _vocabulary_columns()
    assert len(columns) >= 10, columns

    with transaction() as s:
        checks = {(table, c["name"]) for table in {t for t, _, _ in columns}
                  for c in inspect(s.connection()).get_check_constraints(table)}

    missing = [(t, c) for t, c, _ in columns if (t, f"ck_{t}_{c}") not in checks]
    assert not missing


@pytest.mark.usefixtures("sqlite_db")
def test_the_database_refuses_an_unknown_event_status_and_keeps_the_known_one():
    event_id, _ = new_event()

    with pytest.raises(IntegrityError, match="ck_tickets_events_status"):
        with transaction() as s:
            s.execute(text("UPDATE tickets_events SET status = 'postponed' WHERE id = :id"),
                      {"id": event_id.hex})

    with transaction() as s:
        assert s.scalar(select(Event.status).where(Event.id == event_id)) is EventStatus.ON_SALE


@pytest.mark.usefixtures("sqlite_db")
def test_an_unknown_status_is_refused_before_it_reaches_the_database():
    event_id, _ = new_event()

    with pytest.raises(StatementError, match="postponed"):
        with transaction() as s:
            s.get(Event, event_id).status = "postponed"
