"""A member gateway's feed to the RILO A/P hub (issue 8, "The feed"), over two real parties:
JP's gateway (the database under test, in this process) and the hub's gateway, a real
``gateway serve`` process with its own database, keys and registry view. Reports KR sends to JP
go on to the hub sanitised, as the hub policy and the originators' markings allow; a backfill
feeds what consent later allowed; a withdrawal follows its report to the hub."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.client.partner import PartnerClient
from gateway.demo import hub_registry
from gateway.exchange.delivery import DeliveryWorker, HttpTransport
from gateway.exchange.onward import record_consent
from gateway.registry import add_pinned_key
from gateway.rilo.synthetic import reports
from gateway.store import migrate
from gateway.store.models import OutboxMessage
from gateway.trust.keys import generate_jwk, public_part, write_private_jwk
from tests.conftest import partner_client
from tests.processes import free_port, serving

pytestmark = pytest.mark.functional


@pytest.fixture
def hub_process(tmp_path: Path, private_jwks):
    root = tmp_path / "hub"
    key = generate_jwk()
    write_private_jwk(root / "keys" / "RILO-AP.private.jwk", key)
    for admin in ("JP", "KR"):
        add_pinned_key(root / "pins", admin, public_part(private_jwks[admin]))
    database = root / "hub.sqlite3"
    migrate.upgrade(f"sqlite:///{database}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_GATEWAY_ID="RILO-AP",
        GATEWAY_DATABASE_URL=f"sqlite:///{database}",
        GATEWAY_KEYS_DIR=str(root / "keys"),
        GATEWAY_KEY_PINS_DIR=str(root / "pins"),
        GATEWAY_REGISTRY_DIR=str(hub_registry(root)),
        GATEWAY_WEB_SECRET_FILE=str(root / "web-secret"),
        GATEWAY_PORT=str(free_port()),
        GATEWAY_LOG_LEVEL="WARNING",
    )
    with serving(env, tmp_path / "hub.log") as base:
        yield {"base": base, "database": database, "key": key}


@pytest.fixture
def jp(settings, hub_process, signing_keys):
    add_pinned_key(settings.key_pins_dir, "RILO-AP", public_part(hub_process["key"]))
    fed = replace(settings, hub_feed=True, partner_endpoints=f"RILO-AP={hub_process['base']}")
    services = build_services(fed)
    with TestClient(create_app(fed, services)) as client:
        yield {"services": services, "settings": fed, "kr": partner_client(client, signing_keys)}
    services.database.dispose()


def kr_report(handling_code: str, number: int, tlp: str = "TLP:GREEN") -> dict:
    report = next(iter(reports(1, seed=number, members=("KR",), held=True)))
    report["report_id"] = f"KR-FEED-{number}"
    report["persons"] = [{"role": "courier", "name": f"Synthetic Person {number}"}]
    report["markings"] = {"originator": "KR", "handling_code": handling_code, "tlp": tlp}
    return report


def send(kr: PartnerClient, path: str, document: dict, message_type: str) -> str:
    message_id = str(uuid.uuid4())
    answer = kr.send(
        path,
        json.dumps(document).encode(),
        content_type="application/json",
        message_type=message_type,
        message_id=message_id,
    )
    assert answer.status == 202, answer.body
    return message_id


def deliver(jp) -> None:
    transport = HttpTransport(10, 1_048_576)
    try:
        services = jp["services"]
        DeliveryWorker(
            settings=jp["settings"],
            registry=services.registry,
            keyring=services.keyring,
            database=services.database,
            transport=transport,
            worker_id="test",
        ).run_once(50)
    finally:
        transport.close()
    with jp["services"].database.transaction() as session:
        states = {r.message_type: r.state for r in session.execute(select(OutboxMessage)).scalars()}
    assert set(states.values()) == {"acknowledged"}, states


def at_hub(hub_process, sql: str) -> list[tuple]:
    with sqlite3.connect(hub_process["database"]) as connection:
        return connection.execute(sql).fetchall()


def test_reports_go_on_sanitised_as_markings_allow_and_withdrawals_follow(jp, hub_process):
    open_report = send(jp["kr"], "/v1/seizure-reports", kr_report("H0", 1), "seizure-report")
    restricted = send(jp["kr"], "/v1/seizure-reports", kr_report("H2", 2), "seizure-report")
    red = send(jp["kr"], "/v1/seizure-reports", kr_report("H0", 3, "TLP:RED"), "seizure-report")
    deliver(jp)
    held = at_hub(hub_process, "SELECT member, reported_by, report_id, document FROM hub_report")
    assert [(m, r, i) for m, r, i, _ in held] == [("JP", "KR", "KR-FEED-1")]
    assert "Synthetic Person" not in held[0][3] and "persons" not in json.loads(held[0][3])

    # KR consents to its H2 report reaching the hub: a backfill now feeds it, and only it (a
    # TLP:RED report never goes, consent or not)
    services = jp["services"]
    for message_id in (restricted, red):
        record_consent(
            services.database,
            services.registry,
            message_id=message_id,
            recipient="RILO-AP",
            reference="KR letter 2026/77",
            recorded_by="officer:tanaka",
            now=datetime.now(UTC),
        )
    fed = services.feed.backfill(
        datetime(2000, 1, 1).date(), datetime(2100, 1, 1).date(), now=datetime.now(UTC)
    )
    assert (fed.queued, fed.withheld, fed.batches) == (1, 1, 1)
    deliver(jp)
    assert sorted(r[0] for r in at_hub(hub_process, "SELECT report_id FROM hub_report")) == [
        "KR-FEED-1",
        "KR-FEED-2",
    ]

    # KR withdraws its first report: JP passes the withdrawal on, naming it within its batch
    send(
        jp["kr"],
        "/v1/withdrawals",
        {"withdraws": open_report, "reason": "entered in error"},
        "withdrawal",
    )
    deliver(jp)
    withdrawn = at_hub(
        hub_process, "SELECT report_id FROM hub_report WHERE withdrawn_at IS NOT NULL"
    )
    assert withdrawn == [("KR-FEED-1",)]
    counted = at_hub(hub_process, "SELECT sum(cases) FROM hub_rollup WHERE dimension = 'member'")
    assert counted == [(1,)]
