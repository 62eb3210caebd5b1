"""The tickets rules run on both databases: SQLite, the embedded default, and PostgreSQL,
where a usual reserve takes a path of its own (one statement reads the terms as it
inserts the hold)."""
import pytest


@pytest.fixture(params=["sqlite_db", "postgres_db"])
def either_database(request):
    return request.getfixturevalue(request.param)
