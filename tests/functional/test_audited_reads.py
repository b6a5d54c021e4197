"""Reads are audited (issue 20, item 4): an officer opening a case (pages and API) and an
auditor searching the log leave who read what, never what they saw, batched per person."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.audit.reads import MAX_BATCH
from gateway.cli import main
from gateway.store.models import AuditEvent
from tests.conftest import AUDITOR_TOKEN, PASSWORD, acting_headers
from tests.functional.test_assistance import request_from, send

CANARY = "Canary Person Seventeen"  # a generated name in the request; no read may carry it


def read_events(services) -> list[AuditEvent]:
    with services.database.transaction() as session:
        events = list(
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.tag.like("%:reads:recorded"))
                .order_by(AuditEvent.log_index)
            ).scalars()
        )
        for event in events:
            session.expunge(event)
        return events


@pytest.fixture
def case_id(partner, client, people) -> int:
    request = request_from("KR", persons=[{"role": "consignor", "name": CANARY}])
    assert (
        send(partner("KR"), "/v1/assistance-requests", request, "assistance-request").status == 202
    )
    (case,) = client.get("/v1/cases", headers=acting_headers(client, "tanaka")).json()["cases"]
    return int(case["id"])


def test_an_officer_opening_a_case_leaves_who_read_which_case_but_not_its_persons(
    settings, services, client, case_id
):
    opened = client.get(f"/v1/cases/{case_id}", headers=acting_headers(client, "tanaka"))
    assert CANARY in opened.text  # the officer saw the person…
    with TestClient(create_app(settings, services), base_url="https://testserver") as browser:
        form = browser.get("/web/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        browser.post("/web/login", data={"username": "suzuki", "password": PASSWORD, "csrf": token})
        assert CANARY in browser.get(f"/web/cases/{case_id}").text
    services.reads.flush()
    events = read_events(services)
    by_actor = {e.actor: e.detail["reads"] for e in events}
    assert {"what": "case", "case": case_id} in [
        {k: v for k, v in r.items() if k != "at"} for r in by_actor["officer:tanaka"]
    ]
    assert {"what": "case", "case": case_id} in [
        {k: v for k, v in r.items() if k != "at"} for r in by_actor["supervisor:suzuki"]
    ]
    assert all(CANARY not in json.dumps(e.detail) for e in events)  # …the log did not


def test_an_auditors_search_leaves_its_filters(services, client, case_id):
    searched = client.get(
        "/v1/audit/events?partner=KR&tag=partner:assistance-request:received",
        headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"},
    )
    assert searched.status_code == 200
    services.reads.flush()
    (event,) = [e for e in read_events(services) if e.actor == "auditor:compliance"]
    (read,) = event.detail["reads"]
    assert read["what"] == "events"
    assert read["filters"] == {"partner": "KR", "tag": "partner:assistance-request:received"}


def test_a_busy_officer_costs_one_event_per_batch_not_one_per_read(services, client, case_id):
    headers = acting_headers(client, "tanaka")
    services.reads.flush()  # the queue the fixture read
    before = len(read_events(services))
    for _ in range(30):
        assert client.get(f"/v1/cases/{case_id}", headers=headers).status_code == 200
    assert len(read_events(services)) == before  # waiting in memory
    services.reads.flush()
    (event,) = [e for e in read_events(services)[before:] if e.actor == "officer:tanaka"]
    assert event.detail["count"] == 30


def test_a_full_batch_is_written_without_waiting(services, client, case_id):
    headers = acting_headers(client, "tanaka")
    services.reads.flush()
    for _ in range(MAX_BATCH):
        client.get(f"/v1/cases/{case_id}", headers=headers)
    written = [e for e in read_events(services) if e.actor == "officer:tanaka"]
    assert written and written[-1].detail["count"] == MAX_BATCH


def test_an_auditor_lists_the_reads_of_one_person(settings, services, client, case_id):
    headers = acting_headers(client, "tanaka")
    client.get(f"/v1/cases/{case_id}", headers=headers)
    client.get("/v1/cases?partner=KR", headers=headers)
    services.reads.flush()
    env = {
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEYS_DIR": str(settings.keys_dir),
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
    }
    result = CliRunner().invoke(main, ["audit", "reads", "officer:tanaka"], env=env)
    assert result.exit_code == 0, result.output
    reads = [json.loads(line) for line in result.output.splitlines()]
    whats = [(r["what"], r.get("case"), r.get("filters")) for r in reads]
    assert ("case", case_id, None) in whats
    assert ("case-queue", None, {"partner": "KR"}) in whats
    assert CANARY not in result.output


def test_a_served_gateway_writes_the_reads_still_waiting_when_it_stops(tmp_path, database_url):
    """Reads wait in memory for up to an hour here; stopping the worker (SIGTERM) writes them."""
    import hashlib

    import httpx
    from sqlalchemy import create_engine

    from gateway.store.db import normalise_url
    from tests.processes import gateway_environment, run, serving

    digest = hashlib.sha256(AUDITOR_TOKEN.encode()).hexdigest()
    env = gateway_environment(
        tmp_path,
        database_url,
        GATEWAY_READ_AUDIT_SECONDS="3600",
        GATEWAY_OPERATOR_TOKENS=f"compliance:auditor={digest}",
    )
    assert run(env, "migrate").returncode == 0
    with serving(env, tmp_path / "serve.log") as base, httpx.Client(base_url=base) as http:
        for partner in ("KR", "US", "CN"):
            searched = http.get(
                f"/v1/audit/events?partner={partner}",
                headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"},
            )
            assert searched.status_code == 200
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEvent.detail).where(AuditEvent.tag == "auditor:reads:recorded")
            ).all()
    finally:
        engine.dispose()
    assert [[r["filters"]["partner"] for r in detail["reads"]] for (detail,) in rows] == [
        ["KR", "US", "CN"]
    ]
