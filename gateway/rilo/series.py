"""Monthly series of the hub's cells, for RILO analysts (exact, like their trend report), read
from the rollups: a commodity's or a corridor's seizures and amounts month by month over
several years, with the months that had none given as none (not left out).

Disclosure-controlled audiences get no series: a month's cell is there in their monthly
releases, planned against everything else they hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.rilo.trends import QUANTITIES, Period, month_label
from gateway.store.models import HubRollup

#: The tables a series can be drawn from.
SERIES_TABLES = ("commodity", "category", "corridor", "mode", "commodity-route", "member")
#: The longest series served (ten years of months).
MAX_MONTHS = 120
#: The months a series covers unless asked otherwise (three years).
DEFAULT_MONTHS = 36
#: The most series one request may ask for (the top values of a table).
MAX_SERIES = 20


@dataclass(frozen=True)
class Series:
    """One cell's figures month by month, every month of the range present."""

    table: str
    value: str
    months: tuple[int, ...]
    cases: tuple[int, ...]
    #: unit -> amount per month
    quantities: dict[str, tuple[float, ...]]

    @property
    def empty_months(self) -> int:
        return sum(1 for n in self.cases if n == 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "value": self.value,
            "total_cases": sum(self.cases),
            "empty_months": self.empty_months,
            "months": [
                {
                    "month": month_label(m),
                    "cases": self.cases[i],
                    **{q: round(self.quantities[q][i], 3) for q in QUANTITIES},
                }
                for i, m in enumerate(self.months)
            ],
        }


def months_from(first: str, last: str) -> tuple[int, ...]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included. Raises ValueError
    for a range that is not months, runs backwards or is longer than :data:`MAX_MONTHS`."""
    start, end = Period.parse(first), Period.parse(last)
    if len(start.months) != 1 or len(end.months) != 1:
        raise ValueError("a series runs from one month to another (YYYY-MM)")
    months = [start.months[0]]
    while months[-1] < end.months[0]:
        if len(months) == MAX_MONTHS:
            raise ValueError(f"a series is at most {MAX_MONTHS} months long")
        months.append(Period.parse(month_label(months[-1])).shifted(1).months[0])
    if months[-1] != end.months[0]:
        raise ValueError(f"{first} is after {last}")
    return tuple(months)


def months_ending(last: str, count: int = DEFAULT_MONTHS) -> tuple[int, ...]:
    """The ``count`` months that end with ``last`` (``YYYY-MM``)."""
    return months_from(Period.parse(last).shifted(1 - count).label, last)


def top_values(session: Session, table: str, months: Sequence[int], limit: int) -> list[str]:
    """The ``limit`` values of ``table`` with the most seizures over ``months``, most first
    (ties by value)."""
    total = func.sum(HubRollup.cases)
    query = (
        select(HubRollup.value)
        .where(HubRollup.dimension == table, HubRollup.month.between(months[0], months[-1]))
        .group_by(HubRollup.value)
        .having(total > 0)
        .order_by(total.desc(), HubRollup.value)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def monthly(
    session: Session, table: str, values: Sequence[str], months: Sequence[int]
) -> list[Series]:
    """The series of each of ``values`` of ``table`` over ``months`` (in the order given), from
    the rollups: the database sums the members' rows of each month."""
    query = (
        select(
            HubRollup.value,
            HubRollup.month,
            func.sum(HubRollup.cases),
            *(func.sum(getattr(HubRollup, q)) for q in QUANTITIES),
        )
        .where(
            HubRollup.dimension == table,
            HubRollup.value.in_(list(values)),
            HubRollup.month.between(months[0], months[-1]),
        )
        .group_by(HubRollup.value, HubRollup.month)
    )
    found: dict[tuple[str, int], tuple[int, list[float]]] = {}
    for value, month, cases, *amounts in session.execute(query):
        found[(value, int(month))] = (int(cases), [float(a) for a in amounts])
    made = []
    for value in values:
        figures = [found.get((value, m), (0, [0.0] * len(QUANTITIES))) for m in months]
        made.append(
            Series(
                table=table,
                value=value,
                months=tuple(months),
                cases=tuple(n for n, _ in figures),
                quantities={
                    q: tuple(amounts[i] for _, amounts in figures) for i, q in enumerate(QUANTITIES)
                },
            )
        )
    return made
