"""Regional trend reports from the hub's rollups, with disclosure control (pure: no I/O).

A report covers a period (``2026-07``, ``2026-Q3``, ``2026``) and gives, for each dimension
(commodity, category, route, corridor (origin to destination), transport mode, concealment,
detection method, reporting member, commodity x corridor), the cases and normalised quantities
of each cell, their change against the previous period and the same period a year earlier, the
top corridors and the commodity-corridor pairs not seen in the four periods before.

Disclosure control: a cell based on fewer than three seizures or fewer than two reporting members
is suppressed (its figures are not shown). Where a table would show a total and exactly one
suppressed cell, the total minus the other cells would give it away, so the smallest shown cell
is suppressed as well (complementary suppression). A change is shown only where both cells it
compares are shown: a change and one figure give away the other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DIMENSIONS = (
    "commodity",
    "category",
    "route",
    "corridor",
    "mode",
    "concealment",
    "detection",
    "member",
    "commodity-route",
)
#: Dimensions whose cells partition the seizures (each counted once): their totals are shown.
PARTITIONS = frozenset(
    {"commodity", "category", "route", "corridor", "mode", "member", "commodity-route"}
)
QUANTITIES = ("kg", "litres", "tablets", "pieces")
MIN_SEIZURES = 3
MIN_MEMBERS = 2


@dataclass(frozen=True)
class Period:
    """A month, quarter or year, as the months (``yyyymm``) it spans."""

    label: str
    months: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Period:
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                return cls(text, (year * 100 + month,))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            year, quarter = int(m[1]), int(m[2])
            return cls(text, tuple(year * 100 + 3 * (quarter - 1) + i for i in (1, 2, 3)))
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
            return cls(text, tuple(year * 100 + i for i in range(1, 13)))
        raise ValueError(f"{text!r} is not a period (YYYY-MM, YYYY-Qn or YYYY)")

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods of the same length later (negative: earlier)."""
        first = self.months[0]
        index = (first // 100) * 12 + first % 100 - 1 + steps * len(self.months)
        months = tuple(
            ((index + i) // 12) * 100 + (index + i) % 12 + 1 for i in range(len(self.months))
        )
        year, month = months[0] // 100, months[0] % 100
        if len(months) == 1:
            label = f"{year}-{month:02d}"
        elif len(months) == 3:
            label = f"{year}-Q{(month - 1) // 3 + 1}"
        else:
            label = str(year)
        return Period(label, months)

    @property
    def year_earlier(self) -> Period:
        return self.shifted(-(12 // len(self.months)))


@dataclass(frozen=True)
class RollupRow:
    month: int
    dimension: str
    value: str
    member: str
    cases: int
    kg: float = 0.0
    litres: float = 0.0
    tablets: float = 0.0
    pieces: float = 0.0


@dataclass
class Cell:
    """One cell's figures over a period: seizures, reporting members, normalised quantities."""

    cases: int = 0
    members: int = 0
    quantities: dict[str, float] = field(default_factory=lambda: dict.fromkeys(QUANTITIES, 0.0))

    @property
    def disclosable(self) -> bool:
        return self.cases >= MIN_SEIZURES and self.members >= MIN_MEMBERS


Cells = Mapping[str, Mapping[str, Cell]]  # dimension -> value -> Cell


def cells_of(rows: Iterable[RollupRow], months: Iterable[int]) -> dict[str, dict[str, Cell]]:
    """dimension -> value -> Cell over ``months``, from rollup rows (the database does the same
    with GROUP BY in :meth:`gateway.rilo.hub.Hub.trend_report`)."""
    wanted = set(months)
    cells: dict[str, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.month in wanted:
            cell = cells[row.dimension][row.value]
            cell.cases += row.cases
            for name in QUANTITIES:
                cell.quantities[name] += getattr(row, name)
            members[(row.dimension, row.value)].add(row.member)
    for (dimension, value), who in members.items():
        cells[dimension][value].members = len(who)
    return cells


def suppressed(cells: Mapping[str, Cell], *, total_shown: bool) -> set[str]:
    """The values whose cells are not shown: primary (too few seizures or members), and the
    complement that keeps a shown total from giving a lone suppressed cell away."""
    hidden = {value for value, cell in cells.items() if not cell.disclosable}
    if total_shown and len(hidden) == 1:
        shown = sorted((cell.cases, value) for value, cell in cells.items() if value not in hidden)
        if shown:
            hidden.add(shown[0][1])
    return hidden


def _change(now: float, before: float) -> float | None:
    return None if before == 0 else round((now - before) / before * 100, 1)


def report(
    period: Period,
    now: Cells,
    before: Cells,
    last_year: Cells,
    *,
    seen_before: Iterable[str] = (),
    open_candidates: int = 0,
) -> dict[str, Any]:
    """The trend report of ``period`` from its cells, those of the period before and those of
    the same period a year earlier. ``seen_before`` are the commodity-route pairs of the four
    periods before (to tell the new ones). ``open_candidates``: the period's candidate duplicates
    no analyst has decided yet (each counted as a seizure of its own meanwhile)."""
    previous, year_earlier = period.shifted(-1), period.year_earlier
    tables: dict[str, Any] = {}
    for dimension in DIMENSIONS:
        current = now.get(dimension, {})
        hidden = suppressed(current, total_shown=dimension in PARTITIONS)
        hidden_before = suppressed(before.get(dimension, {}), total_shown=dimension in PARTITIONS)
        hidden_last = suppressed(last_year.get(dimension, {}), total_shown=dimension in PARTITIONS)
        table = []
        for value in sorted(current, key=lambda v: (-current[v].cases, v)):
            if value in hidden:
                table.append({"value": value, "suppressed": True})
                continue
            cell = current[value]
            entry: dict[str, Any] = {
                "value": value,
                "suppressed": False,
                "cases": cell.cases,
                "members": cell.members,
                **{q: round(cell.quantities[q], 3) for q in QUANTITIES},
            }
            for name, other, other_hidden in (
                ("change_previous_pct", before.get(dimension, {}), hidden_before),
                ("change_year_pct", last_year.get(dimension, {}), hidden_last),
            ):
                change = (
                    _change(cell.cases, other[value].cases)
                    if value in other and value not in other_hidden
                    else None
                )
                if change is not None:
                    entry[name] = change
            table.append(entry)
        tables[dimension] = table
    total = sum(c.cases for c in now.get("member", {}).values())  # members partition seizures
    routes = [e for e in tables["corridor"] if not e["suppressed"]][:10]
    seen = set(seen_before)
    new_pairs = [
        e for e in tables["commodity-route"] if not e["suppressed"] and e["value"] not in seen
    ]
    return {
        "period": period.label,
        "previous_period": previous.label,
        "year_earlier_period": year_earlier.label,
        "total_cases": total,
        "total_cases_previous": sum(c.cases for c in before.get("member", {}).values()),
        "total_cases_year_earlier": sum(c.cases for c in last_year.get("member", {}).values()),
        "disclosure_control": {"min_seizures": MIN_SEIZURES, "min_members": MIN_MEMBERS},
        "open_duplicate_candidates": open_candidates,
        "tables": tables,
        "top_routes": routes,
        "new_commodity_routes": new_pairs,
    }
