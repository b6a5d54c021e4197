"""The RILO A/P hub (issue 8): members' signed batches in, trend reports out.

The hub's gateway runs with its own registry view (itself as ``self``, Japan as a member). Every
figure of a trend report is checked against a plain re-computation over the generated reports.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.client.partner import PartnerClient
from gateway.demo import hub_registry
from gateway.rilo.synthetic import reports
from gateway.rilo.trends import Period
from gateway.store.models import HubReport
from gateway.trust.keys import PinnedKey, SigningKey, generate_jwk, write_private_jwk
from tests.conftest import PASSWORD, acting_headers, create_accounts

PROBLEMS = "https://customs.go.jp/gateway/problems/"
MEMBERS = ("JP", "KR", "TH", "ID")
UNITS = {
    "kg": ("kg", 1),
    "g": ("kg", 0.001),
    "l": ("litres", 1),
    "ml": ("litres", 0.001),
    "tablets": ("tablets", 1),
    "pieces": ("pieces", 1),
    "sticks": ("pieces", 1),
    "items": ("pieces", 1),
    "ampoules": ("pieces", 1),
}


@pytest.fixture
def hub(settings, tmp_path):
    yield from hub_gateway(settings, tmp_path)


def hub_gateway(settings, tmp_path):
    """The hub's gateway (its services, a test client, its signing key) until the test ends."""
    key = generate_jwk()
    write_private_jwk(settings.keys_dir / "RILO-AP.private.jwk", key)
    hub_settings = replace(settings, gateway_id="RILO-AP", registry_dir=hub_registry(tmp_path))
    services = build_services(hub_settings)
    create_accounts(services, {"lee": ("analyst",), "tanaka": ("officer",)})
    with TestClient(create_app(hub_settings, services)) as client:
        yield {"client": client, "services": services, "key": SigningKey.from_jwk(key)}
    services.database.dispose()


def member(hub, signing_keys, admin: str) -> PartnerClient:
    return PartnerClient(
        base_url="http://testserver",
        caller=admin,
        receiver="RILO-AP",
        key=signing_keys[admin],
        receiver_keys=[PinnedKey.from_jwk(hub["key"].pinned.public_jwk)],
        http=hub["client"],
    )


def sanitised(count: int, seed: int = 7) -> list[dict]:
    made = []
    for report in reports(
        count, seed=seed, members=MEMBERS, start=date(2025, 4, 1), end=date(2026, 9, 30), twice=0.15
    ):
        made.append(report)
    return made


def send_batch(client: PartnerClient, admin: str, batch: list[dict]):
    return client.send(
        "/v1/hub/seizure-report-batches",
        json.dumps({"member": admin, "reports": batch}).encode(),
        content_type="application/json",
        message_type="seizure-report-batch",
    )


def feed(hub, signing_keys, generated: list[dict]) -> None:
    by_member = defaultdict(list)
    for report in generated:
        by_member[report["reporting_administration"]].append(report)
    for admin, batch in by_member.items():
        for start in range(0, len(batch), 500):
            answer = send_batch(member(hub, signing_keys, admin), admin, batch[start : start + 500])
            assert answer.status == 202, answer.body


def size_band_by_hand(unit: str, amount: float) -> str:
    """Decades, written out: 1 kg is in "kg 1-10", 0.5 in "kg 0.1-1", 20,000 in ">=10000"."""
    bounds = ["0.01", "0.1", "1", "10", "100", "1000", "10000"]
    if amount < 0.01:
        return f"{unit} <0.01"
    below = [b for b in bounds if float(b) <= amount]
    above = [b for b in bounds if float(b) > amount]
    return f"{unit} {below[-1]}-{above[0]}" if above else f"{unit} >=10000"


def recompute(
    generated: list[dict], months: set[int], merged: frozenset[tuple[str, str]] = frozenset()
) -> dict:
    """Independently: every report is a seizure of its own, but for a copy of a report already
    counted (the same administration's report id) and those ``merged`` ((administration,
    report id) an analyst confirmed as a repeat of another administration's report)."""
    seen: set[tuple[str, str]] = set()
    counted = []
    for report in generated:
        unit, factor = UNITS[report["quantity"]["unit"]]
        amount = round(report["quantity"]["amount"] * factor, 6)
        which = (report["reporting_administration"], report["report_id"])
        if which in seen or which in merged:
            continue
        seen.add(which)
        day = date.fromisoformat(report["seizure_date"])
        if day.year * 100 + day.month in months:
            counted.append((report, unit, amount))
    cases: dict[str, Counter] = defaultdict(Counter)
    quantity: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    members: dict[str, dict] = defaultdict(lambda: defaultdict(set))
    by_member: dict[str, dict] = defaultdict(lambda: defaultdict(Counter))
    for report, unit, amount in counted:
        route = report["route"]
        chain = ">".join(
            [
                route.get("origin", "??"),
                route.get("departure", "??"),
                *route.get("transit", []),
                route.get("destination", "??"),
            ]
        )
        values = {
            "category": [report["commodity"]["category"]],
            "commodity": [f"{report['commodity']['category']}/{report['commodity']['type']}"],
            "mode": [report["transport"]["mode"]],
            "member": [report["reporting_administration"]],
            "route": [chain],
            "corridor": [f"{route.get('origin', '??')}>{route.get('destination', '??')}"],
            "detection": sorted(set(report["detection_methods"])),
            "concealment": sorted(set(report.get("concealment_methods", []))),
            "direction": [report["direction"]],
            "mode-commodity": [f"{report['transport']['mode']}|{report['commodity']['type']}"],
            "office": [report.get("office", {}).get("locode", "??")],
            "port": [f"{route.get('departure_port', '??')}>{route.get('arrival_port', '??')}"],
            "size": [size_band_by_hand(unit, amount)],
        }
        for dimension, items in values.items():
            for value in items:
                cases[dimension][value] += 1
                quantity[dimension][(value, unit)] += amount
                members[dimension][value].add(report["reporting_administration"])
                by_member[dimension][value][report["reporting_administration"]] += 1
    return {
        "cases": cases,
        "quantity": quantity,
        "members": members,
        "by_member": by_member,
        "total": len(counted),
    }


def test_every_figure_of_a_trend_report_matches_a_recomputation(hub, signing_keys):
    generated = sanitised(3000)
    feed(hub, signing_keys, generated)
    report = hub["services"].hub.trend_report(Period.parse("2026-Q2"))
    expected = recompute(generated, {202604, 202605, 202606})
    assert report["total_cases"] == expected["total"]
    checked = 0
    for dimension in (
        "category",
        "commodity",
        "mode",
        "member",
        "route",
        "detection",
        "concealment",
        "direction",
        "mode-commodity",
        "office",
        "port",
        "size",
    ):
        for cell in report["tables"][dimension]:
            value = cell["value"]
            assert value in expected["cases"][dimension]
            if cell["suppressed"]:
                continue
            assert cell["cases"] == expected["cases"][dimension][value]
            assert cell["members"] == len(expected["members"][dimension][value])
            assert cell["by_member"] == {
                m: n for m, n in sorted(expected["by_member"][dimension][value].items())
            }
            for unit in ("kg", "litres", "tablets", "pieces"):
                assert cell[unit] == pytest.approx(
                    expected["quantity"][dimension][(value, unit)], abs=1e-3
                )
            checked += 1
        assert {c["value"] for c in report["tables"][dimension]} == set(
            expected["cases"][dimension]
        )
    assert checked > 30
    assert len(report["tables"]["size"]) >= 4 and len(report["tables"]["office"]) > 10
    previous = recompute(generated, {202601, 202602, 202603})
    year_earlier = recompute(generated, {202504, 202505, 202506})
    assert report["total_cases_previous"] == previous["total"]
    assert report["total_cases_year_earlier"] == year_earlier["total"]
    changes = 0
    for dimension in ("category", "commodity", "mode", "member", "corridor", "detection"):
        for cell in report["tables"][dimension]:
            for name, other in (
                ("change_previous_pct", previous),
                ("change_year_pct", year_earlier),
            ):
                if name in cell:
                    before = other["cases"][dimension][cell["value"]]
                    assert cell[name] == round((cell["cases"] - before) / before * 100, 1)
                    changes += 1
    assert changes > 20
    shown_corridors = [c for c in report["tables"]["corridor"] if not c["suppressed"]]
    ranked = sorted(shown_corridors, key=lambda c: (-c["cases"], c["value"]))[:10]
    assert report["top_routes"] == ranked
    seen = {
        f"{r['commodity']['type']}|{r['route'].get('origin', '??')}>{r['route'].get('destination', '??')}"
        for r in generated
        if 202504 <= int(r["seizure_date"][:4]) * 100 + int(r["seizure_date"][5:7]) <= 202603
    }
    expected_new = [
        c
        for c in report["tables"]["commodity-route"]
        if not c["suppressed"] and c["value"] not in seen
    ]
    assert report["new_commodity_routes"] == expected_new


def test_the_same_seizure_from_two_members_is_a_candidate_counted_twice_until_confirmed(
    hub, signing_keys
):
    generated = sanitised(400)
    twice = [r for r in generated if r["report_id"].endswith("-X")]
    assert twice
    feed(hub, signing_keys, generated)
    with hub["services"].database.transaction() as session:
        held = session.scalar(select(func.count()).select_from(HubReport))
        duplicates = session.scalar(
            select(func.count()).select_from(HubReport).where(HubReport.duplicate_of.is_not(None))
        )
    assert held == len(generated)
    assert duplicates == 0  # candidates at most: every report counted until an analyst decides


def test_resent_batch_is_not_counted_again(hub, signing_keys):
    batch = [r for r in sanitised(200) if r["reporting_administration"] == "KR"]
    kr = member(hub, signing_keys, "KR")
    assert send_batch(kr, "KR", batch).status == 202
    before = hub["services"].hub.trend_report(Period.parse("2026"))
    assert send_batch(kr, "KR", batch).status == 202  # a new message with the same reports
    after = hub["services"].hub.trend_report(Period.parse("2026"))
    assert after == before


# --- refusals -----------------------------------------------------------------------------------


def test_batch_from_a_non_member_is_refused(hub, signing_keys):
    report = dict(sanitised(1)[0], reporting_administration="US")
    answer = send_batch(member(hub, signing_keys, "US"), "US", [report])
    assert answer.status == 403 and answer.json()["type"] == PROBLEMS + "forbidden"


def test_batch_with_personal_data_is_refused_naming_the_report(hub, signing_keys):
    batch = [r for r in sanitised(50) if r["reporting_administration"] == "KR"]
    batch[3] = dict(batch[3], persons=[{"role": "courier", "name": "Synthetic Person"}])
    answer = send_batch(member(hub, signing_keys, "KR"), "KR", batch)
    assert answer.status == 422 and "/reports/3" in answer.json()["detail"]
    assert "personal data" in answer.json()["detail"]
    with hub["services"].database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(HubReport)) == 0


def test_forwarded_report_keeps_its_provenance_and_counts_once(hub, signing_keys):
    """KR forwards TH's report (its originator allowed it); TH then sends its own: one seizure,
    two reports on record, the forwarder and the reporter both kept."""
    (report,) = [r for r in sanitised(50) if r["reporting_administration"] == "TH"][:1]
    assert send_batch(member(hub, signing_keys, "KR"), "KR", [report]).status == 202
    assert send_batch(member(hub, signing_keys, "TH"), "TH", [report]).status == 202
    with hub["services"].database.transaction() as session:
        held = session.execute(select(HubReport).order_by(HubReport.id)).scalars().all()
        kept = [(r.member, r.reported_by, r.duplicate_of is None) for r in held]
    assert kept == [("KR", "TH", True), ("TH", "TH", False)]


def test_invalid_report_in_a_batch_is_refused_naming_it(hub, signing_keys):
    batch = [r for r in sanitised(50) if r["reporting_administration"] == "KR"]
    batch[1] = {**batch[1], "quantity": {"amount": -1, "unit": "kg"}}
    answer = send_batch(member(hub, signing_keys, "KR"), "KR", batch)
    assert answer.status == 422 and answer.json()["detail"].startswith("/reports/1/quantity")


def test_batch_over_the_limit_is_refused(hub, signing_keys):
    batch = [r for r in sanitised(5000, seed=3) if r["reporting_administration"] == "KR"][:1001]
    assert len(batch) == 1001
    answer = send_batch(member(hub, signing_keys, "KR"), "KR", batch)
    assert answer.status == 422 and "at most 1000" in answer.json()["detail"]


# --- for analysts and members -------------------------------------------------------------------


def analyst_get(hub, path: str, officer: str = "lee"):
    return hub["client"].get(path, headers=acting_headers(hub["client"], officer))


def test_analysts_get_json_and_csv_and_others_do_not(hub, signing_keys):
    feed(hub, signing_keys, sanitised(600))
    as_json = analyst_get(hub, "/v1/hub/trends?period=2026-Q2")
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert body["period"] == "2026-Q2" and "notable_seizures" in body
    as_csv = analyst_get(hub, "/v1/hub/trends?period=2026-Q2&format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    shown = [r for r in rows if r["dimension"] == "category" and r["suppressed"] == "False"]
    assert {r["value"]: int(r["cases"]) for r in shown} == {
        c["value"]: c["cases"] for c in body["tables"]["category"] if not c["suppressed"]
    }
    # and the period's total, top corridors, new pairs and notable seizures, as the JSON has
    (total,) = [r for r in rows if r["dimension"] == "total"]
    assert (total["value"], int(total["cases"])) == ("2026-Q2", body["total_cases"])
    top = [(r["value"], int(r["cases"])) for r in rows if r["dimension"] == "top-corridor"]
    assert top == [(c["value"], c["cases"]) for c in body["top_routes"]] and top
    new = [r["value"] for r in rows if r["dimension"] == "new-commodity-route"]
    assert new == [c["value"] for c in body["new_commodity_routes"]]
    notable = [r for r in rows if r["dimension"] == "notable-seizure"]
    assert len(notable) == len(body["notable_seizures"]) > 0
    first = body["notable_seizures"][0]
    assert notable[0]["value"].startswith(f"{first['seizure_date']} {first['member']} ")
    assert analyst_get(hub, "/v1/hub/trends?period=2026-Q2", officer="tanaka").status_code == 403
    assert analyst_get(hub, "/v1/hub/trends?period=2026-Q7").status_code == 400


def test_monthly_series_match_a_recomputation_month_by_month(hub, signing_keys):
    """GET /v1/hub/series: 36 months by default, every month present (the eighteen before the
    first report say 0), the top values those with the most seizures over the range, and each
    month's seizures and kilograms as recomputed independently from the reports sent."""
    generated = sanitised(900)
    feed(hub, signing_keys, generated)
    answer = analyst_get(hub, "/v1/hub/series?table=commodity&last=2026-09&limit=3")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["table"], body["from"], body["to"]) == ("commodity", "2023-10", "2026-09")
    months = [y * 100 + m for y in (2023, 2024, 2025, 2026) for m in range(1, 13)][9:45]
    every = recompute(generated, set(months))["cases"]["commodity"]
    top = sorted(every, key=lambda v: (-every[v], v))[:3]
    assert [s["value"] for s in body["series"]] == top
    by_month = {m: recompute(generated, {m}) for m in months}
    for series in body["series"]:
        assert [m["month"] for m in series["months"]] == [
            f"{m // 100}-{m % 100:02d}" for m in months
        ]
        for month, figures in zip(months, series["months"], strict=True):
            expected = by_month[month]
            assert figures["cases"] == expected["cases"]["commodity"][series["value"]]
            kg = expected["quantity"]["commodity"].get((series["value"], "kg"), 0.0)
            assert figures["kg"] == pytest.approx(kg, abs=1e-3)
        assert series["empty_months"] == sum(1 for m in series["months"] if m["cases"] == 0) >= 18
        assert series["total_cases"] == every[series["value"]]
    corridor = analyst_get(
        hub, "/v1/hub/series?table=corridor&value=MM>TH&first=2026-01&last=2026-03"
    )
    (one,) = corridor.json()["series"]
    assert [m["cases"] for m in one["months"]] == [
        by_month[m]["cases"]["corridor"]["MM>TH"] for m in (202601, 202602, 202603)
    ]
    assert (
        analyst_get(
            hub, "/v1/hub/series?table=commodity&last=2026-09", officer="tanaka"
        ).status_code
        == 403
    )
    for bad, status in (
        ("table=route&last=2026-09", 400),  # no series of that table
        ("table=commodity&last=2026-Q3", 400),
        ("table=commodity&last=2026-09&limit=21", 400),
        ("table=commodity&first=2026-09&last=2026-01", 422),
        ("table=commodity&first=2016-01&last=2026-09", 422),  # longer than 120 months
    ):
        refused = analyst_get(hub, f"/v1/hub/series?{bad}")
        assert refused.status_code == status, (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_csv_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(hub, signing_keys):
    """CSV injection (OWASP): a member's free-text commodity type opens the commodity-route value,
    and a spreadsheet runs '=HYPERLINK(...)' as a formula. Such a cell starts with ' instead."""
    generated = sanitised(60)
    formula = '=HYPERLINK("http://evil.example/","open")'
    for report in generated[:6]:
        report["commodity"]["type"] = formula
    feed(hub, signing_keys, generated)
    as_csv = analyst_get(hub, "/v1/hub/trends?period=2026&format=csv")
    assert as_csv.status_code == 200, as_csv.text
    values = [row["value"] for row in csv.DictReader(io.StringIO(as_csv.text))]
    assert any(value.startswith("'" + formula) for value in values)
    assert not [value for value in values if value[:1] in ("=", "+", "-", "@", "\t", "\r")]
    as_json = analyst_get(hub, "/v1/hub/trends?period=2026").json()  # JSON keeps the text as sent
    assert any(c["value"].startswith(formula) for c in as_json["tables"]["commodity-route"])


def test_members_get_the_published_summary_signed(hub, signing_keys):
    feed(hub, signing_keys, sanitised(300))
    hub["services"].releases.release(
        Period.parse("2026-Q2"), "members", actor="analyst:lee", now=datetime.now(UTC)
    )
    answer = member(hub, signing_keys, "TH").get("/v1/hub/summaries?period=2026-Q2")
    assert answer.status == 200 and answer.signature is not None
    assert "notable_seizures" not in answer.json()
    refused = member(hub, signing_keys, "US").get("/v1/hub/summaries?period=2026-Q2")
    assert refused.status == 403


def test_no_output_carries_personal_data(hub, signing_keys):
    feed(hub, signing_keys, sanitised(300))
    text = analyst_get(hub, "/v1/hub/trends?period=2026").text
    assert "Synthetic Person" not in text and "persons" not in text


def test_cli_prints_the_report_and_validates_a_report(hub, signing_keys):
    from click.testing import CliRunner

    from gateway.cli import main

    generated = [r for r in sanitised(200) if r["reporting_administration"] == "KR"]
    feed(hub, signing_keys, generated)
    settings = hub["services"].settings
    env = {
        "GATEWAY_GATEWAY_ID": "RILO-AP",
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEYS_DIR": str(settings.keys_dir),
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
        "GATEWAY_CLI_SESSION_FILE": str(settings.keys_dir.parent / "cli-session.json"),
    }

    def sign_in(username: str) -> None:
        login = ["login", username, "--password-stdin"]
        assert CliRunner().invoke(main, login, env=env, input=PASSWORD + "\n").exit_code == 0

    seeded = CliRunner().invoke(main, ["hub", "seed", "--reports", "300", "--seed", "9"], env=env)
    assert seeded.exit_code == 0 and "synthetic reports ingested" in seeded.output, seeded.output
    with hub["services"].database.transaction() as session:  # the real world's shapes, too
        seeds = session.execute(
            select(HubReport.member, HubReport.seizure_date, HubReport.departure).where(
                HubReport.message_id == "seed-9"
            )
        ).all()
    assert any(departure is None for _, _, departure in seeds)
    assert max(Counter((m, d) for m, d, _ in seeds).values()) >= 3
    unsigned = CliRunner().invoke(main, ["hub", "report", "2026", "--csv"], env=env)
    assert unsigned.exit_code == 1 and "nobody is signed in" in unsigned.output
    sign_in("lee")
    printed = CliRunner().invoke(main, ["hub", "report", "2026", "--csv"], env=env)
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith("dimension,value,suppressed,cases")
    report_id = generated[0]["report_id"]
    done = CliRunner().invoke(main, ["hub", "validate", "KR", report_id], env=env)
    assert done.exit_code == 0, done.output
    with hub["services"].database.transaction() as session:
        status = session.execute(
            select(HubReport.validation).where(HubReport.report_id == report_id)
        ).scalar_one()
    assert status == "rilo-validated"
    sign_in("tanaka")
    refused = CliRunner().invoke(main, ["hub", "validate", "KR", report_id], env=env)
    assert refused.exit_code != 0


def test_withdrawing_the_counted_report_counts_its_duplicate_instead(hub, signing_keys):
    from datetime import UTC, datetime

    (report,) = [r for r in sanitised(50) if r["reporting_administration"] == "TH"][:1]
    assert send_batch(member(hub, signing_keys, "KR"), "KR", [report]).status == 202
    assert send_batch(member(hub, signing_keys, "TH"), "TH", [report]).status == 202
    year = Period.parse(report["seizure_date"][:4])
    assert hub["services"].hub.trend_report(year)["total_cases"] == 1
    services = hub["services"]
    with services.database.transaction() as session:
        assert (
            services.hub.withdraw(session, "KR", [report["report_id"]], now=datetime.now(UTC)) == 1
        )
    assert services.hub.trend_report(year)["total_cases"] == 1  # TH's own report counts now
    with services.database.transaction() as session:
        rows = session.execute(select(HubReport).order_by(HubReport.id)).scalars().all()
        state = [(r.member, r.withdrawn_at is not None, r.duplicate_of is None) for r in rows]
    assert state == [("KR", True, True), ("TH", False, True)]


def test_withdrawal_naming_reports_of_another_batch_is_refused(hub, signing_keys):
    """Only the named batch's reports may be withdrawn under its id: items from another batch were
    withdrawn all the same, in the name of the wrong batch."""
    import uuid

    reports = [r for r in sanitised(60) if r["reporting_administration"] == "KR"][:3]
    kr = member(hub, signing_keys, "KR")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for message_id, batch in ((first, reports[:2]), (second, reports[2:])):
        sent = kr.send(
            "/v1/hub/seizure-report-batches",
            json.dumps({"member": "KR", "reports": batch}).encode(),
            content_type="application/json",
            message_type="seizure-report-batch",
            message_id=message_id,
        )
        assert sent.status == 202, sent.body
    stranger = reports[2]["report_id"]
    answer = kr.send(
        "/v1/withdrawals",
        json.dumps({"withdraws": first, "reason": "x", "items": [stranger]}).encode(),
        content_type="application/json",
        message_type="withdrawal",
    )
    assert answer.status == 422, answer.body
    assert answer.json()["detail"] == f"items {stranger} are not reports of batch {first}"
    with hub["services"].database.transaction() as session:
        withdrawn = session.execute(
            select(HubReport.report_id).where(HubReport.withdrawn_at.is_not(None))
        ).all()
    assert withdrawn == []
