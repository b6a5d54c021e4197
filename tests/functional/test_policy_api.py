"""POST /v1/policy/explanations: the explanation the review screens will show."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from gateway.store.models import AuditEvent
from tests.conftest import OPERATOR_TOKEN

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def explain(client, body: dict, headers: dict | None = None):
    return client.post(
        "/v1/policy/explanations", json=body, headers=AUTH if headers is None else headers
    )


def test_dry_run_explains_a_refusal_by_its_rule(client, sample_json):
    answer = explain(
        client,
        {
            "partner": "IR",
            "message_type": "seizure-report",
            "direction": "out",
            "purpose": "intelligence",
            "date": "2025-05-01",
            "document": json.loads(sample_json),
        },
    )
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert decision["allowed"] is False and decision["deciding_rule"] == "no-framework-in-force"
    assert decision["rules"][0]["reason"].startswith(
        "no framework with IR is in force on 2025-05-01"
    )


def test_dry_run_lists_redactions_markings_and_review(client, services, sample_json):
    answer = explain(
        client,
        {
            "partner": "US",
            "message_type": "seizure-report",
            "purpose": "intelligence",
            "document": json.loads(sample_json),
        },
    )
    decision = answer.json()
    assert decision["allowed"] and decision["policy_digest"] == services.policies.digest
    assert "/persons/0/name" in decision["redactions"]
    assert decision["markings"] == {"originator": "KR", "handling_code": "H1", "tlp": "TLP:GREEN"}
    assert decision["review_required"] and decision["retention_days"] == 3650
    assert "name" not in decision["document"]["persons"][0]
    assert decision["document"]["persons"][0]["age_band"] in {"25-34", "35-44"}


def test_decision_on_a_stored_message_applies_consents_and_is_audited(
    client, partner, services, sample_json
):
    document = json.loads(sample_json)
    document["markings"]["handling_code"] = "H2"
    message_id = str(uuid.uuid4())
    partner("KR").send(
        "/v1/seizure-reports",
        json.dumps(document).encode(),
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    answer = explain(
        client,
        {
            "partner": "US",
            "message_type": "seizure-report",
            "purpose": "intelligence",
            "message_id": message_id,
        },
    )
    assert answer.json()["deciding_rule"] == "originator-control"
    with services.database.transaction() as session:
        last = (
            session.execute(select(AuditEvent).order_by(AuditEvent.log_index.desc()))
            .scalars()
            .first()
        )
    assert (last.tag, last.actor, last.partner) == (
        "policy:seizure-report:denied",  # originator control denied it
        "operator:review-ui",
        "US",
    )


def test_explanation_requires_an_operator_token(client):
    body = {"partner": "US", "message_type": "seizure-report", "document": {}}
    assert explain(client, body, headers={}).json()["type"].endswith("/token-missing")
    wrong = explain(client, body, headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and wrong.json()["type"].endswith("/token-invalid")


def test_explanation_request_is_schema_checked(client):
    answer = explain(client, {"partner": "US", "message_type": "seizure-report", "colour": "red"})
    assert answer.status_code == 422 and answer.json()["type"].endswith("/schema-invalid")
    bad_document = explain(
        client, {"partner": "US", "message_type": "seizure-report", "document": {"x": 1}}
    )
    assert bad_document.status_code == 422


def test_operator_refusal_is_audited_as_an_operators(client, services):
    """Regression: an operator's name in the partner column overflowed it on PostgreSQL and the
    failed audit write broke the problem response."""
    answer = explain(client, {"partner": "US", "message_type": "seizure-report", "colour": "red"})
    assert answer.status_code == 422
    with services.database.transaction() as session:
        last = (
            session.execute(select(AuditEvent).order_by(AuditEvent.log_index.desc()))
            .scalars()
            .first()
        )
    assert (last.tag, last.actor, last.partner) == (
        "operator:policy:refused",
        "operator:review-ui",
        None,
    )
