"""Alembic environment: every domain's tables, on the database of DATABASE_URL."""
from alembic import context

from workers.bootstrap import ensure
from workers.db import Base, engine
from workers import outbox as _outbox  # noqa: F401
from workers.orchestration import models as _orchestration  # noqa: F401
from workers.payments import models as _payments  # noqa: F401
from workers.tickets import models as _tickets  # noqa: F401
from workers.users import models as _users  # noqa: F401

target_metadata = Base.metadata


def run_migrations_online() -> None:
    ensure()  # run by `alembic` itself, this process may have no composition root yet
    with engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite)
        if sqlite:  # batch mode rebuilds tables, referenced ones too
            _sqlite_foreign_keys(connection, on=False)
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:
    """SQLite enforces foreign keys only as set outside a transaction, so on the driver's
    connection: off while batch mode drops and renames a referenced table."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left rows with broken foreign keys: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
