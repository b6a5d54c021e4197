"""Requests for assistance and their answers (issue 5), both directions."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.errors import ForbiddenError, NotFoundError, PolicyDeniedError
from gateway.people import Person
from gateway.store.models import AuditEvent, Message


def request_from(admin: str, **changes) -> dict:
    document = {
        "requesting_administration": admin,
        "request_id": f"{admin}-RFA-0001",
        "framework": "CMAA",
        "purpose": "intelligence",
        "urgency": "routine",
        "subject": "consignments of synthetic opioids declared as machine parts",
        "questions": ["Was the exporter known to you?", "Which consignments left in March 2026?"],
        "persons": [{"role": "consignor", "name": "Sample Person Two", "nationality": "KR"}],
        "markings": {"originator": admin, "handling_code": "H0", "tlp": "TLP:AMBER"},
    }
    document.update(changes)
    return document


def answer_from(admin: str, in_reply_to: str) -> dict:
    return {
        "answering_administration": admin,
        "in_reply_to": in_reply_to,
        "outcome": "partially-answered",
        "reason": "insufficient-detail",
        "answers": [{"question": 0, "answer": "Not known."}],
        "markings": {"originator": admin, "handling_code": "H0", "tlp": "TLP:AMBER"},
    }


def send(client, path: str, document: dict, message_type: str, message_id: str | None = None):
    return client.send(
        path,
        json.dumps(document).encode(),
        content_type="application/json",
        message_type=message_type,
        message_id=message_id or str(uuid.uuid4()),
    )


def test_partner_request_is_received_and_recorded(partner, services):
    request_id = str(uuid.uuid4())
    answer = send(
        partner("KR"),
        "/v1/assistance-requests",
        request_from("KR"),
        "assistance-request",
        request_id,
    )
    assert answer.status == 202 and answer.signature is not None
    with services.database.transaction() as session:
        stored = session.execute(
            select(Message).where(Message.message_id == request_id)
        ).scalar_one()
    assert stored.message_type == "assistance-request" and stored.handling_code == "H0"
    assert stored.decision["allowed"]


def test_request_without_markings_or_in_another_name_is_refused(partner):
    document = request_from("KR")
    del document["markings"]
    assert (
        send(partner("KR"), "/v1/assistance-requests", document, "assistance-request").status == 422
    )
    forged = send(
        partner("KR"), "/v1/assistance-requests", request_from("CN"), "assistance-request"
    )
    assert forged.status == 403 and forged.json()["type"].endswith("/header-mismatch")


def test_jp_answers_a_partners_request_after_review(partner, services):
    """To NO, whose CMAA carries the FY2012 provisions: an answer's text is free text, so it goes
    past a second officer (to KR it does not go: tests/functional/test_leak_paths.py)."""
    request_id = str(uuid.uuid4())
    send(
        partner("NO"),
        "/v1/assistance-requests",
        request_from("NO"),
        "assistance-request",
        request_id,
    )
    row = services.outbound.disclose(
        recipient="NO",
        message_type="assistance-answer",
        document=answer_from("JP", request_id),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert (
        row.state == "awaiting-review" and row.source_message_id == request_id
    )  # answers are always reviewed
    assert row.decision["second_officer_required"]
    with pytest.raises(ForbiddenError):
        services.outbound.approve(
            row.message_id,
            approver=Person("sato", "sato", frozenset({"officer"})),
            now=datetime.now(UTC),
        )
    assert (
        services.outbound.approve(
            row.message_id,
            approver=Person("sato", "sato", frozenset({"supervisor"})),
            now=datetime.now(UTC),
        ).state
        == "queued"
    )
    with pytest.raises(NotFoundError):
        services.outbound.disclose(
            recipient="NO",
            message_type="assistance-answer",
            document=answer_from("JP", str(uuid.uuid4())),
            purpose="intelligence",
            actor="officer:tanaka",
            now=datetime.now(UTC),
        )


def test_partner_answers_a_request_jp_sent(partner, services):
    kr = partner("NO")
    unknown = send(
        kr, "/v1/assistance-answers", answer_from("NO", str(uuid.uuid4())), "assistance-answer"
    )
    assert unknown.status == 404
    sent = services.outbound.disclose(
        recipient="NO",
        message_type="assistance-request",
        document=request_from("JP"),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert (
        send(
            kr, "/v1/assistance-answers", answer_from("NO", sent.message_id), "assistance-answer"
        ).status
        == 202
    )
    with services.database.transaction() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.tag == "partner:assistance-request:answered")
        ).scalar_one()
    assert event.message_id == sent.message_id and event.detail["outcome"] == "partially-answered"


def test_outgoing_request_to_a_partner_without_the_fy2012_provisions_is_refused(services):
    """Its questions are free text, which the basis withholds: a request that asks nothing
    does not go, and nothing is queued."""
    with pytest.raises(PolicyDeniedError) as refused:
        services.outbound.disclose(
            recipient="KR",
            message_type="assistance-request",
            document=request_from("JP"),
            purpose="intelligence",
            actor="officer:tanaka",
            now=datetime.now(UTC),
        )
    assert refused.value.rule == "release-incomplete"
    assert "/questions" in refused.value.detail


def test_outgoing_request_for_revenue_keeps_no_personal_data_even_under_the_fy2012_provisions(
    services,
):
    """NO's CMAA allows personal data for intelligence and evidence, not revenue."""
    with pytest.raises(PolicyDeniedError):
        services.outbound.disclose(
            recipient="NO",
            message_type="assistance-request",
            document=request_from("JP"),
            purpose="revenue",
            actor="officer:tanaka",
            now=datetime.now(UTC),
        )
    row = services.outbound.disclose(
        recipient="NO",
        message_type="assistance-request",
        document=request_from("JP"),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert b"Sample Person Two" in row.body and row.state == "awaiting-review"
