"""Originator control across a chain (issue 3): KR's H2 report reaches JP; JP may not pass it on to
US or to the hub until KR's consent is recorded, and then only to whom KR consented."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from gateway.errors import ConflictError
from gateway.exchange.onward import decide_onward, record_consent
from gateway.store.models import AuditEvent, Message

TODAY = date(2026, 11, 22)


@pytest.fixture
def h2_report_from_kr(partner, sample_json) -> str:
    document = json.loads(sample_json)
    document["markings"] = {"originator": "KR", "handling_code": "H2", "tlp": "TLP:GREEN"}
    message_id = str(uuid.uuid4())
    answer = partner("KR").send(
        "/v1/seizure-reports",
        json.dumps(document).encode(),
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    assert answer.status == 202, answer.body
    return message_id


def onward(services, message_id: str, recipient: str):
    return decide_onward(
        services.database,
        services.policies,
        services.registry,
        message_id=message_id,
        recipient=recipient,
        purpose="intelligence",
        on=TODAY,
        actor="officer:test",
        gateway_id="JP",
        now=datetime.now(UTC),
    )


def consent(services, message_id: str, recipient: str, reference: str) -> None:
    record_consent(
        services.database,
        services.registry,
        message_id=message_id,
        recipient=recipient,
        reference=reference,
        recorded_by="officer:test",
        now=datetime.now(UTC),
    )


def test_markings_and_decision_are_kept_with_the_message(services, h2_report_from_kr):
    with services.database.transaction() as session:
        message = session.execute(
            select(Message).where(Message.message_id == h2_report_from_kr)
        ).scalar_one()
        decided = session.execute(
            select(AuditEvent).where(AuditEvent.tag == "policy:seizure-report:decided")
        ).scalar_one()
    assert (message.originator, message.handling_code, message.tlp) == ("KR", "H2", "TLP:GREEN")
    assert (
        message.decision["allowed"]
        and message.decision["policy_digest"] == services.policies.digest
    )
    assert decided.detail["policy_digest"] == services.policies.digest
    assert decided.message_id == h2_report_from_kr


def test_h2_report_is_not_passed_on_without_consent(services, h2_report_from_kr):
    for recipient in ("US", "RILO-AP"):
        decision = onward(services, h2_report_from_kr, recipient)
        assert not decision.allowed
        assert decision.deciding_rule == "originator-control"


def test_consent_recorded_for_us_opens_the_way_to_us_only(services, h2_report_from_kr):
    consent(services, h2_report_from_kr, "US", "KCS letter 2026-0456 (synthetic)")
    to_us = onward(services, h2_report_from_kr, "US")
    assert to_us.allowed
    assert to_us.second_officer_required  # H2 goes out only with a second officer
    assert "/persons/0/name" in to_us.redactions  # US's CMAA lacks the FY2012 provisions
    assert not onward(services, h2_report_from_kr, "RILO-AP").allowed

    consent(services, h2_report_from_kr, "RILO-AP", "KCS letter 2026-0457 (synthetic)")
    to_hub = onward(services, h2_report_from_kr, "RILO-AP")
    assert to_hub.allowed
    assert "persons" not in to_hub.document and "summary" not in to_hub.document


def test_every_onward_decision_and_consent_is_audited(services, h2_report_from_kr):
    onward(services, h2_report_from_kr, "US")
    consent(services, h2_report_from_kr, "US", "ref-1")
    with pytest.raises(ConflictError):
        record_consent(
            services.database,
            services.registry,
            message_id=h2_report_from_kr,
            recipient="US",
            reference="ref-1",
            recorded_by="officer:test",
            now=datetime.now(UTC),
        )
    with services.database.transaction() as session:
        tags = [
            e.tag
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars()
        ]
    assert tags[-2:] == ["policy:seizure-report:denied", "officer:consent:recorded"]
