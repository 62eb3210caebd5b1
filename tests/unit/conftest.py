"""Unit tests of the core rules run on a throwaway SQLite database, migrated by Alembic as
the application migrates its own: the rule's SQL runs for real, with no server."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory):
    from api.cli import migrate
    from settings import reset_settings
    from workers.db import dispose_engine

    saved = os.environ.get("DATABASE_URL")
    path = tmp_path_factory.mktemp("core-rules") / "boxoffice.db"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    reset_settings()
    dispose_engine()
    migrate()
    try:
        yield path
    finally:
        dispose_engine()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        reset_settings()
