"""Auditors' read-only access, and tree heads and proofs for partners (issue 4)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from gateway.audit import merkle
from gateway.audit.tree_heads import verify_tree_head
from gateway.store.models import SignedTreeHead
from tests.conftest import AUDITOR_TOKEN, OPERATOR_TOKEN

AUDITOR = {"Authorization": f"Bearer {AUDITOR_TOKEN}"}


@pytest.fixture
def sent(partner, sample_json):
    kr = partner("KR")
    ids = [str(uuid.uuid4()) for _ in range(2)]
    for message_id in ids:
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
    kr.send(
        "/v1/seizure-reports", b"{}", content_type="application/json", message_type="seizure-report"
    )
    return ids


def test_auditor_searches_events_by_criteria(client, sent):
    everything = client.get("/v1/audit/events", headers=AUDITOR).json()["events"]
    assert [e["log_index"] for e in everything] == list(range(5))
    by_message = client.get(
        "/v1/audit/events", params={"message_id": sent[0]}, headers=AUDITOR
    ).json()["events"]
    assert [e["tag"] for e in by_message] == [
        "partner:seizure-report:received",
        "policy:seizure-report:decided",
    ]
    denied = client.get("/v1/audit/events", params={"decision": "denied"}, headers=AUDITOR).json()[
        "events"
    ]
    assert [e["tag"] for e in denied] == ["partner:seizure-report:refused"]
    prefix = client.get(
        "/v1/audit/events", params={"tag": "policy:*", "partner": "KR"}, headers=AUDITOR
    ).json()
    assert len(prefix["events"]) == 2
    page = client.get("/v1/audit/events", params={"limit": 2}, headers=AUDITOR).json()
    assert page["next_after"] == 1
    rest = client.get("/v1/audit/events", params={"after": 1, "limit": 10}, headers=AUDITOR).json()[
        "events"
    ]
    assert rest[0]["log_index"] == 2


def test_auditor_opens_a_messages_journey_and_bytes_and_the_read_is_audited(
    client, sent, sample_json
):
    record = client.get(f"/v1/audit/messages/{sent[1]}", headers=AUDITOR)
    assert record.status_code == 200
    data = record.json()
    assert base64.b64decode(data["body"]) == sample_json
    assert data["body_sha256"] == hashlib.sha256(sample_json).hexdigest()
    assert [e["tag"] for e in data["journey"]] == [
        "partner:seizure-report:received",
        "policy:seizure-report:decided",
    ]
    assert json.loads(base64.b64decode(data["receipt"]))["message_id"] == sent[1]
    last = client.get(
        "/v1/audit/events", params={"tag": "auditor:message:read"}, headers=AUDITOR
    ).json()["events"]
    assert last[-1]["actor"] == "auditor:compliance" and last[-1]["message_id"] == sent[1]


def test_auditor_can_change_nothing(client, sent, sample_json):
    explained = client.post(
        "/v1/policy/explanations",
        headers=AUDITOR,
        json={
            "partner": "US",
            "message_type": "seizure-report",
            "document": json.loads(sample_json),
        },
    )
    assert explained.status_code == 403 and explained.json()["type"].endswith("/forbidden")
    for method in ("post", "put", "delete"):
        response = getattr(client, method)(f"/v1/audit/messages/{sent[0]}", headers=AUDITOR)
        assert response.status_code == 405


def test_system_token_may_not_read_the_audit_log(client, sent):
    response = client.get("/v1/audit/events", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert response.status_code == 403


def test_partner_checks_its_receipt_against_a_signed_tree_head(
    client, partner, services, sample_json
):
    kr = partner("KR")
    message_id = str(uuid.uuid4())
    receipt = kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    ).json()
    head = kr.get("/v1/audit/tree-head")
    assert head.status == 200 and head.signature is not None
    signed = verify_tree_head(head.json()["signed_tree_head"], list(services.keyring.published))
    proof = kr.get(
        f"/v1/audit/proofs/inclusion?index={receipt['log_index']}&tree_size={signed.tree_size}"
    ).json()
    assert proof["leaf_hash"] == receipt["leaf_hash"]
    assert merkle.verify_inclusion(
        receipt["log_index"],
        signed.tree_size,
        bytes.fromhex(receipt["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["proof"]],
        signed.root_hash,
    )
    kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
    )
    with services.database.transaction() as session:  # the tree-head interval passes
        session.execute(
            update(SignedTreeHead).values(
                signed_at=datetime.now(UTC)
                - timedelta(seconds=services.settings.tree_head_interval_seconds)
            )
        )
    later = verify_tree_head(
        kr.get("/v1/audit/tree-head").json()["signed_tree_head"], list(services.keyring.published)
    )
    consistency = kr.get(
        f"/v1/audit/proofs/consistency?first={signed.tree_size}&second={later.tree_size}"
    ).json()
    assert later.tree_size > signed.tree_size
    assert merkle.verify_consistency(
        signed.tree_size,
        later.tree_size,
        signed.root_hash,
        later.root_hash,
        [bytes.fromhex(p) for p in consistency["proof"]],
    )


def test_proof_beyond_the_log_is_not_found(client, sent):
    response = client.get(
        "/v1/audit/proofs/inclusion", params={"index": 99, "tree_size": 100}, headers=AUDITOR
    )
    assert response.status_code == 404


def test_tag_prefix_search_treats_wildcards_literally(client, sent):
    """Regression: a % in the prefix was passed to SQL LIKE as a wildcard."""
    response = client.get("/v1/audit/events", params={"tag": "%*"}, headers=AUDITOR)
    assert response.status_code == 200 and response.json()["events"] == []


def test_denied_onward_decisions_are_found_as_denied(client, services, sent):
    from datetime import UTC, date, datetime

    from gateway.exchange.onward import decide_onward

    decision = decide_onward(
        services.database,
        services.policies,
        services.registry,
        message_id=sent[0],
        recipient="IR",
        purpose="intelligence",
        on=date(2025, 5, 1),
        actor="officer:test",
        gateway_id="JP",
        now=datetime.now(UTC),
    )
    assert not decision.allowed
    denied = client.get("/v1/audit/events", params={"decision": "denied"}, headers=AUDITOR).json()[
        "events"
    ]
    allowed = client.get(
        "/v1/audit/events", params={"decision": "allowed"}, headers=AUDITOR
    ).json()["events"]
    assert "policy:seizure-report:denied" in [e["tag"] for e in denied]
    assert all(e["tag"].endswith(":decided") and e["detail"]["allowed"] for e in allowed)
