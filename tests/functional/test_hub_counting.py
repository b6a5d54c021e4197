"""Counting that matches the world (issue 21, items 1 and 6): one administration's reports are
never merged; across administrations a close match is a candidate duplicate, counted as its own
seizure until an analyst confirms it (then once) or rejects it (it stays). Every figure is checked
against a recount in plain Python from the generated reports. Both databases.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from gateway.rilo.synthetic import reports
from gateway.rilo.trends import Period
from gateway.store.db import normalise_url
from gateway.store.migrate import alembic_config
from gateway.store.models import AuditEvent, HubDuplicateCandidate, HubReport
from tests.conftest import PASSWORD, acting_headers
from tests.functional.test_rilo_hub import (
    MEMBERS,
    UNITS,
    analyst_get,
    feed,
    hub_gateway,
    member,
    recompute,
    sanitised,
    send_batch,
)

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
def hub(settings, tmp_path):
    yield from hub_gateway(settings, tmp_path)


def world(count: int, seed: int = 21) -> list[dict]:
    """The synthetic world as the real records look: bursts of identical small seizures by one
    member on one day, unknown departures, ports on part of the sea and air seizures, seizures
    reported by both ends of the route."""
    return list(
        reports(
            count,
            seed=seed,
            members=MEMBERS,
            start=date(2025, 4, 1),
            end=date(2026, 9, 30),
            twice=0.5,
            bursts=0.01,
            unknown_departure=0.1,
            ports=0.6,
        )
    )


def _amount(report: dict) -> tuple[str, float]:
    unit, factor = UNITS[report["quantity"]["unit"]]
    return unit, round(report["quantity"]["amount"] * factor, 6)


def expected_candidates(generated: list[dict]) -> set[tuple[str, str]]:
    """Independently, the (later, earlier) report ids that may be one seizure, in the order
    :func:`feed` sends them (member after member, each in order)."""
    members = list(dict.fromkeys(r["reporting_administration"] for r in generated))
    order = sorted(generated, key=lambda r: members.index(r["reporting_administration"]))
    pairs = set()
    for position, later in enumerate(order):
        for earlier in order[:position]:
            if _one_seizure(earlier, later):
                pairs.add((later["report_id"], earlier["report_id"]))
    return pairs


def _one_seizure(a: dict, b: dict) -> bool:
    if a["reporting_administration"] == b["reporting_administration"]:
        return False
    ra, rb = a["route"], b["route"]
    route = [ra.get(k) for k in ("origin", "departure", "destination")]
    if None in route or route != [rb.get(k) for k in ("origin", "departure", "destination")]:
        return False
    (unit_a, x), (unit_b, y) = _amount(a), _amount(b)
    if (a["seizure_date"], a["commodity"]["type"], a["transport"]["mode"], unit_a) != (
        b["seizure_date"],
        b["commodity"]["type"],
        b["transport"]["mode"],
        unit_b,
    ):
        return False
    if abs(x - y) > 0.05 * max(x, y):
        return False
    ports = [p for p in ("departure_port", "arrival_port") if ra.get(p) and rb.get(p)]
    if any(ra[p] != rb[p] for p in ports):
        return False
    return a["office"]["locode"] == b["office"]["locode"] or bool(ports)


def stored_candidates(services) -> dict[tuple[str, str], int]:
    with services.database.transaction() as session:
        later, earlier = sa.orm.aliased(HubReport), sa.orm.aliased(HubReport)
        rows = session.execute(
            select(HubDuplicateCandidate.id, later.report_id, earlier.report_id)
            .join(later, later.id == HubDuplicateCandidate.report)
            .join(earlier, earlier.id == HubDuplicateCandidate.original)
        ).all()
    return {(a, b): candidate for candidate, a, b in rows}


def assert_figures(report: dict, expected: dict) -> None:
    assert report["total_cases"] == expected["total"]
    for dimension in ("category", "commodity", "mode", "member", "route", "corridor"):
        for cell in report["tables"][dimension]:
            assert cell["value"] in expected["cases"][dimension]
            if not cell["suppressed"]:
                assert cell["cases"] == expected["cases"][dimension][cell["value"]]
                for unit in ("kg", "litres", "tablets", "pieces"):
                    assert cell[unit] == pytest.approx(
                        expected["quantity"][dimension][(cell["value"], unit)], abs=1e-3
                    )


# --- the recount ----------------------------------------------------------------------------------


def test_identical_same_day_seizures_at_one_members_offices_are_each_counted(hub, signing_keys):
    generated = world(1500)
    bursts = [r for r in generated if "-B" in r["report_id"]]
    assert len(bursts) >= 20  # identical but for office and reference
    feed(hub, signing_keys, generated)
    year = Period.parse("2026")
    assert_figures(hub["services"].hub.trend_report(year), recompute(generated, set(year.months)))
    with hub["services"].database.transaction() as session:
        held = {
            r.report_id: r.duplicate_of
            for r in session.execute(select(HubReport)).scalars()
            if "-B" in r.report_id
        }
    assert len(held) == len(bursts) and set(held.values()) == {None}
    burst_ids = {r["report_id"] for r in bursts}
    assert not [pair for pair in stored_candidates(hub["services"]) if pair[0] in burst_ids]


def test_cross_member_candidates_count_separately_until_confirmed_then_once(hub, signing_keys):
    generated = world(1500)
    feed(hub, signing_keys, generated)
    services = hub["services"]
    expected = expected_candidates(generated)
    stored = stored_candidates(services)
    assert set(stored) == expected and len(expected) >= 10
    year = Period.parse("2026")
    months = set(year.months)
    in_year = {
        pair: cid
        for pair, cid in stored.items()
        if next(r for r in generated if r["report_id"] == pair[0])["seizure_date"][:4] == "2026"
    }
    report = services.hub.trend_report(year)
    assert report["open_duplicate_candidates"] == len(in_year)
    assert_figures(report, recompute(generated, months))  # candidates: distinct seizures
    pairs = sorted(in_year)
    rejected, confirmed = pairs[0], pairs[1:]
    state = services.hub.decide_duplicate(
        in_year[rejected], confirmed=False, actor="analyst:lee", now=NOW
    )
    assert state == "rejected"
    for pair in confirmed:
        services.hub.decide_duplicate(in_year[pair], confirmed=True, actor="analyst:lee", now=NOW)
    by_id = {r["report_id"]: r for r in generated}
    merged = frozenset((by_id[later]["reporting_administration"], later) for later, _ in confirmed)
    report = services.hub.trend_report(year)
    assert report["open_duplicate_candidates"] == 0
    assert_figures(report, recompute(generated, months, merged))  # confirmed: counted once


def test_a_decided_candidate_cannot_be_decided_again(hub, signing_keys):
    from gateway.errors import NotFoundError, StateConflictError

    jp, th = _pair()
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    services = hub["services"]
    (candidate,) = stored_candidates(services).values()
    services.hub.decide_duplicate(candidate, confirmed=True, actor="analyst:lee", now=NOW)
    with pytest.raises(StateConflictError):
        services.hub.decide_duplicate(candidate, confirmed=False, actor="analyst:lee", now=NOW)
    with pytest.raises(NotFoundError):
        services.hub.decide_duplicate(candidate + 99, confirmed=True, actor="analyst:lee", now=NOW)


# --- what is and is not one seizure ---------------------------------------------------------------


def _pair() -> tuple[dict, dict]:
    """One seizure as Thailand (destination) and Japan (departure) report it."""
    th = {
        "reporting_administration": "TH",
        "report_id": "TH-PAIR-1",
        "seizure_date": "2026-05-14",
        "office": {"locode": "THBKK"},
        "location_type": "seaport",
        "direction": "inbound",
        "commodity": {"category": "drugs", "type": "methamphetamine"},
        "quantity": {"amount": 100.0, "unit": "kg"},
        "transport": {"mode": "sea"},
        "route": {
            "origin": "MM",
            "departure": "JP",
            "destination": "TH",
            "departure_port": "JPTYO",
            "arrival_port": "THLCH",
        },
        "detection_methods": ["x-ray"],
        "markings": {"originator": "TH", "handling_code": "H0", "tlp": "TLP:GREEN"},
    }
    jp = copy.deepcopy(th)
    jp.update(
        reporting_administration="JP",
        report_id="JP-PAIR-1",
        office={"locode": "JPTYO"},
        direction="outbound",
        quantity={"amount": 104.0, "unit": "kg"},
        markings={"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"},
    )
    return jp, th


def _unknown_departures(jp: dict, th: dict) -> None:
    for report in (jp, th):
        report["route"].pop("departure")


def _seven_percent_apart(jp: dict, th: dict) -> None:
    jp["quantity"]["amount"] = 108.0


def _another_mode(jp: dict, th: dict) -> None:
    jp["transport"] = {"mode": "air"}


def _another_port(jp: dict, th: dict) -> None:
    jp["route"]["arrival_port"] = "THBKK"


def _no_ports_other_offices(jp: dict, th: dict) -> None:
    for report in (jp, th):
        del report["route"]["departure_port"], report["route"]["arrival_port"]


@pytest.mark.parametrize(
    ("change", "candidate"),
    [
        (None, True),
        (_unknown_departures, False),
        (_seven_percent_apart, False),
        (_another_mode, False),
        (_another_port, False),
        (_no_ports_other_offices, False),
    ],
)
def test_cross_member_match_needs_the_whole_richer_key(hub, signing_keys, change, candidate):
    """Within 5% with a shared port: a candidate; any part of the richer key off: none. Both
    counted either way."""
    jp, th = _pair()
    if change is not None:
        change(jp, th)
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    assert bool(stored_candidates(hub["services"])) is candidate
    assert hub["services"].hub.trend_report(Period.parse("2026-05"))["total_cases"] == 2


def test_two_members_unknown_departure_seizures_of_one_kind_and_day_are_not_merged(
    hub, signing_keys
):
    """Old rule: "??" departures collided across members and one was dropped."""
    kr = {
        "reporting_administration": "KR",
        "report_id": "KR-UNK-1",
        "seizure_date": "2026-03-02",
        "office": {"locode": "KRICN"},
        "location_type": "postal-centre",
        "direction": "inbound",
        "commodity": {"category": "drugs", "type": "cannabis"},
        "quantity": {"amount": 20, "unit": "g"},
        "transport": {"mode": "postal"},
        "route": {"origin": "TH", "destination": "KR"},
        "detection_methods": ["x-ray"],
        "markings": {"originator": "KR", "handling_code": "H0", "tlp": "TLP:GREEN"},
    }
    th = copy.deepcopy(kr)
    th.update(
        reporting_administration="TH",
        report_id="TH-UNK-1",
        office={"locode": "KRICN"},  # even the same office code: the route is not known
        markings={"originator": "TH", "handling_code": "H0", "tlp": "TLP:GREEN"},
    )
    send_batch(member(hub, signing_keys, "KR"), "KR", [kr])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    assert stored_candidates(hub["services"]) == {}
    assert hub["services"].hub.trend_report(Period.parse("2026-03"))["total_cases"] == 2


# --- withdrawal and supersede ---------------------------------------------------------------------


def test_withdrawal_and_supersede_still_adjust_counts(hub, signing_keys):
    services = hub["services"]
    month = Period.parse("2026-05")
    jp, th = _pair()
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    (candidate,) = stored_candidates(services).values()
    services.hub.decide_duplicate(candidate, confirmed=True, actor="analyst:lee", now=NOW)
    assert services.hub.trend_report(month)["total_cases"] == 1
    with services.database.transaction() as session:  # the counted one goes: TH's counts instead
        assert services.hub.withdraw(session, "JP", ["JP-PAIR-1"], now=NOW) == 1
    assert services.hub.trend_report(month)["total_cases"] == 1
    superseding = {**copy.deepcopy(th), "report_id": "TH-PAIR-1-R"}
    superseding["quantity"] = {"amount": 90.0, "unit": "kg"}
    send_batch(member(hub, signing_keys, "TH"), "TH", [superseding])  # the correction first
    assert services.hub.trend_report(month)["total_cases"] == 2  # one member's: never merged
    with services.database.transaction() as session:  # then the withdrawal of the superseded
        services.hub.withdraw(session, "TH", ["TH-PAIR-1"], now=NOW)
    report = services.hub.trend_report(month)
    assert report["total_cases"] == 1
    assert report["tables"]["member"][0]["value"] == "TH"  # a one-member cell: suppressed
    with services.database.transaction() as session:
        assert services.hub.withdraw(session, "TH", ["TH-PAIR-1-R"], now=NOW) == 1
    assert services.hub.trend_report(month)["total_cases"] == 0


def test_withdrawing_either_report_closes_its_open_candidate(hub, signing_keys):
    services = hub["services"]
    jp, th = _pair()
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    assert services.hub.trend_report(Period.parse("2026-05"))["open_duplicate_candidates"] == 1
    with services.database.transaction() as session:
        services.hub.withdraw(session, "JP", ["JP-PAIR-1"], now=NOW)
    assert [c["state"] for c in services.hub.candidates()] == ["withdrawn"]
    report = services.hub.trend_report(Period.parse("2026-05"))
    assert report["open_duplicate_candidates"] == 0 and report["total_cases"] == 1


# --- the CLI, as the signed-in analyst ------------------------------------------------------------


def test_cli_lists_and_decides_candidates_as_the_signed_in_analyst_only(
    hub, signing_keys, tmp_path
):
    from gateway.cli import main

    jp, th = _pair()
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    settings = hub["services"].settings
    env = {
        "GATEWAY_GATEWAY_ID": "RILO-AP",
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEYS_DIR": str(settings.keys_dir),
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
        "GATEWAY_CLI_SESSION_FILE": str(tmp_path / "cli-session.json"),
    }

    def gateway(*args: str, stdin: str | None = None):
        return CliRunner().invoke(main, list(args), env=env, input=stdin)

    nobody = gateway("hub", "duplicates", "--open")
    assert nobody.exit_code != 0 and "gateway login" in nobody.output
    assert gateway("login", "tanaka", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    officer = gateway("hub", "confirm-duplicate", "1")
    assert officer.exit_code != 0 and "analyst role" in officer.output
    assert gateway("login", "lee", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    listed = gateway("hub", "duplicates", "--open")
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()
    candidate = line.split("\t")[0]
    assert "TH TH-PAIR-1" in line and "JP JP-PAIR-1" in line
    done = gateway("hub", "confirm-duplicate", candidate)
    assert done.exit_code == 0 and "confirmed" in done.output, done.output
    again = gateway("hub", "reject-duplicate", candidate)
    assert again.exit_code != 0 and "not open" in again.output
    assert gateway("hub", "duplicates", "--open").output == ""
    (decided,) = hub["services"].hub.candidates()
    assert decided["decided_by"] == "analyst:lee"
    assert hub["services"].hub.trend_report(Period.parse("2026-05"))["total_cases"] == 1


# --- the migration --------------------------------------------------------------------------------


def test_migration_rederives_an_old_databases_duplicate_rows(hub, signing_keys):
    """A database at 0011 whose rows the old seizure key marked: one member's identical one-piece
    seizures at two offices dropped as one, and two members' unknown-departure seizures merged.
    0012 counts them all, keeps a real cross-member match as an open candidate."""
    services = hub["services"]
    url = services.settings.database_url
    engine = create_engine(normalise_url(url))
    base = {
        "seizure_date": "2026-06-03",
        "location_type": "postal-centre",
        "direction": "inbound",
        "commodity": {"category": "security", "type": "firearms"},
        "quantity": {"amount": 1, "unit": "pieces"},
        "transport": {"mode": "postal"},
        "detection_methods": ["x-ray"],
    }

    def doc(admin: str, report_id: str, office: str, route: dict) -> dict:
        return {
            **base,
            "reporting_administration": admin,
            "report_id": report_id,
            "office": {"locode": office},
            "route": route,
            "markings": {"originator": admin, "handling_code": "H0", "tlp": "TLP:GREEN"},
        }

    documents = [
        doc("KR", "KR-1", "KRAAO", {"origin": "US", "departure": "US", "destination": "KR"}),
        doc("KR", "KR-2", "KRBAO", {"origin": "US", "departure": "US", "destination": "KR"}),
        doc("KR", "KR-3", "KRCAO", {"origin": "US", "destination": "KR"}),
        doc("TH", "TH-1", "THAAO", {"origin": "US", "destination": "KR"}),
        doc("JP", "JP-1", "KRAAO", {"origin": "US", "departure": "US", "destination": "KR"}),
    ]
    old_keys = [
        "2026-06-03|firearms|US|KR|1.000pieces",
        "2026-06-03|firearms|US|KR|1.000pieces",
        "2026-06-03|firearms|??|KR|1.000pieces",
        "2026-06-03|firearms|??|KR|1.000pieces",
        "2026-06-03|firearms|US|KR|1.000pieces",
    ]
    config = alembic_config(url)
    command.downgrade(config, "0011")
    try:
        with engine.begin() as connection:
            for number, (document, key) in enumerate(zip(documents, old_keys, strict=True), 1):
                connection.execute(
                    sa.insert(HubReport.__table__).values(
                        id=number,
                        member=document["reporting_administration"],
                        reported_by=document["reporting_administration"],
                        report_id=document["report_id"],
                        message_id=f"00000000-0000-4000-8000-00000000000{number}",
                        seizure_date=date(2026, 6, 3),
                        month=202606,
                        category="security",
                        commodity_type="firearms",
                        origin="US",
                        departure=document["route"].get("departure"),
                        destination="KR",
                        mode="postal",
                        unit="pieces",
                        amount=1.0,
                        validation="member-reported",
                        seizure_key=key,
                        duplicate_of={1: None, 2: 1, 3: None, 4: 3, 5: 1}[number],
                        document=document,
                        received_at=NOW,
                    )
                )
            # the old rollup: two seizures (KR-1, KR-3)
            connection.execute(
                sa.text(
                    "INSERT INTO hub_rollup (month, dimension, value, member, cases, kg, litres, "
                    "tablets, pieces) VALUES (202606, 'member', 'KR', 'KR', 2, 0, 0, 0, 2)"
                )
            )
    finally:
        command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT report_id, duplicate_of FROM hub_report ORDER BY id")
        ).all()
        kr_cases = connection.execute(
            sa.text(
                "SELECT cases FROM hub_rollup WHERE month = 202606 AND dimension = 'member' "
                "AND value = 'KR'"
            )
        ).scalar_one()
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [(d["report_id"], None) for d in documents]
    assert kr_cases == 3  # was 2: KR-2 dropped as KR-1's duplicate
    month = Period.parse("2026-06")
    expected = recompute(documents, set(month.months))
    report = services.hub.trend_report(month)
    assert report["total_cases"] == expected["total"] == 5  # was 2
    assert set(stored_candidates(services)) == {("JP-1", "KR-1")}
    assert report["open_duplicate_candidates"] == 1


# --- the analysts' page ---------------------------------------------------------------------------


def test_analysts_page_decides_a_candidate_with_a_form_and_others_get_no_page(hub, signing_keys):
    import re

    from starlette.testclient import TestClient

    from gateway.app import create_app

    jp, th = _pair()
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    services = hub["services"]

    def browser_of(username: str) -> TestClient:
        browser = TestClient(create_app(services.settings, services), base_url="https://testserver")
        form = browser.get("/web/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        browser.post("/web/login", data={"username": username, "password": PASSWORD, "csrf": token})
        return browser

    with browser_of("tanaka") as officer:
        assert officer.get("/web/hub/duplicates").status_code == 403
    with browser_of("lee") as analyst:
        page = analyst.get("/web/hub/duplicates")
        assert page.status_code == 200 and "JP-PAIR-1" in page.text and "<script" not in page.text
        (candidate,) = re.findall(r"/web/hub/duplicates/(\d+)/decision", page.text)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        forged = analyst.post(
            f"/web/hub/duplicates/{candidate}/decision", data={"decision": "confirm"}
        )
        assert forged.status_code == 400
        done = analyst.post(
            f"/web/hub/duplicates/{candidate}/decision", data={"decision": "confirm", "csrf": token}
        )
        assert done.status_code == 200 and f"Candidate {candidate}: confirmed." in done.text
        assert "No open candidate duplicates." in done.text
    assert services.hub.trend_report(Period.parse("2026-05"))["total_cases"] == 1


def test_migration_0015_gives_the_reports_held_before_it_the_analysts_tables(hub, signing_keys):
    """A hub whose rollups were kept by the code of 0014 (no direction, mode x commodity,
    office, port or size rows): 0015 rebuilds them from the reports counted, and the quarter's
    report is what it was, table for table, with the new tables back."""
    services = hub["services"]
    feed(hub, signing_keys, sanitised(400))
    quarter = Period.parse("2026-Q2")
    before = services.hub.trend_report(quarter)
    new = ("direction", "mode-commodity", "office", "port", "size")
    assert all(before["tables"][d] for d in new)
    config = alembic_config(services.settings.database_url)
    command.downgrade(config, "0014")
    try:
        dropped = services.hub.trend_report(quarter)
        assert not any(dropped["tables"][d] for d in new)
        assert dropped["tables"]["commodity"] == before["tables"]["commodity"]
    finally:
        command.upgrade(config, "head")
    assert services.hub.trend_report(quarter) == before


# --- the analysts' API ----------------------------------------------------------------------------


def test_analysts_list_and_decide_candidates_over_the_api_and_others_cannot(hub, signing_keys):
    """GET /v1/hub/candidates lists the open candidate with both reports; an officer's session
    gets 403 on both doors; the analyst's confirmation counts the seizure once and is audited
    under the analyst's name; deciding it again is a 409 problem, an unknown one a 404."""
    jp, th = _pair()
    send_batch(member(hub, signing_keys, "JP"), "JP", [jp])
    send_batch(member(hub, signing_keys, "TH"), "TH", [th])
    client, services = hub["client"], hub["services"]
    month = Period.parse(jp["seizure_date"][:7])
    assert services.hub.trend_report(month)["total_cases"] == 2
    listed = analyst_get(hub, "/v1/hub/candidates")
    assert listed.status_code == 200, listed.text
    (candidate,) = listed.json()["candidates"]
    assert candidate["state"] == "open"
    assert {candidate["report"]["report_id"], candidate["original"]["report_id"]} == {
        jp["report_id"],
        th["report_id"],
    }
    path = f"/v1/hub/candidates/{candidate['id']}/confirm"
    officer = acting_headers(client, "tanaka")
    assert analyst_get(hub, "/v1/hub/candidates", officer="tanaka").status_code == 403
    assert client.post(path, headers=officer).status_code == 403
    assert services.hub.trend_report(month)["total_cases"] == 2  # the officer changed nothing
    done = client.post(path, headers=acting_headers(client, "lee"))
    assert done.status_code == 200 and done.json() == {"id": candidate["id"], "state": "confirmed"}
    assert services.hub.trend_report(month)["total_cases"] == 1
    again = client.post(
        f"/v1/hub/candidates/{candidate['id']}/reject", headers=acting_headers(client, "lee")
    )
    assert again.status_code == 409 and again.json()["type"].endswith("/state-conflict")
    unknown = client.post("/v1/hub/candidates/999/confirm", headers=acting_headers(client, "lee"))
    assert unknown.status_code == 404
    assert analyst_get(hub, "/v1/hub/candidates").json() == {"candidates": []}
    everything = analyst_get(hub, "/v1/hub/candidates?state=all").json()["candidates"]
    assert [(c["state"], c["decided_by"]) for c in everything] == [("confirmed", "analyst:lee")]
    with services.database.transaction() as session:
        tags = session.execute(
            select(AuditEvent.tag, AuditEvent.actor).where(AuditEvent.tag.like("analyst:hub-%"))
        ).all()
    assert [tuple(t) for t in tags] == [("analyst:hub-duplicate:confirmed", "analyst:lee")]
