"""The attacker's audit (issue 21, items 3 and 4) against a real hub's releases, on both
databases.

Before the release ledger, the published summaries gave suppressed cells away (a quarter less
its shown months, a category less its shown commodities, the commodity and corridor tables as
the margins of commodity x corridor, the table order around a suppressed cell: 536 of 552
suppressed cells of this world). Now every release is planned against everything released
before, and the same attack, run over every release of the ledger, finds nothing narrower than
the protection, while every interval it reports still holds the true value recomputed from the
stored reports.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.rilo.release_audit import audit, in_release_order, periods_between
from gateway.rilo.synthetic import REAL_WORLD, reports
from gateway.rilo.trends import Period
from gateway.store.models import AuditEvent, HubReport
from tests.conftest import PASSWORD
from tests.functional.test_rilo_hub import feed, hub_gateway, member

MEMBERS = ("JP", "KR", "TH", "ID")


@pytest.fixture
def hub(settings, tmp_path):
    yield from hub_gateway(settings, tmp_path)


def world(count: int = 100, end: date = date(2026, 3, 31)) -> list[dict]:
    """Members' reports from January, with the real records' shapes: a share sent by both
    members of a seizure, most corridors reported by their destination member alone, bursts of
    identical small seizures by one member on one day at different offices, unknown
    departures; and one seizure of a kind in February: a single rail seizure of antiquities."""
    made = list(
        reports(
            count,
            seed=21,
            members=MEMBERS,
            start=date(2026, 1, 1),
            end=end,
            twice=0.15,
            **REAL_WORLD,
        )
    )
    lone = json.loads(json.dumps(made[0]))
    lone.update(report_id="TH-LONE-1", reporting_administration="TH", seizure_date="2026-02-11")
    lone["commodity"] = {"category": "cultural-heritage", "type": "antiquities"}
    lone["quantity"] = {"amount": 3.0, "unit": "pieces"}
    lone["transport"] = {"mode": "rail"}
    lone["route"] = {"origin": "KH", "departure": "LA", "destination": "TH"}
    lone["markings"] = {**lone["markings"], "originator": "TH"}
    return [*made, lone]


#: the units members report in, as the amount the hub keeps: written out here, not read from
#: the hub, so that the recomputation is independent
AS_KEPT = {"kg": ("kg", 1), "g": ("kg", 0.001), "l": ("litres", 1), "ml": ("litres", 0.001)}


def truth_from_the_stored_reports(
    services, periods, measure: str = "cases"
) -> dict[tuple[str, str, str], float]:
    """Plain Python over the reports the hub holds and counts (not duplicates, not withdrawn):
    (period, table, value) -> seizures, or (``measure``: a unit) the amount in that unit."""
    with services.database.transaction() as session:
        documents = [
            row.document
            for row in session.execute(
                select(HubReport).where(
                    HubReport.duplicate_of.is_(None), HubReport.withdrawn_at.is_(None)
                )
            ).scalars()
        ]
    by_month: dict[int, list[dict]] = defaultdict(list)
    for document in documents:
        day = date.fromisoformat(document["seizure_date"])
        by_month[day.year * 100 + day.month].append(document)
    truth: dict[tuple[str, str, str], float] = {}
    for period in periods:
        counts: Counter[tuple[str, str]] = Counter()  # (amounts, for a unit)
        for month in period.months:
            for document in by_month[month]:
                route = document["route"]
                ends = f"{route.get('origin', '??')}>{route.get('destination', '??')}"
                chain = [route.get("origin", "??"), route.get("departure", "??")]
                chain += [*route.get("transit", []), route.get("destination", "??")]
                kind = document["commodity"]
                values = [
                    ("commodity", f"{kind['category']}/{kind['type']}"),
                    ("category", kind["category"]),
                    ("route", ">".join(chain)),
                    ("corridor", ends),
                    ("mode", document["transport"]["mode"]),
                    ("member", document["reporting_administration"]),
                    ("commodity-route", f"{kind['type']}|{ends}"),
                ]
                values += [("detection", d) for d in set(document["detection_methods"])]
                values += [("concealment", c) for c in set(document["concealment_methods"])]
                quantity = document["quantity"]
                unit, factor = AS_KEPT.get(quantity["unit"], (quantity["unit"], 1))
                if unit in ("sticks", "items", "ampoules"):
                    unit = "pieces"
                if measure == "cases":
                    counts.update(values)
                elif unit == measure:
                    for value in values:
                        counts[value] += quantity["amount"] * factor
        truth.update({(period.label, d, v): n for (d, v), n in counts.items()})
    return truth


def release_all(services, periods, audience: str = "members") -> dict[str, dict]:
    """Release every period to the audience, as an analyst would, in order."""
    bodies = {}
    for period in periods:
        done = services.releases.release(
            period, audience, actor="analyst:lee", now=datetime.now(UTC)
        )
        bodies[period.label] = done.body
    return bodies


def check_the_attack_against_the_truth(services, periods, found) -> None:
    """Every interval the audit reports, of seizures or of an amount, holds the value
    recomputed from the stored reports."""
    truths = {
        measure: truth_from_the_stored_reports(services, periods, measure)
        for measure in {f.measure for f in found.findings}
    }
    assert "cases" in truths and "kg" in truths
    for finding in found.findings:
        true_value = truths[finding.measure].get((finding.period, finding.table, finding.label), 0)
        assert finding.true_value == pytest.approx(true_value, abs=1e-6), finding
        assert finding.lo - 1e-3 <= true_value <= finding.hi + 1e-3, finding


def test_releases_of_three_months_and_their_quarter_give_no_suppressed_cell_away(hub, signing_keys):
    """The world that gave 536 of 552 suppressed cells away: January, February, March and the
    first quarter released to members, one after another. The attack over all four finds no
    cell narrower than the protection, every interval holds the truth, and the lone rail
    seizure is never even named."""
    feed(hub, signing_keys, world())
    services = hub["services"]
    periods = periods_between("2026-01", "2026-03")
    assert [p.label for p in periods] == ["2026-01", "2026-02", "2026-03", "2026-Q1"]
    bodies = release_all(services, periods)
    found = services.releases.audit()
    assert found.findings and not found.disclosed, [f for f in found.disclosed]
    check_the_attack_against_the_truth(services, periods, found)
    assert found.protection == 2.0
    for body in bodies.values():
        assert "member" not in body["tables"]
        assert all(e["value"] != "rail" for e in body["tables"]["mode"])
        assert body["order"] == "shown-by-cases" and body["audience"] == "members"
    assert bodies["2026-02"]["withheld"]["mode"] >= 1
    # shown figures are the true ones
    truth = truth_from_the_stored_reports(services, periods)
    shown = [
        (label, d, e)
        for label, body in bodies.items()
        for d, table in body["tables"].items()
        for e in table
        if not e["suppressed"]
    ]
    assert shown
    kg = truth_from_the_stored_reports(services, periods, "kg")
    for label, d, e in shown:
        assert e["cases"] == truth[(label, d, e["value"])] >= 3 and e["members"] >= 2
        assert e["kg"] == pytest.approx(kg.get((label, d, e["value"]), 0), abs=1e-3)


def test_a_year_of_monthly_quarterly_and_yearly_releases_gives_no_suppressed_cell_away(
    hub, signing_keys
):
    """Issue 21's bar: twelve months, four quarters and the year released to members in the
    order a hub would (each period as its last month closes), every one planned against all
    before it. The attack over all seventeen finds no sensitive cell narrower than the
    protection, every interval holds the truth recomputed from the stored reports, nothing
    was left unprotected, and the year still shows figures (it is not all suppressed)."""
    feed(hub, signing_keys, world(400, end=date(2026, 12, 28)))
    services = hub["services"]
    periods = in_release_order(periods_between("2026-01", "2026-12"))
    assert [p.label for p in periods][:4] == ["2026-01", "2026-02", "2026-03", "2026-Q1"]
    assert [p.label for p in periods][-3:] == ["2026-12", "2026-Q4", "2026"]
    released = [
        services.releases.release(p, "members", actor="analyst:lee", now=datetime.now(UTC))
        for p in periods
    ]
    assert all(not r.inherited for r in released), [r.inherited for r in released]
    found = services.releases.audit()
    assert len(found.findings) > 1000 and not found.disclosed, found.disclosed[:5]
    check_the_attack_against_the_truth(services, periods, found)
    year = released[-1].body
    shown = [e for t in year["tables"].values() for e in t if not e["suppressed"]]
    assert len(shown) >= 10
    truth = truth_from_the_stored_reports(services, periods)
    for d, table in year["tables"].items():
        for e in table:
            if not e["suppressed"]:
                assert e["cases"] == truth[("2026", d, e["value"])]


def test_the_same_attack_on_exact_figures_under_one_table_suppression_wins(hub, signing_keys):
    """The audit is not toothless: the analysts' exact figures, suppressed table by table as
    the hub did before the ledger (few seizures or one member), give cells away at once."""
    feed(hub, signing_keys, world())
    services = hub["services"]
    periods = periods_between("2026-01", "2026-03")
    naive = []
    for period in periods:
        exact = services.hub.trend_report(period)
        for table in exact["tables"].values():
            for entry in table:
                if entry["cases"] < 3 or entry["members"] < 2:
                    for name in list(entry):
                        if name != "value":
                            del entry[name]
                    entry["suppressed"] = True
        naive.append(exact)
    found = audit(naive)
    assert len(found.disclosed) > 50


def test_a_late_report_makes_a_revision_and_the_differencing_finds_nothing(hub, signing_keys):
    """A January report arriving after January was released: the quarter's release says
    January's figures are a revision (1), and the attack treats them as other figures."""
    made = world()
    late = next(r for r in made if r["seizure_date"].startswith("2026-01"))
    on_time = [r for r in made if r is not late]
    feed(hub, signing_keys, on_time)
    services = hub["services"]
    january, quarter = Period.parse("2026-01"), Period.parse("2026-Q1")
    first = release_all(services, [january])["2026-01"]
    assert first["revisions"]["2026-01"] == 0
    feed(hub, signing_keys, [late])
    second = release_all(services, [quarter])["2026-Q1"]
    assert second["revisions"] == {**second["revisions"], "2026-01": 1, "2026-02": 0}
    assert not services.releases.audit().disclosed
    # February, released after the quarter, quotes January's total as the January release
    # gave it (revision 0): a restatement, not a figure of January's revision 1
    third = release_all(services, [Period.parse("2026-02")])["2026-02"]
    assert third["total_cases_previous"] == first["total_cases"]
    assert third["revisions"]["2026-01"] == 1
    found = services.releases.audit()
    assert not found.disclosed
    for finding in found.findings:  # the truth the ledger kept lies in every interval
        assert finding.lo - 1e-6 <= finding.true_value <= finding.hi + 1e-6, finding


def test_members_get_the_newest_release_and_nothing_before_one(hub, signing_keys):
    """GET /v1/hub/summaries serves the ledger: 404 before any release, then the release as it
    was sent, signed."""
    feed(hub, signing_keys, world())
    th = member(hub, signing_keys, "TH")
    before = th.get("/v1/hub/summaries?period=2026-Q1")
    assert before.status == 404 and "released" in before.json()["detail"]
    sent = release_all(hub["services"], [Period.parse("2026-Q1")])["2026-Q1"]
    answer = th.get("/v1/hub/summaries?period=2026-Q1")
    assert answer.status == 200 and answer.signature is not None
    assert answer.json() == sent
    assert "notable_seizures" not in answer.json() and b"by_member" not in answer.body


def cli_env(services) -> dict[str, str]:
    settings = services.settings
    return {
        "GATEWAY_GATEWAY_ID": "RILO-AP",
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEYS_DIR": str(settings.keys_dir),
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
        "GATEWAY_CLI_SESSION_FILE": str(settings.keys_dir.parent / "cli-session.json"),
    }


def test_cli_releases_as_the_signed_in_analyst_and_the_audit_exits_0(hub, signing_keys):
    """`gateway hub release` needs a signed-in analyst, records the release under that name
    (ledger and audit log); `gateway hub audit-release` then attacks the ledger: exit 0."""
    from gateway.cli import main

    feed(hub, signing_keys, world())
    env = cli_env(hub["services"])
    refused = CliRunner().invoke(main, ["hub", "release", "2026-02"], env=env)
    assert refused.exit_code != 0 and "login" in refused.output
    login = ["login", "lee", "--password-stdin"]
    assert CliRunner().invoke(main, login, env=env, input=PASSWORD + "\n").exit_code == 0
    done = CliRunner().invoke(main, ["hub", "release", "2026-02"], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.startswith("release 1: 2026-02 to members;")
    as_json = CliRunner().invoke(main, ["hub", "release", "2026-Q1", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["release"]["id"] == 2
    listed = CliRunner().invoke(main, ["hub", "releases"], env=env)
    assert "analyst:lee" in listed.output and listed.output.rstrip().endswith("2 releases")
    audited = CliRunner().invoke(main, ["hub", "audit-release"], env=env)
    assert audited.exit_code == 0, audited.output
    assert audited.output.rstrip().endswith("in 2 releases (protection 2)")
    bad = CliRunner().invoke(main, ["hub", "release", "2026-Q5"], env=env)
    assert bad.exit_code == 2 and "is not a period" in bad.output
    with hub["services"].database.transaction() as session:
        events = (
            session.execute(
                select(AuditEvent).where(AuditEvent.tag == "analyst:trend-report:released")
            )
            .scalars()
            .all()
        )
    assert [e.actor for e in events] == ["analyst:lee", "analyst:lee"]
