"""Refusals nobody answers for (issue 9): within an allowance recorded one by one, beyond it
counted, and the counts written every interval and at shutdown. Every refusal is still answered
with its problem, and every one is in the audit log, alone or in a count.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.exchange.refusals import EXCESS_TAG, MAX_PATH_LENGTH, MAX_PATHS, RefusalLog
from gateway.settings import Settings, replace
from gateway.store.db import normalise_url
from gateway.store.models import AuditEvent
from tests.conftest import partner_client
from tests.processes import gateway_environment, run, serving

PROBLEMS = "https://customs.go.jp/gateway/problems/"
ATTACKER = ("198.51.100.7", 40000)  # TEST-NET-2 (RFC 5737)


@pytest.fixture
def gateway(settings: Settings) -> Iterator[Any]:
    """``gateway(client=…, **settings)``: (services, TestClient) on a gateway with those
    settings; the client is open (its lifespan running) until the test ends."""
    with ExitStack() as opened:

        def make(client: tuple[str, int] = ATTACKER, **changes: Any) -> tuple[Any, TestClient]:
            services = build_services(replace(settings, **changes))
            opened.callback(services.database.dispose)
            http = opened.enter_context(
                TestClient(create_app(services.settings, services), client=client)
            )
            return services, http

        yield make


def events(services: Any, tag: str | None = None) -> list[AuditEvent]:
    with services.database.transaction() as session:
        statement = select(AuditEvent).order_by(AuditEvent.log_index)
        if tag is not None:
            statement = statement.where(AuditEvent.tag == tag)
        found = list(session.execute(statement).scalars())
        session.expunge_all()
        return found


def unsigned_post(http: TestClient, path: str = "/v1/seizure-reports") -> httpx.Response:
    return http.post(path, content=b"{}", headers={"Content-Type": "application/json"})


def recorded(services: Any) -> tuple[int, int]:
    """(refusals recorded one by one, refusals counted in excess events)."""
    alone = [e for e in events(services) if e.tag.endswith(":refused") and e.tag != EXCESS_TAG]
    counted = sum(e.detail["count"] for e in events(services, EXCESS_TAG))
    return len(alone), counted


def test_unauthenticated_flood_is_recorded_one_by_one_then_counted(gateway):
    services, http = gateway(refusal_audit_burst=3, refusal_audit_per_minute=1)

    answers = [unsigned_post(http) for _ in range(10)]

    # every caller still gets its problem, the same whether recorded alone or counted
    assert {a.status_code for a in answers} == {401}
    assert {a.json()["type"] for a in answers} == {PROBLEMS + "token-missing"}
    alone = events(services, "partner:seizure-report:refused")
    assert len(alone) == 3
    assert all(e.detail["address"] == ATTACKER[0] and e.actor == "unauthenticated" for e in alone)
    assert events(services, EXCESS_TAG) == []  # counted, waiting for the interval

    assert services.refusals.flush() == 1

    [excess] = events(services, EXCESS_TAG)
    assert excess.actor == "unauthenticated" and excess.partner is None
    assert excess.detail["source"] == f"address {ATTACKER[0]}"
    assert excess.detail["count"] == 7
    assert excess.detail["problems"] == {"token-missing": 7}
    assert excess.detail["subjects"] == {"seizure-report": 7}
    assert excess.detail["paths"] == {"/v1/seizure-reports": 7}
    assert excess.detail["last_instance"] == answers[-1].json()["instance"].removeprefix(
        "urn:uuid:"
    )
    assert excess.detail["first_at"] <= excess.detail["last_at"]
    assert recorded(services) == (3, 7)  # all ten, in one form or the other


def test_each_address_has_an_allowance_of_its_own(gateway, settings):
    services, attacker = gateway(refusal_audit_burst=2, refusal_audit_per_minute=1)
    for _ in range(5):
        unsigned_post(attacker)
    with TestClient(create_app(services.settings, services), client=("192.0.2.9", 1)) as other:
        for _ in range(2):
            unsigned_post(other)

    addresses = [e.detail["address"] for e in events(services, "partner:seizure-report:refused")]
    assert addresses == [ATTACKER[0]] * 2 + ["192.0.2.9"] * 2
    # the second client's lifespan ended: it wrote what its worker had counted (the attacker's 3)
    [excess] = events(services, EXCESS_TAG)
    assert (excess.detail["source"], excess.detail["count"]) == (f"address {ATTACKER[0]}", 3)


def test_refusal_counts_are_written_when_the_worker_stops(settings):
    services = build_services(replace(settings, refusal_audit_burst=1, refusal_audit_per_minute=1))
    try:
        with TestClient(create_app(services.settings, services), client=ATTACKER) as http:
            for _ in range(4):
                unsigned_post(http, "/v1/assistance-requests")
            assert events(services, EXCESS_TAG) == []
        [excess] = events(services, EXCESS_TAG)
        assert excess.detail["count"] == 3
        assert excess.detail["subjects"] == {"assistance-request": 3}
    finally:
        services.database.dispose()


def test_refusal_counts_are_written_every_summary_interval(gateway):
    services, http = gateway(
        refusal_audit_burst=1, refusal_audit_per_minute=1, refusal_summary_seconds=1
    )
    for _ in range(3):
        unsigned_post(http)
    # the worker's own writer, not the test, writes the count (the client stays open)
    deadline = time.monotonic() + 30
    while not events(services, EXCESS_TAG) and time.monotonic() < deadline:
        time.sleep(0.1)
    [excess] = events(services, EXCESS_TAG)
    assert excess.detail["count"] == 2


def test_partner_flooding_past_its_rate_limit_is_counted_beyond_the_allowance(
    gateway, signing_keys, sample_json
):
    services, http = gateway(
        rate_limit_burst=1,
        rate_limit_per_minute=1,
        refusal_audit_burst=2,
        refusal_audit_per_minute=1,
    )
    korea = partner_client(http, signing_keys, "KR")
    statuses = [
        korea.send(
            "/v1/seizure-reports",
            sample_json,
            content_type="application/json",
            message_type="seizure-report",
        ).status
        for _ in range(6)
    ]
    assert statuses == [202] + [429] * 5

    services.refusals.flush()
    alone = events(services, "partner:seizure-report:refused")
    assert [(e.partner, e.detail["problem"]) for e in alone] == [("KR", "rate-limited")] * 2
    assert "address" not in alone[0].detail  # an authenticated caller is named, not located
    [excess] = events(services, EXCESS_TAG)
    assert (excess.partner, excess.actor, excess.detail["source"]) == ("KR", "KR", "partner KR")
    assert excess.detail["problems"] == {"rate-limited": 3}


def test_other_refusals_of_an_authenticated_partner_are_all_recorded(gateway, signing_keys):
    services, http = gateway(refusal_audit_burst=1, refusal_audit_per_minute=1)
    korea = partner_client(http, signing_keys, "KR")
    for _ in range(4):
        answer = korea.send(
            "/v1/seizure-reports",
            b'{"not": "a seizure report"}',
            content_type="application/json",
            message_type="seizure-report",
        )
        assert answer.status == 422

    services.refusals.flush()
    alone = events(services, "partner:seizure-report:refused")
    assert [e.detail["problem"] for e in alone] == ["schema-invalid"] * 4
    assert events(services, EXCESS_TAG) == []


def test_a_zero_allowance_setting_records_every_refusal(gateway):
    services, http = gateway(refusal_audit_per_minute=0, refusal_audit_burst=0)
    for _ in range(25):
        unsigned_post(http)
    services.refusals.flush()
    assert recorded(services) == (25, 0)


def test_a_count_that_cannot_be_written_is_kept_for_the_next_time(gateway, database_url):
    services, http = gateway(refusal_audit_burst=1, refusal_audit_per_minute=1)
    for _ in range(3):
        unsigned_post(http)
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.begin() as connection:  # the audit table goes away under the worker
            connection.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
        assert services.refusals.flush() == 0
        for _ in range(2):  # counted meanwhile: joins the count that could not be written
            unsigned_post(http)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_event_away RENAME TO audit_event"))
    finally:
        engine.dispose()

    assert services.refusals.flush() == 1
    [excess] = events(services, EXCESS_TAG)
    assert excess.detail["count"] == 4
    assert recorded(services) == (1, 4)


def test_unauthenticated_flood_on_a_served_gateway_loses_no_refusal_at_shutdown(
    tmp_path: Path, database_url: str
):
    env = gateway_environment(
        tmp_path,
        database_url,
        GATEWAY_REFUSAL_AUDIT_BURST="2",
        GATEWAY_REFUSAL_AUDIT_PER_MINUTE="1",
        GATEWAY_REFUSAL_SUMMARY_SECONDS="3600",
    )
    assert run(env, "migrate").returncode == 0
    with serving(env, tmp_path / "serve.log") as base, httpx.Client(base_url=base) as http:
        statuses = [http.post("/v1/seizure-reports", content=b"{}").status_code for _ in range(12)]
    assert statuses == [401] * 12

    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEvent.tag, AuditEvent.detail).where(AuditEvent.tag.like("%:refused"))
            ).all()
    finally:
        engine.dispose()
    alone = [detail for tag, detail in rows if tag != EXCESS_TAG]
    counted = [detail["count"] for tag, detail in rows if tag == EXCESS_TAG]
    assert (len(alone), counted) == (2, [10])


def refuse(log: RefusalLog, *, address: str, path: str = "/v1/seizure-reports") -> int | None:
    return log.record(
        subject="seizure-report",
        kind="token-missing",
        status=401,
        detail="no bearer assertion",
        caller=None,
        message_id=None,
        body_sha256=None,
        method="POST",
        path=path,
        instance=str(uuid.uuid4()),
        address=address,
    )


def test_a_flood_from_many_addresses_is_counted_in_bounded_memory(services):
    log = RefusalLog(services.database, admits=lambda source: False, max_sources=2)
    for number in range(5):
        assert refuse(log, address=f"203.0.113.{number}") is None

    assert log.flush() == 3
    counts = {e.detail["source"]: e.detail["count"] for e in events(services, EXCESS_TAG)}
    assert counts == {"address 203.0.113.0": 1, "address 203.0.113.1": 1, "other": 3}


def test_a_flood_of_distinct_paths_is_counted_under_a_bounded_list(services):
    log = RefusalLog(services.database, admits=lambda source: False)
    for number in range(MAX_PATHS + 5):
        refuse(log, address="203.0.113.1", path=f"/v1/{number}/{'x' * 300}")

    log.flush()
    [excess] = events(services, EXCESS_TAG)
    paths = excess.detail["paths"]
    assert len(paths) == MAX_PATHS + 1 and paths["other"] == 5
    assert max(len(path) for path in paths) == MAX_PATH_LENGTH
    assert sum(paths.values()) == excess.detail["count"] == MAX_PATHS + 5


def test_a_count_is_written_by_the_next_refusal_once_it_is_due(services):
    clock = [100.0]
    log = RefusalLog(
        services.database,
        admits=lambda source: False,
        summary_seconds=60,
        monotonic=lambda: clock[0],
    )
    refuse(log, address="203.0.113.1")
    clock[0] += 59
    refuse(log, address="203.0.113.1")
    assert events(services, EXCESS_TAG) == []
    clock[0] += 1
    refuse(log, address="203.0.113.1")  # the count opened 60 s ago is due: written now
    [excess] = events(services, EXCESS_TAG)
    assert excess.detail["count"] == 3
