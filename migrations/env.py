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
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
