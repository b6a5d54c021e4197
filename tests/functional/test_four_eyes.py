"""Four eyes and who acts, tried the way a person who wants to release something alone would:
on the API, on the pages and through the CLI (issue 20, items 1-3).

Each test is one trick. The domain (gateway.duties, Outbound.approve) must refuse it whatever
door it comes through."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.store.models import AccountSession, AuditEvent, OutboxMessage
from tests.conftest import OPERATOR_TOKEN, OTHER_SYSTEM_TOKEN, PASSWORD, acting_headers
from tests.functional.test_assistance import request_from, send

PROBLEMS = "https://customs.go.jp/gateway/problems/"
NAMED_PERSON = "Sample Person Nine"  # a generated name the answer carries


def api(client, method: str, path: str, officer: str, body: dict | None = None):
    headers = acting_headers(client, officer)
    if body is None:
        return client.request(method, path, headers=headers)
    return client.request(method, path, json=body, headers=headers)


def act(client, case_id: int, officer: str, action: str, **fields):
    return api(
        client, "POST", f"/v1/cases/{case_id}/actions", officer, {"action": action, **fields}
    )


def held(services, message_id: str) -> OutboxMessage:
    with services.database.transaction() as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        ).scalar_one()
        session.expunge(row)
        return row


@pytest.fixture
def kr_case(partner, client, people) -> int:
    """A request from KR in the queue (an H0 request: its answer needs no second officer)."""
    assert (
        send(
            partner("KR"), "/v1/assistance-requests", request_from("KR"), "assistance-request"
        ).status
        == 202
    )
    (case,) = api(client, "GET", "/v1/cases", "suzuki").json()["cases"]
    return int(case["id"])


def decide_alone(client, case_id: int, officer: str, outcome: str = "refused") -> dict:
    for action in ("assign", "start-review"):
        assert act(client, case_id, officer, action).status_code == 200
    fields = (
        {"reason": "ongoing-investigation"}
        if outcome == "refused"
        else {"answers": [{"question": 0, "answer": f"{NAMED_PERSON} was known to us."}]}
    )
    decided = act(client, case_id, officer, "decide", outcome=outcome, **fields)
    assert decided.status_code == 200, decided.text
    return dict(decided.json())


def test_drafter_approving_own_answer_on_the_api_is_refused_even_without_a_second_officer_rule(
    client, services, kr_case
):
    """suzuki holds both roles, assigns the case to herself, decides, and approves: the policy
    asks for no second officer here, and still the drafter may not release her own draft."""
    case = decide_alone(client, kr_case, "suzuki")
    (outgoing,) = case["outgoing"]
    row = held(services, outgoing["message_id"])
    assert row.decision["second_officer_required"] is False  # the trick's premise
    assert "approve" not in case["actions"]  # no button that can only fail
    refused = act(client, kr_case, "suzuki", "approve")
    assert refused.status_code == 403
    assert refused.json()["type"] == PROBLEMS + "forbidden"
    assert "drafter" in refused.json()["detail"]
    row = held(services, outgoing["message_id"])
    assert (row.state, row.approved_by) == ("awaiting-review", None)
    other = act(client, kr_case, "tanaka", "approve")  # another account may
    assert other.status_code == 200, other.text
    row = held(services, outgoing["message_id"])
    assert row.created_by != row.approved_by
    assert row.approved_by == "officer:tanaka"


def test_drafter_approving_own_answer_on_the_pages_is_refused(settings, services, kr_case, client):
    decide_alone(client, kr_case, "suzuki")
    with TestClient(create_app(settings, services), base_url="https://testserver") as browser:
        form = browser.get("/web/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        browser.post("/web/login", data={"username": "suzuki", "password": PASSWORD, "csrf": token})
        page = browser.get(f"/web/cases/{kr_case}")
        assert page.status_code == 200
        assert 'value="approve"' not in page.text  # the drafter is shown no Approve button
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        browser.post(
            f"/web/cases/{kr_case}/actions",
            data={"action": "approve", "csrf": token},
            follow_redirects=False,
        )
    (outgoing,) = api(client, "GET", f"/v1/cases/{kr_case}", "tanaka").json()["outgoing"]
    assert held(services, outgoing["message_id"]).state == "awaiting-review"


def test_one_system_naming_two_officers_in_a_header_acts_as_nobody(client, kr_case):
    """The old trick: X-Acting-Officer: tanaka, then X-Acting-Officer: suzuki."""
    for name in ("tanaka", "suzuki"):
        response = client.get(
            f"/v1/cases/{kr_case}",
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Acting-Officer": name},
        )
        assert response.status_code == 400  # the header the spec requires is missing
    for forged in (name, "tanaka", "x" * 43):
        response = client.get(
            f"/v1/cases/{kr_case}",
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Account-Session": forged},
        )
        assert response.status_code == 401
        assert response.json()["type"] == PROBLEMS + "session-invalid"


def test_a_session_opened_through_another_system_is_refused(client, kr_case):
    opened = client.post(
        "/v1/account-sessions",
        json={"username": "tanaka", "password": PASSWORD},
        headers={"Authorization": f"Bearer {OTHER_SYSTEM_TOKEN}"},
    )
    assert opened.status_code == 201, opened.text
    borrowed = client.get(
        f"/v1/cases/{kr_case}",
        headers={
            "Authorization": f"Bearer {OPERATOR_TOKEN}",
            "X-Account-Session": opened.json()["session"],
        },
    )
    assert borrowed.status_code == 401
    own = client.get(
        f"/v1/cases/{kr_case}",
        headers={
            "Authorization": f"Bearer {OTHER_SYSTEM_TOKEN}",
            "X-Account-Session": opened.json()["session"],
        },
    )
    assert own.status_code == 200


def test_a_wrong_password_opens_no_api_session_and_is_audited(client, services, people):
    response = client.post(
        "/v1/account-sessions",
        json={"username": "tanaka", "password": "not-tanakas-password"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert response.status_code == 401
    assert response.json()["type"] == PROBLEMS + "sign-in-failed"
    with services.database.transaction() as session:
        assert session.execute(select(AccountSession)).first() is None
        tags = [e.tag for e in session.execute(select(AuditEvent)).scalars()]
    assert "web:session:refused" in tags


def test_api_sign_out_ends_the_officers_session(client, kr_case):
    headers = acting_headers(client, "tanaka")
    assert client.get(f"/v1/cases/{kr_case}", headers=headers).status_code == 200
    assert client.delete("/v1/account-sessions/current", headers=headers).status_code == 204
    again = client.get(f"/v1/cases/{kr_case}", headers=headers)
    assert again.status_code == 401


@pytest.mark.parametrize(
    "change",
    ["password", "roles", "disable"],
)
def test_a_change_to_the_account_ends_all_its_sessions(client, services, kr_case, change):
    headers = acting_headers(client, "tanaka")
    assert client.get(f"/v1/cases/{kr_case}", headers=headers).status_code == 200
    now = datetime.now(UTC)
    if change == "password":
        services.accounts.set_password("tanaka", "a-new-long-password", actor="admin:t", now=now)
    elif change == "roles":
        services.accounts.set_roles("tanaka", ["officer", "analyst"], actor="admin:t", now=now)
    else:
        services.accounts.disable("tanaka", actor="admin:t", now=now)
    assert client.get(f"/v1/cases/{kr_case}", headers=headers).status_code == 401
    (row,) = services.sessions.listing(now=now, username="tanaka", include_ended=True)
    assert (
        row["ended_because"]
        == {
            "password": "password-changed",
            "roles": "roles-changed",
            "disable": "disabled",
        }[change]
    )


def test_an_idle_or_old_session_ends(services, people):
    tanaka = people["tanaka"]
    now = datetime.now(UTC)
    idle = services.sessions.open(tanaka, kind="web", via="test", now=now)
    settings = services.settings
    assert services.sessions.person(idle.token, kind="web", now=now) == tanaka
    later = now + timedelta(seconds=settings.session_idle_seconds + 1)
    assert services.sessions.person(idle.token, kind="web", now=later) is None
    old = services.sessions.open(tanaka, kind="web", via="test", now=now)
    step = timedelta(seconds=settings.session_idle_seconds - 1)
    moment = now
    while moment + step < now + timedelta(seconds=settings.session_lifetime_seconds):
        moment += step  # kept busy: never idle
        assert services.sessions.person(old.token, kind="web", now=moment) == tanaka
    past = now + timedelta(seconds=settings.session_lifetime_seconds)
    assert services.sessions.person(old.token, kind="web", now=past) is None
    ended = {
        r["id"]: r["ended_because"] for r in services.sessions.listing(now=past, include_ended=True)
    }
    assert ended == {idle.session_id: "idle", old.session_id: "expired"}


def test_a_session_is_good_only_on_its_own_door(services, people):
    opened = services.sessions.open(people["tanaka"], kind="web", via="test", now=datetime.now(UTC))
    now = datetime.now(UTC)
    assert services.sessions.person(opened.token, kind="cli", now=now) is None
    assert services.sessions.person(opened.token, kind="api", via="review-ui", now=now) is None
    assert services.sessions.person(opened.token, kind="web", now=now) is not None


def test_the_database_never_holds_a_session_token(services, people):
    opened = services.sessions.open(people["tanaka"], kind="web", via="test", now=datetime.now(UTC))
    with services.database.transaction() as session:
        (row,) = session.execute(select(AccountSession)).scalars()
        stored = json.dumps(
            {c.name: str(getattr(row, c.name)) for c in AccountSession.__table__.columns}
        )
    assert opened.token not in stored


def test_an_answer_with_no_answer_text_is_refused_at_preview(client, kr_case):
    for action in ("assign", "start-review"):
        assert act(client, kr_case, "tanaka", action).status_code == 200
    for answers in ([], [{"question": 0, "answer": "   "}]):
        preview = api(
            client,
            "POST",
            f"/v1/cases/{kr_case}/preview",
            "tanaka",
            {"outcome": "answered", "answers": answers},
        )
        assert preview.status_code == 422, preview.text
        assert "answer to at least one question" in preview.json()["detail"]


def test_the_reason_an_officer_picks_reaches_the_answer_unchanged(client, services, kr_case):
    case = decide_alone(client, kr_case, "tanaka")  # reason ongoing-investigation
    (outgoing,) = case["outgoing"]
    body = json.loads(held(services, outgoing["message_id"]).body)
    assert (body["outcome"], body["reason"]) == ("refused", "ongoing-investigation")
    assert case["state"] == "refused"


def test_approving_a_cases_answer_by_its_message_id_moves_the_case_too(
    client, services, people, kr_case
):
    """The CLI approves by message id (gateway outbox approve): the case must not stay behind
    offering an approval nobody can give, nor let its drafter withdraw what was approved."""
    case = decide_alone(client, kr_case, "suzuki")
    (outgoing,) = case["outgoing"]
    row = services.cases.approve_held(outgoing["message_id"], people["sato"], now=datetime.now(UTC))
    assert row.state == "queued" and row.approved_by == "supervisor:sato"
    after = api(client, "GET", f"/v1/cases/{kr_case}", "suzuki").json()
    assert after["state"] == "released"
    refused = act(client, kr_case, "suzuki", "return", reason="other")
    assert refused.status_code == 409
    assert held(services, outgoing["message_id"]).state == "queued"


def test_an_officer_is_not_offered_to_take_a_case_assigned_to_someone_else(
    client, services, kr_case
):
    services.accounts.create(
        "olga",
        roles=["officer"],
        display_name="Olga",
        password=PASSWORD,
        actor="admin:test",
        now=datetime.now(UTC),
    )
    assert act(client, kr_case, "tanaka", "assign").status_code == 200
    shown = api(client, "GET", f"/v1/cases/{kr_case}", "olga").json()["actions"]
    assert "assign" not in shown
    pressed = act(client, kr_case, "olga", "assign")
    assert pressed.status_code == 403  # the button she is not shown does not work either
    assert "assign" in api(client, "GET", f"/v1/cases/{kr_case}", "suzuki").json()["actions"]


def test_an_action_answer_showing_the_case_is_an_audited_read(client, services, kr_case):
    services.reads.flush()
    assert act(client, kr_case, "tanaka", "assign").status_code == 200
    services.reads.flush()
    with services.database.transaction() as session:
        reads = [
            r
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.tag == "officer:reads:recorded")
            ).scalars()
            for r in e.detail["reads"]
        ]
    assert any(r["what"] == "case" and r["case"] == kr_case for r in reads)


def test_a_preview_the_policy_refuses_does_not_say_every_field_goes(
    settings, services, client, kr_case
):
    """KR's CMAA carries no FY2012 provisions: an answer's text cannot go to it, so the answer
    cannot go at all; the preview must not also claim that nothing is withheld."""
    for action in ("assign", "start-review"):
        assert act(client, kr_case, "suzuki", action).status_code == 200
    with TestClient(create_app(settings, services), base_url="https://testserver") as browser:
        form = browser.get("/web/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        browser.post("/web/login", data={"username": "suzuki", "password": PASSWORD, "csrf": token})
        page = browser.get(f"/web/cases/{kr_case}/compose")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        preview = browser.post(
            f"/web/cases/{kr_case}/preview",
            data={
                "csrf": token,
                "outcome": "partially-answered",
                "reason": "confidentiality",
                "answer-0": f"{NAMED_PERSON} was known to us.",
            },
        )
    assert preview.status_code == 200
    assert "The policy refuses it" in preview.text
    assert "every field goes" not in preview.text
    assert "nothing of it goes" in preview.text
