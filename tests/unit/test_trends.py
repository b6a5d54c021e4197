"""Trend reports (gateway/rilo/trends.py): periods, disclosure control, and an attacker who
tries to recover suppressed cells from what is published."""

from __future__ import annotations

import random

import pytest

from gateway.rilo.trends import (
    PARTITIONS,
    Period,
    RollupRow,
    cells_of,
    report,
    suppressed,
)


def test_periods_and_their_neighbours():
    quarter = Period.parse("2026-Q3")
    assert quarter.months == (202607, 202608, 202609)
    assert quarter.shifted(-1).label == "2026-Q2"
    assert quarter.year_earlier.label == "2025-Q3"
    assert Period.parse("2026-01").shifted(-1).label == "2025-12"
    assert Period.parse("2026-Q1").shifted(-1).months == (202510, 202511, 202512)
    assert Period.parse("2026").year_earlier.months[0] == 202501
    for bad in ("2026-13", "2026-Q5", "26", "2026-7"):
        with pytest.raises(ValueError, match="is not a period"):
            Period.parse(bad)


def cell(cases: int, members: int):
    rows = [RollupRow(202601, "mode", "x", f"M{i % members}", 1) for i in range(cases)]
    return cells_of(rows, [202601])["mode"]["x"]


def published(rows, period: Period) -> dict:
    return report(
        period,
        cells_of(rows, period.months),
        cells_of(rows, period.shifted(-1).months),
        cells_of(rows, period.year_earlier.months),
    )


def test_cells_of_few_seizures_or_one_member_are_suppressed():
    cells = {"a": cell(10, 3), "b": cell(2, 2), "c": cell(5, 1), "d": cell(7, 2)}
    assert suppressed(cells, total_shown=False) == {"b", "c"}


def test_a_lone_suppressed_cell_takes_the_smallest_shown_one_with_it():
    cells = {"a": cell(10, 3), "b": cell(2, 2), "c": cell(4, 2), "d": cell(7, 2)}
    assert suppressed(cells, total_shown=True) == {"b", "c"}
    assert suppressed(cells, total_shown=False) == {"b"}


def _rows(seed: int) -> list[RollupRow]:
    """Many small cells over three quarters: fertile ground for disclosure."""
    rng = random.Random(seed)
    rows = []
    for month in (202501, 202504, 202507, 202510, 202601, 202604, 202607):
        for index in range(rng.randrange(80, 160)):
            mode = rng.choices(["sea", "air", "postal", "rail", "road"], [40, 30, 20, 2, 8])[0]
            member = rng.choice(["JP", "KR", "TH", "SG"] if mode != "rail" else ["MN"])
            for dimension, value in (("mode", mode), ("member", member)):
                rows.append(RollupRow(month, dimension, value, member, 1, kg=float(index)))
    return rows


def truth(rows: list[RollupRow], period: Period, dimension: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        if row.month in period.months and row.dimension == dimension:
            counts[row.value] = counts.get(row.value, 0) + row.cases
    return counts


@pytest.mark.parametrize("seed", range(25))
def test_suppressed_cells_cannot_be_recovered_from_what_is_published(seed):
    """The attacker holds the whole published report: totals, shown cells and changes. They try
    (1) total minus shown cells, alone and in any combination of suppressed cells, and (2) a
    shown cell with its change to recover the cell it was compared with."""
    rows = _rows(seed)
    period = Period.parse("2026-Q3")
    published_report = published(rows, period)
    for dimension in ("mode", "member"):
        actual = truth(rows, period, dimension)
        table = {c["value"]: c for c in published_report["tables"][dimension]}
        hidden = [v for v, c in table.items() if c["suppressed"]]
        for value in hidden:
            assert set(table[value]) == {"value", "suppressed"}  # no figure leaks
        remainder = published_report["total_cases"] - sum(
            c["cases"] for c in table.values() if not c["suppressed"]
        )
        assert remainder == sum(actual[v] for v in hidden)  # the published total is honest
        # the remainder is the sum of at least two cells: it pins none of them down
        assert len(hidden) != 1
        if len(hidden) >= 2:
            alternatives = {tuple(split) for split in _splits(remainder, len(hidden))}
            assert len(alternatives) > 1
        for value, entry in table.items():
            if entry.get("change_previous_pct") is not None:
                previous = truth(rows, period.shifted(-1), dimension)[value]
                before = {
                    c["value"]: c for c in published(rows, period.shifted(-1))["tables"][dimension]
                }
                assert not before[value]["suppressed"], "a change was shown against a hidden cell"
                assert previous >= 3


def _splits(total: int, parts: int) -> list[list[int]]:
    """Ways the remainder could split over the suppressed cells (each may be 0 … total)."""
    if parts == 1:
        return [[total]]
    return [
        [first, *rest]
        for first in range(min(total, 4) + 1)
        for rest in _splits(total - first, parts - 1)
    ]


def test_partitions_are_the_tables_with_totals():
    assert {"mode", "member", "commodity", "route"} <= PARTITIONS
    assert "detection" not in PARTITIONS  # a seizure may have several detection methods
