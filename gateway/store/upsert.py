"""Inserts that keep the row already there: one statement that tells whether it inserted.

``INSERT … ON CONFLICT DO NOTHING RETURNING`` (SQLite 3.35+, PostgreSQL) instead of a SELECT then
an INSERT: half the statements, and no race between the two — on PostgreSQL a second transaction
inserting the same key waits for the first and then inserts nothing, instead of failing its whole
transaction with an IntegrityError.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


@cache
def _statement(table: Table, dialect: str) -> Executable:
    # One statement per table and dialect, its values bound at execution: building (and hashing
    # for the compiled cache) a statement with values costs more than running it.
    # RETURNING, not the row count: psycopg reports no count for this statement (-1).
    key = next(iter(table.primary_key.columns))
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing().returning(key)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing().returning(key)
    raise NotImplementedError(f"no insert-if-absent on {dialect}")


def insert_if_absent(session: Session, table: Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` into ``table`` unless a row with the same key (primary or unique) is
    there; True if it inserted. SQLite and PostgreSQL only."""
    connection = session.connection()
    return connection.execute(_statement(table, connection.dialect.name), row).first() is not None
