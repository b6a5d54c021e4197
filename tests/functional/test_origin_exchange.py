"""Certificates of origin between two real gateways on loopback (issue 6, "Done when").

JP ↔ ID and JP ↔ TH, each way: issue, amendment, use in a declaration, verification request and
answer, preference. Each gateway is a real ``gateway serve`` process with its own database,
keys, issuing authority, registry and policy (as ``gateway demo`` sets them up); each side's
delivery worker posts over HTTP to the other's process. JP's database is SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.app import Services, build_services
from gateway.demo import Installation, prepare
from gateway.documents.certificate_of_origin import sign_certificate
from gateway.errors import StateConflictError
from gateway.exchange.delivery import DeliveryWorker, HttpTransport
from gateway.origin.synthetic import certificate
from gateway.settings import Settings, load_settings
from gateway.store.models import AuditEvent, OutboxMessage
from gateway.trust.xmldsig import read_authority
from tests.processes import free_port, run, serving, sign_in

pytestmark = pytest.mark.functional
AGREEMENTS = {"ID": "JP-ID-EPA", "TH": "JP-TH-EPA"}


class Side:
    """One installation: its served process is started by the fixture; here, what its officers
    and its delivery worker do."""

    def __init__(self, installation: Installation, env: dict[str, str]) -> None:
        self.id = installation.gateway_id
        self.env = env
        self.settings: Settings = load_settings(environ=env)
        self.services: Services = build_services(self.settings)
        self.key, self.authority = read_authority(installation.root / "keys", self.id)

    def deliver(self) -> None:
        """One pass of the delivery worker; every message must come back with a receipt."""
        transport = HttpTransport(10, 1_048_576)
        try:
            DeliveryWorker(
                settings=self.settings,
                registry=self.services.registry,
                keyring=self.services.keyring,
                database=self.services.database,
                transport=transport,
                worker_id=f"test-{self.id}",
            ).run_once(50)
        finally:
            transport.close()
        with self.services.database.transaction() as session:
            states = {
                r.message_id: r.state for r in session.execute(select(OutboxMessage)).scalars()
            }
        assert set(states.values()) == {"acknowledged"}, states

    def lookup(self, number: str, issued: date) -> dict:
        return self.services.origin.lookup(
            number, issued, actor="officer:test", now=datetime.now(UTC)
        )

    def tags(self) -> list[str]:
        with self.services.database.transaction() as session:
            return [
                e.tag
                for e in session.execute(
                    select(AuditEvent).order_by(AuditEvent.log_index)
                ).scalars()
                if e.tag.startswith("origin:")
            ]


@pytest.fixture(params=["ID", "TH"])
def gateways(request, tmp_path: Path, database_url: str) -> Iterator[tuple[Side, Side]]:
    partner_id = request.param
    jp_installation, partner_installation = prepare(tmp_path, partner_id, free_port(), free_port())
    jp_env = jp_installation.environment(partner_installation, GATEWAY_DATABASE_URL=database_url)
    partner_env = partner_installation.environment(jp_installation)
    with ExitStack() as stack:
        stack.enter_context(serving(jp_env, tmp_path / "jp.log"))
        stack.enter_context(serving(partner_env, tmp_path / f"{partner_id}.log"))
        jp, partner = Side(jp_installation, jp_env), Side(partner_installation, partner_env)
        yield jp, partner
        for side in (jp, partner):
            side.services.database.dispose()


def exchange_one_certificate(exporter: Side, importer: Side, agreement: str) -> None:
    """The whole life of one certificate from ``exporter`` to ``importer``."""
    now = datetime.now(UTC)
    issued = now.date()
    number = f"{exporter.id}-EXP-{now:%H%M%S%f}"
    ref = {"exporting_party": exporter.id, "certificate_number": number, "issue_date": str(issued)}
    document = certificate(
        number=number,
        exporting_party=exporter.id,
        importing_party=importer.id,
        agreement=agreement,
        issue_date=issued,
        items=12,
    )

    # issued: signed by the exporting party's authority, verified by the importing gateway
    exporter.services.origin.send_certificate(
        sign_certificate(document, exporter.key, exporter.authority), actor="officer:a", now=now
    )
    exporter.deliver()
    record = importer.lookup(number, issued)
    assert (record["found"], record["valid"], record["version"]) == (True, True, 1)
    assert (record["direction"], record["usage"]) == ("in", "received")
    assert record["certificate"] == document
    assert record["versions"][0]["signed_by"]["certificate_sha256"] == exporter.authority.sha256
    # the importing gateway's signed receipt is the exporting side's "received"
    assert exporter.lookup(number, issued)["usage"] == "received"

    # amended: version 2 replaces version 1 on both sides
    amended = certificate(
        number=number,
        exporting_party=exporter.id,
        importing_party=importer.id,
        agreement=agreement,
        issue_date=issued,
        items=12,
        version=2,
        amendment_reason="corrected quantities",
    )
    exporter.services.origin.send_certificate(
        sign_certificate(amended, exporter.key, exporter.authority), actor="officer:a", now=now
    )
    exporter.deliver()
    for side in (exporter, importer):
        record = side.lookup(number, issued)
        assert (record["status"], record["version"]) == ("amended", 2), side.id
    assert importer.lookup(number, issued)["certificate"] == amended

    # used in a declaration at the importing side
    importer.services.origin.notify(
        ref, "used", actor="officer:b", now=now, declaration_number=f"DEC-{number}"
    )
    importer.deliver()
    record = exporter.lookup(number, issued)
    assert (record["usage"], record["declaration_number"]) == ("used", f"DEC-{number}")

    # the exporting side may no longer cancel it: nothing is queued
    with pytest.raises(StateConflictError):
        exporter.services.origin.notify(
            ref, "cancelled", actor="officer:a", now=now, reason="exporter asked"
        )

    # verification: requested by the importing side, due by the agreement's rule
    request = importer.services.origin.request_verification(
        ref,
        reason="doubt-origin-criterion",
        questions=["Provide the cost statement of item 2."],
        items=[2],
        actor="officer:b",
        now=now,
    )
    importer.deliver()
    (received,) = exporter.services.origin.verifications("open", today=issued)  # one at a time
    assert (received["request_id"], received["direction"], received["partner"]) == (
        request.message_id,
        "in",
        importer.id,
    )
    assert received["due_date"] == str(issued + timedelta(days=90))

    # answered by the exporting side
    exporter.services.origin.answer_verification(
        request.message_id,
        result="confirmed",
        findings=[{"item": 2, "confirmed": True, "finding": "RVC 45 % confirmed"}],
        actor="officer:a",
        now=now,
    )
    exporter.deliver()
    for side in (exporter, importer):
        answered = side.services.origin.verifications("answered", today=issued)
        assert {"request_id": request.message_id, "result": "confirmed"}.items() <= next(
            v for v in answered if v["request_id"] == request.message_id
        ).items()
        assert side.services.origin.verifications("open", today=issued) == []

    # preference granted: the importing side tells the exporting side
    importer.services.origin.notify(ref, "preference-granted", actor="officer:b", now=now)
    importer.deliver()
    assert exporter.lookup(number, issued)["usage"] == "preference-granted"

    lifecycle = [
        "origin:certificate:issued",
        "origin:certificate:amended",
        "origin:certificate:used",
        "origin:verification:requested",
        "origin:verification:answered",
        "origin:certificate:preference-granted",
    ]
    assert exporter.tags()[-6:] == lifecycle
    assert importer.tags()[-6:] == lifecycle


def test_certificates_go_both_ways_through_their_whole_life(gateways):
    jp, partner = gateways
    agreement = AGREEMENTS[partner.id]
    exchange_one_certificate(jp, partner, agreement)
    exchange_one_certificate(partner, jp, agreement)


def test_the_cli_issues_and_looks_up_a_certificate(gateways, tmp_path):
    """The same through ``gateway origin`` commands and ``gateway worker`` processes."""
    jp, partner = gateways
    issued = datetime.now(UTC).date()
    document = certificate(
        number="CLI-1",
        exporting_party="JP",
        importing_party=partner.id,
        agreement=AGREEMENTS[partner.id],
        issue_date=issued,
    )
    source, signed = tmp_path / "co.json", tmp_path / "co.xml"
    source.write_text(json.dumps(document))
    sign_in(jp.env, "sato", "officer")
    for args in (
        ("origin", "sign", str(source), "-o", str(signed)),
        ("origin", "send", str(signed)),
        ("worker", "--once"),
    ):
        result = run(jp.env, *args)
        assert result.returncode == 0, result.stderr
    sign_in(partner.env, "budi", "officer")
    looked_up = run(partner.env, "origin", "lookup", "CLI-1", str(issued))
    assert looked_up.returncode == 0, looked_up.stderr
    record = json.loads(looked_up.stdout)
    assert (record["found"], record["valid"], record["certificate"]) == (True, True, document)
    result = run(
        partner.env,
        "origin",
        "verify-request",
        "JP",
        "CLI-1",
        str(issued),
        "--reason",
        "random-check",
        "--question",
        "Confirm the origin.",
    )
    assert result.returncode == 0, result.stderr
    assert run(partner.env, "worker", "--once").returncode == 0
    listed = run(jp.env, "origin", "verifications")
    assert listed.returncode == 0 and "CLI-1" in listed.stdout and partner.id in listed.stdout
