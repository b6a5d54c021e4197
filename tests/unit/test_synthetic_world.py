"""The synthetic world (gateway/rilo/synthetic.py) has the shapes the members' real records
showed (issue 21), at the rates the hub's demonstration, benchmarks and release tests use
(REAL_WORLD): if the generator lost one, the tests built on it would stop testing it."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date

from gateway.rilo.synthetic import REAL_WORLD, reports

MEMBERS = ("JP", "KR", "TH", "ID")


def year(count: int = 400, **shapes: float) -> list[dict]:
    return list(
        reports(
            count,
            seed=21,
            members=MEMBERS,
            start=date(2026, 1, 1),
            end=date(2026, 12, 28),
            twice=0.15,
            **shapes,
        )
    )


def test_a_year_of_the_real_world_has_every_awkward_shape():
    made = year(**REAL_WORLD)
    # many identical small seizures by one member on one day, each at another office
    same: dict[tuple, list[dict]] = defaultdict(list)
    for r in made:
        key = (r["reporting_administration"], r["seizure_date"], r["commodity"]["type"])
        same[(*key, r["quantity"]["amount"], r["quantity"]["unit"])].append(r)
    bursts = [group for group in same.values() if len(group) >= 3]
    assert len(bursts) >= 3
    offices = [{json.dumps(r["office"], sort_keys=True) for r in group} for group in bursts]
    assert all(len(o) == len(g) for o, g in zip(offices, bursts, strict=True))
    assert all(len({r["report_id"] for r in group}) == len(group) for group in bursts)
    # corridors reported by one member only, and corridors reported by two
    reporters: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in made:
        reporters[(r["route"]["origin"], r["route"]["destination"])].add(
            r["reporting_administration"]
        )
    assert sum(1 for who in reporters.values() if len(who) == 1) >= 10
    assert any(len(who) >= 2 for who in reporters.values())
    # departures the member does not know
    unknown = sum(1 for r in made if "departure" not in r["route"])
    assert 0.03 * len(made) <= unknown <= 0.3 * len(made)
    # months with a single seizure of a kind
    kinds = Counter((r["seizure_date"][:7], r["commodity"]["type"]) for r in made)
    assert sum(1 for n in kinds.values() if n == 1) >= 12


def test_the_plain_world_keeps_its_seizures_and_has_no_bursts():
    """Off by default: a seed's plain world has every departure of its inbound seizures and
    no burst (at most a seizure and its departure member's own report look alike)."""
    plain = year(200)
    assert all("departure" in r["route"] for r in plain if r["direction"] == "inbound")
    same = Counter(
        (
            r["reporting_administration"],
            r["seizure_date"],
            r["commodity"]["type"],
            r["quantity"]["amount"],
        )
        for r in plain
    )
    assert max(same.values()) <= 2  # at most a seizure and its departure member's report
