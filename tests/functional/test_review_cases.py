"""The IIO review workflow (issue 7) through the API, as an integrating system uses it: every
call carries the system's operator token and the session the acting officer opened through it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.store.models import AuditEvent, OutboxMessage
from tests.conftest import acting_headers
from tests.functional.test_assistance import request_from, send

PROBLEMS = "https://customs.go.jp/gateway/problems/"


def api(client, method: str, path: str, officer: str, body: dict | None = None):
    headers = acting_headers(client, officer)
    if body is not None:
        headers["Content-Type"] = "application/json"
        return client.request(method, path, content=json.dumps(body), headers=headers)
    return client.request(method, path, headers=headers)


def act(client, case_id: int, officer: str, action: str, **fields):
    return api(
        client, "POST", f"/v1/cases/{case_id}/actions", officer, {"action": action, **fields}
    )


@pytest.fixture
def case_id(partner, client, people) -> int:
    """A request for assistance NO sent, as it waits in the queue (NO's CMAA carries the FY2012
    provisions: an answer's text may go to it, past a second officer)."""
    request = request_from(
        "NO", markings={"originator": "NO", "handling_code": "H2", "tlp": "TLP:AMBER"}
    )
    assert (
        send(partner("NO"), "/v1/assistance-requests", request, "assistance-request").status == 202
    )
    (case,) = api(client, "GET", "/v1/cases", "tanaka").json()["cases"]
    return case["id"]


def decide_answered(client, case_id: int, officer: str = "tanaka", handling_code: str = "H2"):
    for action in ("assign", "start-review"):
        assert act(client, case_id, officer, action).status_code == 200
    return act(
        client,
        case_id,
        officer,
        "decide",
        outcome="answered",
        answers=[{"question": 0, "answer": "The exporter was unknown to us."}],
        markings={"handling_code": handling_code, "tlp": "TLP:AMBER"},
    )


def test_a_received_request_opens_a_case_due_by_the_frameworks_deadline(client, case_id):
    case = api(client, "GET", f"/v1/cases/{case_id}", "tanaka").json()
    assert (case["state"], case["kind"], case["partner"]) == ("received", "request", "NO")
    # NO: a CMAA, whose policy gives 60 days to answer
    assert case["due_date"] == (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
    assert case["request"]["document"]["questions"][0] == "Was the exporter known to you?"
    assert case["actions"] == ["assign"]
    assert [e["tag"] for e in case["history"]][:2] == [
        "partner:assistance-request:received",
        "policy:assistance-request:decided",
    ]


def test_answer_goes_out_only_after_a_second_officer_approves_it(client, services, case_id):
    decided = decide_answered(client, case_id)
    assert decided.status_code == 200, decided.text
    case = decided.json()
    assert case["state"] == "answered"
    (held,) = case["outgoing"]
    assert (held["state"], held["created_by"]) == ("awaiting-review", "officer:tanaka")

    preview = api(client, "POST", f"/v1/cases/{case_id}/preview", "tanaka").json()
    assert preview["second_officer_required"] is True
    assert preview["outgoing"]["in_reply_to"] == case["request_id"]

    # four eyes: not the drafter, and a supervisor
    assert act(client, case_id, "tanaka", "approve").json()["type"] == PROBLEMS + "forbidden"
    approved = act(client, case_id, "sato", "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "released"
    with services.database.transaction() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert (row.state, row.approved_by) == ("queued", "supervisor:sato")
    assert act(client, case_id, "tanaka", "close").json()["state"] == "closed"


def test_a_supervisor_cannot_approve_their_own_answer(client, case_id):
    decide_answered(client, case_id, officer="suzuki")
    response = act(client, case_id, "suzuki", "approve")
    assert response.status_code == 403
    assert "four eyes" in response.json()["detail"]


def test_answer_whose_text_names_a_person_needs_a_second_officer_even_under_h1(client, case_id):
    """H1 asks only for review (policies/frameworks.yaml), but an answer's text is free text,
    personal data for the policy: its drafter approved it alone (issue 19)."""
    decide_answered(client, case_id, handling_code="H1")
    alone = act(client, case_id, "tanaka", "approve")
    assert alone.status_code == 403 and "four eyes" in alone.json()["detail"]
    assert act(client, case_id, "sato", "approve").json()["state"] == "released"


def test_illegal_transitions_are_refused(client, case_id):
    for action in ("approve", "close", "start-review", "submit"):
        response = act(client, case_id, "tanaka", action)
        assert response.status_code == 409, (action, response.text)
        assert response.json()["type"] == PROBLEMS + "state-conflict"
    response = act(client, case_id, "tanaka", "decide", outcome="answered")
    assert response.json()["type"] == PROBLEMS + "state-conflict"


def test_refusal_needs_a_reason_from_the_vocabulary(client, case_id):
    for action in ("assign", "start-review"):
        act(client, case_id, "tanaka", action)
    assert act(client, case_id, "tanaka", "decide", outcome="refused").status_code == 409
    bad = act(client, case_id, "tanaka", "decide", outcome="refused", reason="because")
    assert bad.status_code == 422  # not in the spec's enumeration
    refused = act(client, case_id, "tanaka", "decide", outcome="refused", reason="outside-scope")
    assert refused.json()["state"] == "refused"
    preview = api(client, "POST", f"/v1/cases/{case_id}/preview", "tanaka").json()
    assert (preview["outgoing"]["outcome"], preview["outgoing"]["reason"]) == (
        "refused",
        "outside-scope",
    )


def test_analyst_may_not_act_on_cases(client, case_id):
    response = act(client, case_id, "yamada", "assign")
    assert response.status_code == 403 and response.json()["type"] == PROBLEMS + "forbidden"
    assert api(client, "GET", f"/v1/cases/{case_id}", "yamada").status_code == 403


def test_only_a_supervisor_assigns_to_someone_else(client, case_id):
    assert act(client, case_id, "tanaka", "assign", assignee="suzuki").status_code == 403
    moved = act(client, case_id, "sato", "assign", assignee="suzuki")
    assert moved.json()["assignee"] == "suzuki"
    assert act(client, case_id, "tanaka", "start-review").status_code == 403
    reassigned = act(client, case_id, "sato", "assign", assignee="tanaka")
    assert reassigned.json()["assignee"] == "tanaka"
    events = [e for e in reassigned.json()["history"] if e["tag"] == "officer:case:assign"]
    assert [(e["actor"], e["detail"]["to"]) for e in events] == [
        ("supervisor:sato", "suzuki"),
        ("supervisor:sato", "tanaka"),
    ]


def test_sending_an_answer_back_withdraws_it_before_it_goes(client, services, case_id):
    decide_answered(client, case_id)
    back = act(
        client, case_id, "sato", "return", reason="insufficient-detail", note="cite the file"
    )
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "in-review"
    with services.database.transaction() as session:
        assert session.execute(select(OutboxMessage.state)).scalar_one() == "withdrawn"
    again = act(
        client,
        case_id,
        "tanaka",
        "decide",
        outcome="partially-answered",
        reason="confidentiality",
        answers=[{"question": 0, "answer": "Only part of it can be told."}],
    )
    assert again.json()["state"] == "partially-answered"


def test_every_transition_is_an_audit_event_naming_the_officer(client, services, case_id):
    decide_answered(client, case_id)
    act(client, case_id, "sato", "approve")
    with services.database.transaction() as session:
        events = [
            (e.tag, e.actor, e.detail.get("from"), e.detail.get("to"))
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars()
            if e.tag.endswith(
                tuple(
                    f":case:{a}" for a in ("opened", "assign", "start-review", "decide", "approve")
                )
            )
        ]
    assert events == [
        ("review:case:opened", "system:review", None, "received"),
        ("officer:case:assign", "officer:tanaka", None, "tanaka"),
        ("officer:case:start-review", "officer:tanaka", "assigned", "in-review"),
        ("officer:case:decide", "officer:tanaka", "in-review", "answered"),
        ("officer:case:approve", "supervisor:sato", "answered", "released"),
    ]


def test_overdue_cases_are_listed(client, services, people, partner):
    send(partner("KR"), "/v1/assistance-requests", request_from("KR"), "assistance-request")
    later = datetime.now(UTC).date() + timedelta(days=61)
    overdue = services.cases.queue(today=later, overdue=True)
    assert [c["overdue"] for c in overdue] == [True]
    assert api(client, "GET", "/v1/cases?overdue=true", "tanaka").json()["cases"] == []


def test_acting_officer_must_be_an_active_account(client, case_id):
    response = api(client, "GET", f"/v1/cases/{case_id}", "mallory")
    assert response.status_code == 401
    assert response.json()["type"] == PROBLEMS + "session-invalid"


def test_officer_drafts_a_disclosure_which_waits_for_approval(client, services, people):
    report = json.loads(
        (services.settings.spec_path.parent / "samples" / "seizure-report.json").read_text()
    )
    report["reporting_administration"] = "JP"
    report["markings"] = {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}
    created = api(
        client,
        "POST",
        "/v1/drafts",
        "tanaka",
        {
            "recipient": "KR",
            "message_type": "seizure-report",
            "purpose": "intelligence",
            "document": report,
        },
    )
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["state"], case["kind"], case["outgoing"][0]["state"]) == (
        "drafted",
        "disclosure",
        "awaiting-review",
    )
    preview = api(client, "POST", f"/v1/cases/{case['id']}/preview", "tanaka").json()
    assert "/persons/0/name" in [r["path"] for r in preview["redactions"]]
    assert "Sample Person One" not in json.dumps(preview["outgoing"])
    assert "Sample Person One" in json.dumps(preview["original"])
    assert act(client, case["id"], "tanaka", "approve").status_code == 409  # submit first
    assert act(client, case["id"], "tanaka", "submit").json()["state"] == "in-review"
    approved = act(client, case["id"], "sato", "approve")
    assert approved.json()["state"] == "approved"
    assert approved.json()["outgoing"][0]["state"] == "queued"


def test_dead_letters_are_listed_and_retried(client, services, people):
    report = json.loads(
        (services.settings.spec_path.parent / "samples" / "seizure-report.json").read_text()
    )
    report["reporting_administration"] = "JP"
    row = services.outbound.disclose(
        recipient="KR",
        message_type="seizure-report",
        document=report,
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    with services.database.transaction() as session:
        stored = session.execute(select(OutboxMessage)).scalar_one()
        stored.state, stored.last_error, stored.attempts = "failed", "HTTP 503 eight times", 8
    (letter,) = api(client, "GET", "/v1/dead-letters", "tanaka").json()["messages"]
    assert (letter["message_id"], letter["last_error"]) == (row.message_id, "HTTP 503 eight times")
    retried = api(client, "POST", f"/v1/dead-letters/{row.message_id}/retry", "tanaka")
    assert retried.json() == {"message_id": row.message_id, "state": "queued"}
    assert (
        api(client, "POST", f"/v1/dead-letters/{row.message_id}/retry", "yamada").status_code == 403
    )
    assert str(uuid.UUID(row.message_id)) == row.message_id
