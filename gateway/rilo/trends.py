"""Regional trend reports from the hub's rollups (pure: no I/O).

A report covers a period (``2026-07``, ``2026-Q3``, ``2026``) and gives, for each dimension
(commodity, category, route, corridor (origin to destination), transport mode, concealment,
detection method, reporting member, commodity x corridor), the cases and normalised quantities
of each cell, their change against the previous period and the same period a year earlier, the
top corridors and the commodity-corridor pairs not seen in the four periods before.

This module's :func:`report` is the RILO analysts' report: exact figures in every cell, with
each member's share. What members and the public receive is a *release*, disclosure-controlled
over everything that audience already holds: :mod:`gateway.rilo.disclosure`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The tables a release to members or the public may carry (:mod:`gateway.rilo.disclosure`).
SHARED_TABLES = (
    "commodity",
    "category",
    "route",
    "corridor",
    "mode",
    "concealment",
    "detection",
    "commodity-route",
)
#: The tables for RILO analysts only: the member, office and port tables (one member reports
#: each of their cells: always suppressed in a release), and direction, mode x commodity and
#: size band.
ANALYSTS_TABLES = ("member", "direction", "mode-commodity", "office", "port", "size")
#: Every table of the analysts' report, in its order.
DIMENSIONS = SHARED_TABLES + ANALYSTS_TABLES
#: Dimensions whose cells partition the seizures (each counted once): their totals are shown.
#: A seizure may have several detection and concealment methods.
PARTITIONS = frozenset(DIMENSIONS) - {"concealment", "detection"}
#: How many periods back a commodity-route pair must have had no seizure to be called new.
NEW_PAIR_PERIODS = 4
#: The lower bounds of the size bands (in a quantity's normalised unit): decades.
SIZE_BANDS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


_BAND_LABELS = (
    f"<{SIZE_BANDS[0]:g}",
    *(f"{low:g}-{high:g}" for low, high in itertools.pairwise(SIZE_BANDS)),
    f">={SIZE_BANDS[-1]:g}",
)


def size_band(unit: str, amount: float) -> str:
    """The size band of a seizure of ``amount`` ``unit`` (normalised), by decades: ``kg 1-10``
    (1 included, 10 not), ``kg <0.01``, ``pieces >=10000``."""
    return f"{unit} {_BAND_LABELS[bisect.bisect_right(SIZE_BANDS, amount)]}"


QUANTITIES = ("kg", "litres", "tablets", "pieces")


def month_label(month: int) -> str:
    """``yyyymm`` as a period label, ``YYYY-MM``."""
    return f"{month // 100}-{month % 100:02d}"


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

    @property
    def months_before(self) -> tuple[int, ...]:
        """The months of the :data:`NEW_PAIR_PERIODS` periods before this one, where a pair
        called new had no seizure."""
        return tuple(m for i in range(1, NEW_PAIR_PERIODS + 1) for m in self.shifted(-i).months)


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
    """One cell's figures over a period: seizures, reporting members, normalised quantities,
    and each reporting member's seizures."""

    cases: int = 0
    members: int = 0
    quantities: dict[str, float] = field(default_factory=lambda: dict.fromkeys(QUANTITIES, 0.0))
    by_member: dict[str, int] = field(default_factory=dict)


Cells = Mapping[str, Mapping[str, Cell]]  # dimension -> value -> Cell


def cells_of(rows: Iterable[RollupRow], months: Iterable[int]) -> dict[str, dict[str, Cell]]:
    """dimension -> value -> Cell over ``months``, from rollup rows (the database does the same
    with GROUP BY in :meth:`gateway.rilo.hub.Hub.trend_report`)."""
    wanted = set(months)
    cells: dict[str, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for row in rows:
        if row.month in wanted:
            cell = cells[row.dimension][row.value]
            cell.cases += row.cases
            for name in QUANTITIES:
                cell.quantities[name] += getattr(row, name)
            cell.by_member[row.member] = cell.by_member.get(row.member, 0) + row.cases
    for table in cells.values():
        for cell in table.values():
            cell.by_member = {m: n for m, n in sorted(cell.by_member.items()) if n}
            cell.members = len(cell.by_member)
    return {d: {v: c for v, c in table.items() if c.cases > 0} for d, table in cells.items()}


def change(now: float, before: float) -> float | None:
    """The change from ``before`` to ``now`` in percent (one decimal); None from nothing."""
    return None if before == 0 else round((now - before) / before * 100, 1)


#: The level below which a change's p-value calls it significant.
SIGNIFICANCE = 0.05
#: Past this many seizures in both periods, the binomial is taken as normal.
_EXACT_UP_TO = 1000


@functools.lru_cache(maxsize=65536)
def change_p(now: int, before: int) -> float:
    """Two-sided p-value of ``now`` seizures against ``before`` under the hypothesis that
    both periods (of one length) have one Poisson rate: given the sum ``n``, ``now`` is then
    binomial (n, 1/2), and the test is exact (the conditional test of two Poisson counts);
    past 1,000 seizures, the normal approximation with continuity correction."""
    n, low = now + before, min(now, before)
    if n == 0 or now == before:
        return 1.0
    if n > _EXACT_UP_TO:
        z = (abs(now - before) - 1) / math.sqrt(n)
        return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))
    # the binomial terms by their recurrence, in floats (2**-1000 is still a normal float):
    # a report has thousands of cells, and big-integer coefficients cost a second over them
    term, tail = 0.5**n, 0.0
    for k in range(low + 1):
        tail += term
        term *= (n - k) / (k + 1)
    return min(1.0, 2 * tail)


def changes(now: int, before: int, name: str) -> dict[str, Any]:
    """``change_<name>_pct`` from ``before`` to ``now`` and whether it is significant
    (``change_<name>_significant``, :func:`change_p` under :data:`SIGNIFICANCE`): "+100 %"
    from 2 to 4 seizures is shown, and flagged as what chance alone often does. Nothing from
    nothing."""
    moved = change(now, before)
    if moved is None:
        return {}
    return {
        f"change_{name}_pct": moved,
        f"change_{name}_significant": change_p(now, before) < SIGNIFICANCE,
    }


def entry_of(value: str, cell: Cell) -> dict[str, Any]:
    """A shown cell as a report lists it: its seizures, members and quantities."""
    return {
        "value": value,
        "suppressed": False,
        "cases": cell.cases,
        "members": cell.members,
        **{q: round(cell.quantities[q], 3) for q in QUANTITIES},
    }


def report(
    period: Period,
    now: Cells,
    before: Cells,
    last_year: Cells,
    *,
    seen_before: Iterable[str] = (),
    open_candidates: int = 0,
) -> dict[str, Any]:
    """The analysts' report of ``period``, exact, from its cells, those of the period before and
    those of the same period a year earlier. ``seen_before`` are the commodity-route pairs of
    the four periods before (to tell the new ones). ``open_candidates``: the period's candidate
    duplicates no analyst has decided yet (each counted as a seizure of its own meanwhile)."""
    previous, year_earlier = period.shifted(-1), period.year_earlier
    tables: dict[str, Any] = {}
    for dimension in DIMENSIONS:
        current = now.get(dimension, {})
        table = []
        for value in sorted(current, key=lambda v: (-current[v].cases, v)):
            cell = current[value]
            entry = {**entry_of(value, cell), "by_member": dict(cell.by_member)}
            for name, other in (
                ("previous", before.get(dimension, {})),
                ("year", last_year.get(dimension, {})),
            ):
                if value in other:
                    entry.update(changes(cell.cases, other[value].cases, name))
            table.append(entry)
        tables[dimension] = table
    seen = set(seen_before)
    return {
        "period": period.label,
        "previous_period": previous.label,
        "year_earlier_period": year_earlier.label,
        "audience": "analysts",
        "total_cases": total_of(now),
        "total_cases_previous": total_of(before),
        "total_cases_year_earlier": total_of(last_year),
        "disclosure_control": {"audience": "analysts", "exact": True},
        "open_duplicate_candidates": open_candidates,
        "tables": tables,
        "top_routes": tables["corridor"][:10],
        "new_commodity_routes": [e for e in tables["commodity-route"] if e["value"] not in seen],
    }


def total_of(cells: Cells) -> int:
    """A period's seizures (the reporting members partition them)."""
    return sum(c.cases for c in cells.get("member", {}).values())
