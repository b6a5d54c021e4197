"""Query predicates whose plans do not depend on the size of their argument.

``column IN (:p1, …, :p1000)`` is fine on SQLite (it builds a temporary index over the list), but
on PostgreSQL a list of separate parameters is compared one element at a time for every row the
plan touches: with stale statistics the planner filters a member's 50,000 rows against 1,000
parameters, half a second a batch. One array parameter (``column = ANY(:array)``) is hashed and
probed instead, and keeps the index usable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, literal
from sqlalchemy.orm import InstrumentedAttribute


def one_of(
    column: InstrumentedAttribute[Any], values: Iterable[Any], *, dialect: str
) -> ColumnElement[bool]:
    """``column`` equals one of ``values``, in the form that ``dialect`` plans best."""
    values = list(values)
    if dialect == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)
