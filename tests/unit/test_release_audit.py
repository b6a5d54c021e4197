"""The attacker's audit of published trend reports (gateway/rilo/release_audit.py): hand-built
reports whose intervals can be worked out on paper, and synthetic worlds whose every interval
must hold the true value."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.rilo.disclosure import Held, plan
from gateway.rilo.hub import cells_of_report, normalised
from gateway.rilo.release_audit import audit, describe, linked, periods_between
from gateway.rilo.synthetic import reports
from gateway.rilo.trends import Period, RollupRow, cells_of, report


def published(period: str, total: int, **tables: list[tuple[str, int | None]]) -> dict:
    """A report as the hub publishes it, with only the tables given (entries in their published
    order; ``None``: suppressed)."""
    return {
        "period": period,
        "total_cases": total,
        "tables": {
            name.replace("_", "-"): [
                {"value": value, "suppressed": True}
                if cases is None
                else {"value": value, "suppressed": False, "cases": cases}
                for value, cases in entries
            ]
            for name, entries in tables.items()
        },
    }


def intervals(found) -> dict[tuple[str, str, str], tuple[float, float]]:
    return {(f.period, f.table, f.label): (round(f.lo, 6), round(f.hi, 6)) for f in found.findings}


def test_a_quarter_and_its_months_pin_every_suppressed_cell_worked_by_hand():
    """Truth: January sea 5, air 3 (one member), road 2; February sea 5, air 4, rail 1 (air
    suppressed as the complement); March air 4, sea 4; the quarter sea 14, air 11, road 2, rail 1.

    By hand: road is only in January and rail only in February, so road(Q1) = road(Jan) = r and
    rail(Q1) = rail(Feb) = 3 - r (the quarter's total 28 less 14 and 11). The quarter lists road
    before rail and "road" sorts after "rail", so road has at least one more: r >= 4 - r, r >= 2;
    rail has one at least: r <= 2. So r = 2, rail = 1, air(Jan) = 10 - 5 - 2 = 3 and
    air(Feb) = 10 - 5 - 1 = 4: all six suppressed cells, exactly."""
    found = audit(
        [
            published("2026-01", 10, mode=[("sea", 5), ("air", None), ("road", None)]),
            published("2026-02", 10, mode=[("sea", 5), ("air", None), ("rail", None)]),
            published("2026-03", 8, mode=[("air", 4), ("sea", 4)]),
            published(
                "2026-Q1", 28, mode=[("sea", 14), ("air", 11), ("road", None), ("rail", None)]
            ),
        ],
        truth={
            ("2026-01", "mode", "air"): 3,
            ("2026-01", "mode", "road"): 2,
            ("2026-02", "mode", "air"): 4,
            ("2026-02", "mode", "rail"): 1,
            ("2026-Q1", "mode", "road"): 2,
            ("2026-Q1", "mode", "rail"): 1,
        },
    )
    assert intervals(found) == {
        ("2026-01", "mode", "air"): (3, 3),
        ("2026-01", "mode", "road"): (2, 2),
        ("2026-02", "mode", "air"): (4, 4),
        ("2026-02", "mode", "rail"): (1, 1),
        ("2026-Q1", "mode", "road"): (2, 2),
        ("2026-Q1", "mode", "rail"): (1, 1),
    }
    assert len(found.disclosed) == 6
    assert all(f.lo == f.true_value == f.hi for f in found.findings)
    assert {"cell", "shown", "order", "partition", "total"} <= set(found.relations)
    assert describe(found.disclosed)[0] == "2026-01\tmode\tair\t[3, 3]\ttrue 3"
    assert found.as_dict()["cells"][0]["verdict"] == "disclosed"


def test_two_suppressed_cells_sharing_a_remainder_keep_one_seizure_of_doubt():
    """sea 10 shown, air and road suppressed, total 14: air + road = 4, air >= road ("air" sorts
    first), both >= 1: air in [2, 3], road in [1, 2]. Protected at the default width 1; disclosed
    when 1.5 is asked, or 60% of a true 2."""
    reports_ = [published("2026-01", 14, mode=[("sea", 10), ("air", None), ("road", None)])]
    found = audit(reports_)
    assert intervals(found) == {
        ("2026-01", "mode", "air"): (2, 3),
        ("2026-01", "mode", "road"): (1, 2),
    }
    assert found.disclosed == ()
    assert len(audit(reports_, protection=1.5).disclosed) == 2
    truth = {("2026-01", "mode", "air"): 2, ("2026-01", "mode", "road"): 2}
    relative = audit(reports_, relative=0.6, truth=truth)
    assert [f.label for f in relative.disclosed] == ["air", "road"]
    assert relative.findings[0].required == pytest.approx(1.2)


def test_a_category_less_its_shown_commodities_gives_the_hidden_one():
    found = audit(
        [
            published(
                "2026-01",
                9,
                category=[("drugs", 9)],
                commodity=[("drugs/cocaine", 4), ("drugs/heroin", 3), ("drugs/mdma", None)],
            )
        ]
    )
    assert intervals(found) == {("2026-01", "commodity", "drugs/mdma"): (2, 2)}
    assert found.relations["category"] >= 1


def test_commodity_and_corridor_tables_are_the_margins_of_commodity_x_corridor():
    """Corridor MM>JP shows 5, its cocaine cell shows 3: the methamphetamine cell is 2; the
    commodity table shows methamphetamine 6: its other corridor is 4; route gives the same."""
    found = audit(
        [
            published(
                "2026-01",
                10,
                commodity=[("drugs/methamphetamine", 6), ("drugs/cocaine", 4)],
                corridor=[("MM>JP", 5), ("LA>KR", None), ("PE>KR", None)],
                commodity_route=[
                    ("methamphetamine|LA>KR", None),
                    ("cocaine|MM>JP", 3),
                    ("methamphetamine|MM>JP", None),
                    ("cocaine|PE>KR", None),
                ],
                route=[("MM>JP", 5), ("LA>TH>KR", None), ("PE>US>KR", None)],
            )
        ]
    )
    got = intervals(found)
    assert got[("2026-01", "commodity-route", "methamphetamine|MM>JP")] == (2, 2)
    assert got[("2026-01", "commodity-route", "methamphetamine|LA>KR")] == (4, 4)
    assert got[("2026-01", "commodity-route", "cocaine|PE>KR")] == (1, 1)
    assert got[("2026-01", "corridor", "LA>KR")] == (4, 4)
    assert got[("2026-01", "route", "PE>US>KR")] == (1, 1)
    assert len(found.disclosed) == len(found.findings) == 7


def test_a_year_is_the_sum_of_its_quarters():
    quarters = [
        published(f"2026-Q{q}", 10, mode=[("sea", 10 - q), ("air", None)]) for q in (1, 2, 3)
    ]
    quarters.append(published("2026-Q4", 10, mode=[("sea", 10)]))
    year = published("2026", 40, mode=[("sea", 34), ("air", 6)])
    found = audit([*quarters, year])
    assert intervals(found) == {
        ("2026-Q1", "mode", "air"): (1, 1),
        ("2026-Q2", "mode", "air"): (2, 2),
        ("2026-Q3", "mode", "air"): (3, 3),
    }


def test_a_value_never_named_is_in_no_named_category():
    """Truth: January cannabis 3 and heroin 2 (its label withheld); February heroin 4; March
    methamphetamine 5, cannabis 4 and two seizures of two other categories, their labels
    withheld; the quarter heroin 6. By hand: January's heroin and March's sum to 6 - 4 = 2;
    March's drugs (9) are methamphetamine, cannabis and heroin, as the two withheld categories
    are not drugs (a value never named is not "drugs"), so March had no heroin and January had
    2. An attack that let the withheld categories hold drugs gave [0, 2] and missed it."""
    months = [
        published("2026-01", 5, category=[("drugs", 5)], commodity=[("drugs/cannabis", 3)]),
        published("2026-02", 4, category=[("drugs", 4)], commodity=[("drugs/heroin", 4)]),
        published(
            "2026-03",
            11,
            category=[("drugs", 9)],
            commodity=[("drugs/methamphetamine", 5), ("drugs/cannabis", 4)],
        ),
        published(
            "2026-Q1",
            20,
            commodity=[
                ("drugs/cannabis", 7),
                ("drugs/heroin", 6),
                ("drugs/methamphetamine", 5),
            ],
        ),
    ]
    for report_, withheld in zip(
        months,
        [{"commodity": 1}, {}, {"category": 2, "commodity": 2}, {"commodity": 2}],
        strict=True,
    ):
        report_.update(withheld=withheld, order="shown-by-cases")
    found = audit(months, truth={("2026-01", "commodity", "drugs/heroin"): 2}, protection=2)
    (finding,) = found.disclosed
    assert (finding.period, finding.label, finding.withheld) == ("2026-01", "drugs/heroin", True)
    assert (round(finding.lo, 6), round(finding.hi, 6)) == (2, 2)


def test_a_release_quoting_a_total_of_a_month_since_revised_is_no_contradiction():
    """January was released with 5 seizures; a late report made it 6 (revision 1), as the
    quarter says. February's release, made after, quotes the total of the January release the
    audience holds (5): a restatement of that release, not a figure of revision 1, which
    would contradict the quarter (16 = 6 + 5 + 5)."""
    ledger = [
        published("2026-01", 5, mode=[("sea", 5)]),
        published("2026-Q1", 16, mode=[("sea", 16)]),
        published("2026-02", 5, mode=[("sea", 5)]),
        published("2026-03", 5, mode=[("sea", 5)]),
    ]
    for number, body in enumerate(ledger, 1):
        body["release"] = {"id": number, "released_at": "2026-04-01T00:00:00+00:00"}
        if number > 1:
            body["revisions"] = {"2026-01": 1}
    ledger[2]["total_cases_previous"] = 5
    assert audit(ledger).relations["total"] == 4


def test_only_releases_linked_by_shared_months_enter_a_plan():
    """April's release shares no month with January, February or their quarter: none of them
    can bound its cells or be narrowed by it. March's shares its month with the quarter, and
    the quarter its months with January and February: all of them are linked."""
    january, february = published("2026-01", 5, mode=[]), published("2026-02", 5, mode=[])
    quarter = published("2026-Q1", 15, mode=[])
    for number, body in enumerate((january, february, quarter), 1):
        body["release"] = {"id": number}
    april, march = published("2026-04", 5, mode=[]), published("2026-03", 5, mode=[])
    april.update(release={"id": 4}, total_cases_previous=5)
    assert linked([january, february, quarter], april) == [april]
    assert linked([january, february, quarter], march) == [january, february, quarter, march]
    # a report that is not a release quotes a figure of its own for the month before
    exact = {**published("2026-03", 5, mode=[]), "total_cases_previous": 5}
    assert linked([january, february], exact) == [february, exact]


def test_contradictory_reports_are_refused():
    with pytest.raises(ValueError, match="contradict"):
        audit([published("2026-01", 3, mode=[("sea", 5), ("air", None)])])


def test_periods_wholly_in_the_range():
    labels = [p.label for p in periods_between("2025-11", "2026-07")]
    assert labels == [
        "2025-11",
        "2025-12",
        *(f"2026-{m:02d}" for m in range(1, 8)),
        "2026-Q1",
        "2026-Q2",
    ]
    assert "2026" in [p.label for p in periods_between("2026-01", "2026-12")]
    with pytest.raises(ValueError):
        periods_between("2026-05", "2026-01")
    with pytest.raises(ValueError):
        periods_between("2026-Q1", "2026-06")


@pytest.mark.parametrize("seed", [1, 2])
def test_every_interval_of_planned_releases_holds_the_truth_and_none_is_narrow(seed):
    """Releases planned by gateway/rilo/disclosure.py, for three months and their quarter one
    after another, over a small world (many rare cells): the audit over all four finds every
    interval holding the true count and none narrower than the protection, while the same
    figures suppressed one table at a time give cells away."""
    generated = list(
        reports(
            60, seed=seed, members=("JP", "KR", "TH"), start=date(2026, 1, 1), end=date(2026, 3, 31)
        )
    )
    rows = []
    for made in generated:
        month = int(made["seizure_date"][:4]) * 100 + int(made["seizure_date"][5:7])
        unit, amount = normalised(made["quantity"])
        member = made["reporting_administration"]
        for dimension, value in cells_of_report(made):
            rows.append(RollupRow(month, dimension, value, member, 1, **{unit: amount}))
    periods = [Period.parse(p) for p in ("2026-01", "2026-02", "2026-03", "2026-Q1")]
    held: list = []
    truth = {}
    amounts: dict = {}
    for number, period in enumerate(periods, 1):
        now = cells_of(rows, period.months)
        planned = plan(
            period,
            now,
            {},
            audience="members",
            release={"id": number, "released_at": "2026-04-01T00:00:00+00:00"},
            held=held,
            revisions={},
            earlier={},
        )
        held.append(Held(planned.body, planned.truth, planned.amounts))
        key = f"{period.label}#{number}"
        truth.update({(key, d, v): n for (d, v), n in planned.truth.items()})
        for unit, cells in planned.amounts.items():
            amounts.setdefault(unit, {}).update({(key, d, v): a for (d, v), a in cells.items()})
        assert all(n == now[d][v].cases for (d, v), n in planned.truth.items())
    bodies = [h.body for h in held]
    found = audit(bodies, truth=truth, protection=2)
    assert found.findings and not found.disclosed
    for finding in found.findings:
        assert finding.lo - 1e-6 <= finding.true_value <= finding.hi + 1e-6, finding
    # each amount of a sensitive cell stays uncertain by 10% of itself (the p of the p% rule)
    assert {"kg", "pieces"} <= set(amounts)
    for unit, cells in amounts.items():
        weighed = audit(bodies, protection=0, relative=0.1, truth=cells, measure=unit)
        assert weighed.findings and not weighed.disclosed, weighed.disclosed[:3]
        for finding in weighed.findings:
            assert finding.lo - 1e-3 <= finding.true_value <= finding.hi + 1e-3, finding
    naive = []
    for period in periods:
        exact = report(period, cells_of(rows, period.months), {}, {})
        exact["new_commodity_routes"] = []  # (no periods before were given)
        del exact["total_cases_previous"], exact["total_cases_year_earlier"]
        for table in exact["tables"].values():
            for entry in table:
                if entry["cases"] < 3 or entry["members"] < 2:
                    value = entry["value"]
                    entry.clear()
                    entry.update(value=value, suppressed=True)
        naive.append(exact)
    assert audit(naive).disclosed
    assert audit(naive, protection=0, relative=0.1, measure="kg").disclosed
