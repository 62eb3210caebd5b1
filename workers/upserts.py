"""``INSERT … ON CONFLICT`` statements that are compiled once, not on every execution.

SQLAlchemy's PostgreSQL and SQLite ``insert().on_conflict_do_…()`` constructs carry no
cache key, so each execution compiles the statement again: on the saga's hot path that
was a fifth of a step's CPU. The statements here are the same SQL, written once in the
syntax both databases share, with typed parameters (a UUID, an enum and a UTC datetime
are converted as the columns' own types convert them) and typed returned columns.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Table, bindparam, text
from sqlalchemy.sql.elements import TextClause


def _q(name: str) -> str:
    return f'"{name}"'


def names(columns: Sequence[str]) -> str:
    """The columns' names, quoted, comma-separated."""
    return ", ".join(map(_q, columns))


def excluded(columns: Sequence[str]) -> dict[str, str]:
    """``SET`` each column to the value the conflicting insert proposed."""
    return {c: f"excluded.{_q(c)}" for c in columns}


def insert_on_conflict(table: Table, columns: Sequence[str], conflict: Sequence[str], *,
                       set_: Mapping[str, str] | None = None,
                       returning: Sequence[str] = ()) -> TextClause:
    """``INSERT INTO table (columns) VALUES (:columns…) ON CONFLICT (conflict)`` ``DO
    NOTHING``, or ``DO UPDATE SET`` the SQL expressions of ``set_``; ``RETURNING`` the
    named columns. Executed with one parameter per column, named as the column."""
    sql = (f"INSERT INTO {_q(table.name)} ({names(columns)}) "
           f"VALUES ({', '.join(':' + c for c in columns)}) "
           f"ON CONFLICT ({names(conflict)}) ")
    if set_:
        sql += "DO UPDATE SET " + ", ".join(f"{_q(c)} = {expr}" for c, expr in set_.items())
    else:
        sql += "DO NOTHING"
    if returning:
        sql += " RETURNING " + names(returning)
    stmt = text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))
    return stmt.columns(*(table.c[c] for c in returning)) if returning else stmt
