"""Withdrawals (issue 5, PROTOCOL §7): recorded with the original, and passed on."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import jwt
from sqlalchemy import select

from gateway.people import Person
from gateway.store.models import AuditEvent, Message, OutboxMessage


def withdrawal(original: str, reason: str = "report entered in error") -> bytes:
    return json.dumps({"withdraws": original, "reason": reason}).encode()


def send_report(kr, sample_json) -> str:
    message_id = str(uuid.uuid4())
    assert (
        kr.send(
            "/v1/seizure-reports",
            sample_json,
            content_type="application/json",
            message_type="seizure-report",
            message_id=message_id,
        ).status
        == 202
    )
    return message_id


def pass_on_to_us(services, original: str):
    """JP passes a received report on to US (drafted; answers to review)."""
    with services.database.transaction() as session:
        document = session.execute(
            select(Message.document).where(Message.message_id == original)
        ).scalar_one()
    return services.outbound.disclose(
        recipient="US",
        message_type="seizure-report",
        document=document,
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
        source_message_id=original,
    )


def withdraw(client, original: str, message_id: str | None = None):
    return client.send(
        "/v1/withdrawals",
        withdrawal(original),
        content_type="application/json",
        message_type="withdrawal",
        message_id=message_id or str(uuid.uuid4()),
    )


def test_partner_withdraws_its_report_and_both_are_kept(partner, services, sample_json):
    kr = partner("KR")
    original = send_report(kr, sample_json)
    withdrawal_id = str(uuid.uuid4())
    first = withdraw(kr, original, withdrawal_id)
    assert first.status == 202 and first.signature is not None
    assert withdraw(kr, original, withdrawal_id).body == first.body  # a resend: the same receipt
    with services.database.transaction() as session:
        old = session.execute(select(Message).where(Message.message_id == original)).scalar_one()
        new = session.execute(
            select(Message).where(Message.message_id == withdrawal_id)
        ).scalar_one()
        event = session.execute(
            select(AuditEvent).where(AuditEvent.tag == "partner:seizure-report:withdrawn")
        ).scalar_one()
    assert (
        old.withdrawn_by == withdrawal_id
        and old.withdrawn_at is not None
        and old.body == sample_json
    )
    assert new.message_type == "withdrawal" and new.document["withdraws"] == original
    assert event.detail["withdrawal"] == withdrawal_id


def test_only_the_sender_can_withdraw(partner, sample_json):
    original = send_report(partner("KR"), sample_json)
    refused = withdraw(partner("US"), original)
    assert refused.status == 404 and refused.json()["type"].endswith("/not-found")
    unknown = withdraw(partner("KR"), str(uuid.uuid4()))
    assert unknown.status == 404


def send_withdrawal(client, document: dict):
    return client.send(
        "/v1/withdrawals",
        json.dumps(document).encode(),
        content_type="application/json",
        message_type="withdrawal",
        message_id=str(uuid.uuid4()),
    )


def withdrawn_at(services, message_id: str):
    with services.database.transaction() as session:
        return session.execute(
            select(Message.withdrawn_at).where(Message.message_id == message_id)
        ).scalar_one()


def test_report_superseded_by_itself_is_refused_and_stays(partner, services, sample_json):
    kr = partner("KR")
    original = send_report(kr, sample_json)
    answer = send_withdrawal(kr, {"withdraws": original, "reason": "x", "superseded_by": original})
    assert answer.status == 422 and answer.json()["type"].endswith("/schema-invalid")
    assert answer.json()["detail"] == "superseded_by names the withdrawn message itself"
    assert withdrawn_at(services, original) is None


def test_items_for_a_message_that_is_not_a_batch_are_refused(partner, services, sample_json):
    """They were ignored: the whole report was withdrawn, not the 'items' the sender named."""
    kr = partner("KR")
    original = send_report(kr, sample_json)
    answer = send_withdrawal(kr, {"withdraws": original, "reason": "x", "items": ["KCS-1"]})
    assert answer.status == 422, answer.body
    assert answer.json()["detail"].startswith("items name reports of a batch")
    assert withdrawn_at(services, original) is None


def test_withdrawal_of_a_withdrawal_is_refused_and_the_original_stays_withdrawn(
    partner, services, sample_json
):
    """It was accepted, and marked the withdrawal withdrawn: to the sender it read as putting
    the report back, which nothing did."""
    kr = partner("KR")
    original = send_report(kr, sample_json)
    first = str(uuid.uuid4())
    assert withdraw(kr, original, first).status == 202
    answer = withdraw(kr, first)
    assert answer.status == 409 and answer.json()["type"].endswith("/state-conflict")
    assert "send that message again under a new id" in answer.json()["detail"]
    assert withdrawn_at(services, original) is not None and withdrawn_at(services, first) is None


def test_withdrawal_follows_the_report_where_it_went(partner, services, sample_json):
    kr, us = partner("KR"), partner("US")
    original = send_report(kr, sample_json)
    onward = pass_on_to_us(services, original)
    services.outbound.approve(
        onward.message_id,
        approver=Person("suzuki", "suzuki", frozenset({"supervisor"})),
        now=datetime.now(UTC),
    )
    item = us.get("/v1/inbox").json()["items"][0]
    receipt = json.dumps(
        {
            "message_id": item["message_id"],
            "received_at": datetime.now(UTC).isoformat(),
            "body_sha256": onward.body_sha256,
            "status": "accepted",
            "log_index": 0,
            "leaf_hash": "00" * 32,
        }
    ).encode()
    assert (
        us.send(
            f"/v1/inbox/{item['message_id']}/acknowledgement",
            receipt,
            content_type="application/json",
            message_type="receipt",
            message_id=item["message_id"],
        ).status
        == 204
    )

    assert withdraw(kr, original).status == 202
    items = us.get("/v1/inbox").json()["items"]
    assert [i["message_type"] for i in items] == ["withdrawal"]
    passed_on = json.loads(base64.b64decode(items[0]["body"]))
    assert passed_on == {"withdraws": onward.message_id}  # the originator's reason stays here
    withheld = jwt.get_unverified_header(items[0]["signature"])["withheld"]
    assert withheld["pointers"] == ["/reason"]


def test_withdrawal_before_delivery_stops_the_onward_message(partner, services, sample_json):
    kr = partner("KR")
    original = send_report(kr, sample_json)
    onward = pass_on_to_us(services, original)
    assert onward.state == "awaiting-review"
    assert withdraw(kr, original).status == 202
    with services.database.transaction() as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
    assert [(r.message_id, r.state) for r in rows] == [(onward.message_id, "withdrawn")]
