"""The attacker's audit (issue 21, item 4) against a real hub, on both databases.

These tests pin down today's disclosure control: the hub's published summaries GIVE AWAY
suppressed cells (a quarter less its shown months, a category less its shown commodities, the
commodity and corridor tables as the margins of commodity x corridor, the table order around a
suppressed cell). They pass now because the audit finds disclosures. When a later change brings
proper disclosure control, flip them: the audit must then find none (and the CLI exit 0), while
every interval still holds the true value.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.demo import hub_registry
from gateway.rilo.release_audit import audit, periods_between
from gateway.rilo.synthetic import reports
from gateway.store.models import HubReport
from gateway.trust.keys import SigningKey, generate_jwk, write_private_jwk
from tests.functional.test_rilo_hub import feed

MEMBERS = ("JP", "KR", "TH", "ID")


@pytest.fixture
def hub(settings, tmp_path):
    key = generate_jwk()
    write_private_jwk(settings.keys_dir / "RILO-AP.private.jwk", key)
    hub_settings = replace(settings, gateway_id="RILO-AP", registry_dir=hub_registry(tmp_path))
    services = build_services(hub_settings)
    with TestClient(create_app(hub_settings, services)) as client:
        yield {"client": client, "services": services, "key": SigningKey.from_jwk(key)}
    services.database.dispose()


def world() -> list[dict]:
    """A quarter of members' reports (a share sent by both members of a seizure), every corridor
    reported by its destination member alone, and one seizure of a kind in February: a single
    rail seizure of antiquities."""
    made = list(
        reports(
            100,
            seed=21,
            members=MEMBERS,
            start=date(2026, 1, 1),
            end=date(2026, 3, 31),
            twice=0.15,
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


def truth_from_the_stored_reports(services, periods) -> dict[tuple[str, str, str], int]:
    """Plain Python over the reports the hub holds and counts (not duplicates, not withdrawn):
    each period's seizures per table value."""
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
    truth: dict[tuple[str, str, str], int] = {}
    for period in periods:
        counts: Counter[tuple[str, str]] = Counter()
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
                counts.update(values)
        truth.update({(period.label, d, v): n for (d, v), n in counts.items()})
    return truth


def test_release_audit_recovers_suppressed_cells_of_todays_summaries(hub, signing_keys):
    """Today's summaries for January, February, March and the first quarter, as members get
    them: the audit pins cells the hub suppressed, and every interval it reports holds the true
    value recomputed from the stored reports (the auditor is right). Flip the expectation of
    disclosure when proper disclosure control lands."""
    feed(hub, signing_keys, world())
    services = hub["services"]
    periods = periods_between("2026-01", "2026-03")
    assert [p.label for p in periods] == ["2026-01", "2026-02", "2026-03", "2026-Q1"]
    published = [services.hub.trend_report(p) for p in periods]
    truth = truth_from_the_stored_reports(services, periods)
    found = audit(published, truth=truth)
    suppressed = {
        (r["period"], d, e["value"])
        for r in published
        for d, table in r["tables"].items()
        for e in table
        if e["suppressed"]
    }
    assert {(f.period, f.table, f.label) for f in found.findings} == suppressed
    for finding in found.findings:
        assert finding.true_value is not None
        assert finding.lo - 1e-6 <= finding.true_value <= finding.hi + 1e-6, finding
    assert found.disclosed, "today's summaries are expected to give suppressed cells away"
    exact = [f for f in found.disclosed if f.hi - f.lo < 1e-6]
    assert exact and all(round(f.lo) == f.true_value for f in exact)
    # the lone rail seizure: suppressed, and recovered
    lone = {(f.period, f.table, f.label): f for f in found.findings}[("2026-02", "mode", "rail")]
    assert lone.disclosed and lone.true_value == 1
    tables = {f.table for f in found.disclosed}
    assert {"corridor", "commodity-route"} <= tables
    print(f"{len(found.disclosed)} of {len(found.findings)} suppressed cells disclosed")


def test_cli_audit_exits_1_naming_the_disclosed_cells(hub, signing_keys):
    """``gateway hub audit-release`` on today's hub: exit 1, each disclosed cell named with its
    period, table, value and interval (flip to exit 0 with proper disclosure control)."""
    from gateway.cli import main

    feed(hub, signing_keys, world())
    settings = hub["services"].settings
    env = {
        "GATEWAY_GATEWAY_ID": "RILO-AP",
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEYS_DIR": str(settings.keys_dir),
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
    }
    command = ["hub", "audit-release", "--audience", "member", "--from", "2026-02"]
    ran = CliRunner().invoke(main, [*command, "--to", "2026-02"], env=env)
    assert ran.exit_code == 1, ran.output
    lines = ran.output.splitlines()
    # alone, February pins the lone rail seizure to less than one seizure's width
    (rail,) = [line for line in lines if line.startswith("2026-02\tmode\trail\t")]
    assert rail.startswith("2026-02\tmode\trail\t[1, ")
    assert lines[-1].endswith("suppressed cells disclosed in 1 member reports (protection 1)")
    as_json = CliRunner().invoke(main, [*command, "--to", "2026-02", "--json"], env=env)
    assert as_json.exit_code == 1
    body = json.loads(as_json.output)
    assert body["audience"] == "member" and body["disclosed"] >= 1
    rail = [c for c in body["cells"] if (c["table"], c["label"]) == ("mode", "rail")]
    assert len(rail) == 1 and rail[0]["period"] == "2026-02"
    assert rail[0]["interval"][0] == 1.0 and rail[0]["interval"][1] < 2
    assert rail[0]["verdict"] == "disclosed" and rail[0]["true_value"] is None
    refused = CliRunner().invoke(main, [*command, "--to", "2026-01"], env=env)
    assert refused.exit_code == 2 and "after" in refused.output
