"""Trend reports (gateway/rilo/trends.py): periods, the analysts' exact report, and the primary
suppression rules of releases (gateway/rilo/disclosure.py). Secondary suppression is attacked
in tests/unit/test_release_audit.py and tests/functional/test_hub_release_audit.py."""

from __future__ import annotations

import math

import pytest

from gateway.rilo.disclosure import DisclosurePolicy, dominated, primary
from gateway.rilo.trends import PARTITIONS, Period, RollupRow, cells_of, change_p, report


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


def cell(cases: int, members: int, kg: float = 1.0):
    rows = [RollupRow(202601, "mode", "x", f"M{i % members}", 1, kg=kg) for i in range(cases)]
    return cells_of(rows, [202601])["mode"]["x"]


def test_the_analysts_report_is_exact_with_each_members_share():
    rows = [
        RollupRow(202601, "mode", "sea", "JP", 2, kg=5.0),
        RollupRow(202601, "mode", "sea", "KR", 1, kg=1.0),
        RollupRow(202601, "mode", "rail", "TH", 1, kg=2.0),
        RollupRow(202601, "member", "JP", "JP", 2),
        RollupRow(202601, "member", "KR", "KR", 1),
        RollupRow(202601, "member", "TH", "TH", 1),
    ]
    period = Period.parse("2026-01")
    made = report(period, cells_of(rows, period.months), {}, {})
    sea, rail = made["tables"]["mode"]
    assert sea == {
        "value": "sea",
        "suppressed": False,
        "cases": 3,
        "members": 2,
        "kg": 6.0,
        "litres": 0.0,
        "tablets": 0.0,
        "pieces": 0.0,
        "by_member": {"JP": 2, "KR": 1},
    }
    assert rail["cases"] == 1 and not rail["suppressed"]  # one seizure, one member: shown
    assert made["total_cases"] == 4 and made["audience"] == "analysts"


def test_primary_suppression_withholds_rare_labels_and_hides_one_member_cells():
    cells = {"mode": {"a": cell(10, 3), "b": cell(2, 2), "c": cell(5, 1), "d": cell(7, 2)}}
    hidden, withheld = primary(cells, {}, DisclosurePolicy())
    assert hidden == {("mode", "b"), ("mode", "c")}
    assert withheld == {("mode", "b")}  # two seizures: the label alone tells of them


def test_a_quantity_dominated_by_one_seizure_is_suppressed():
    """p% rule (p = 10): 10 seizures, 1,000 kg in one, 1 kg in each other: the second largest's
    reporter knows the largest within 0.8%."""
    big = cell(10, 3, kg=100.9)  # 1,009 kg in all
    assert dominated(big, {"kg": [1000.0, 1.0]}, 10.0)
    assert not dominated(cell(10, 3, kg=10.0), {"kg": [12.0, 11.0]}, 10.0)
    hidden, withheld = primary(
        {"mode": {"sea": big}}, {("mode", "sea"): {"kg": [1000.0, 1.0]}}, DisclosurePolicy()
    )
    assert hidden == {("mode", "sea")} and not withheld


def test_partitions_are_the_tables_with_totals():
    assert {"mode", "member", "commodity", "route"} <= PARTITIONS
    assert "detection" not in PARTITIONS  # a seizure may have several detection methods


def test_a_change_of_a_few_seizures_is_flagged_as_not_significant():
    """The exact conditional test of two Poisson counts, checked against values worked by hand:
    4 against 2 seizures, the sum 6 binomial (6, 1/2): P(X <= 2) = 22/64, two-sided 0.6875;
    10 against 20: 0.0987 (R's binom.test(10, 30) gives 0.09874); 23 against 2: 1.9e-5.
    "+100 %" from 2 to 4 is shown but not called significant; "+1,050 %" from 2 to 23 is."""
    assert change_p(4, 2) == pytest.approx(0.6875)
    assert change_p(2, 4) == pytest.approx(0.6875)
    assert change_p(10, 20) == pytest.approx(0.09874, abs=1e-5)
    assert change_p(23, 2) == pytest.approx(1.943e-5, rel=1e-3)
    assert change_p(0, 0) == change_p(7, 7) == 1.0
    # past 1,000 seizures the normal approximation: close to the exact sum, worked out here
    exact = 2 * sum(math.comb(1050, k) for k in range(501)) / 2**1050
    assert change_p(550, 500) == pytest.approx(exact, rel=0.02)
    rows = [RollupRow(202602, "mode", "sea", "JP", 4), RollupRow(202602, "mode", "air", "JP", 23)]
    before = [RollupRow(202601, "mode", "sea", "JP", 2), RollupRow(202601, "mode", "air", "KR", 2)]
    made = report(Period.parse("2026-02"), cells_of(rows, [202602]), cells_of(before, [202601]), {})
    air, sea = made["tables"]["mode"]
    assert sea["change_previous_pct"] == 100.0 and sea["change_previous_significant"] is False
    assert air["change_previous_pct"] == 1050.0 and air["change_previous_significant"] is True
    assert "change_year_pct" not in sea and "change_year_significant" not in sea
