"""The migrations build the schema the models describe: nothing a model declares (a
table, a column, an index, a constraint) is missing from a database ``flask db upgrade``
made, and nothing is there that no model declares."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import api  # noqa: F401  every domain's models
from workers import db


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_the_migrated_schema_is_the_models_schema(database, request):
    request.getfixturevalue(database)
    with db.engine().connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.Base.metadata)
    assert differences == []
