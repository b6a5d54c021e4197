"""The leak harness on every outgoing path (issue 19, item 7), on SQLite and PostgreSQL.

A report (JSON and XML form), a request and an answer carry a canary in every field; they go
down each path out of JP: disclosure and onward sharing, the inbox a partner pulls, answers,
withdrawals passed on and sent by an officer, the hub feed. Every byte a recipient would receive
(the body, the signed header, the inbox page) is searched for the canaries; which may reach whom
is stated in tests/leaks.py. The cases the issue found are tests named after them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from gateway.documents.seizure_report import to_xml
from gateway.errors import PolicyDeniedError
from gateway.model.seizure_report import SeizureReport
from gateway.policy.release import canonical_sha256
from gateway.store.models import AuditEvent, Message, OutboxMessage
from tests.conftest import AUDITOR_TOKEN, SAMPLES
from tests.leaks import CANARY, may_reach, planted

pytestmark = pytest.mark.functional
TODAY = datetime.now(UTC).date()


def canary_report(originator: str = "KR", tlp: str = "TLP:GREEN") -> dict[str, Any]:
    document = json.loads((SAMPLES / "seizure-report.json").read_text())
    document.update(
        reporting_administration=originator,
        report_id=f"CNRY{uuid.uuid4().int % 10000:04d}Q",
        summary="CNRY0001Q courier KIM MINSU, tel +82-10-1234-5678",
        companies=[{"role": "consignee", "name": "CNRY0002Q Trading (sole proprietor)"}],
        markings={"originator": originator, "handling_code": "H0", "tlp": tlp},
    )
    document["office"]["name"] = "CNRY0003Q Customs, desk of officer LEE"
    document["commodity"]["description"] = "bags labelled for CNRY0004Q"
    document["transport"]["conveyance"] = "car plate CNRY0005Q, owner PARK"
    person = document["persons"][0]
    person["name"] = "CNRY0006Q"
    person["document"]["number"] = "CNRY0007Q"
    return document


def send(partner: Any, path: str, body: bytes, message_type: str, media: str) -> str:
    message_id = str(uuid.uuid4())
    answer = partner.send(
        path, body, content_type=media, message_type=message_type, message_id=message_id
    )
    assert answer.status == 202, answer.body
    return message_id


def stored(services: Any, message_id: str) -> dict[str, Any]:
    with services.database.transaction() as session:
        return dict(
            session.execute(
                select(Message.document).where(Message.message_id == message_id)
            ).scalar_one()
        )


def outbox_bytes(services: Any) -> dict[str, list[tuple[OutboxMessage, str]]]:
    """Per recipient: each outbox row and the text it would receive (body + signed header)."""
    found: dict[str, list[tuple[OutboxMessage, str]]] = {}
    with services.database.transaction() as session:
        for row in session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars():
            header = jwt.get_unverified_header(row.signature)
            text = row.body.decode() + json.dumps(header, ensure_ascii=False)
            found.setdefault(row.recipient, []).append((row, text))
            session.expunge(row)
    return found


def assert_nothing_leaked(
    services: Any, originals: dict[str, str], *, purpose: str = "intelligence"
) -> int:
    """No canary in any outbox row a recipient may not have; returns how many went."""
    went = 0
    for recipient, rows in outbox_bytes(services).items():
        for row, text in rows:
            automatic = row.created_by.startswith("system:")
            for canary in set(CANARY.findall(text)):
                pointer = originals[canary]
                allowed = may_reach(pointer, recipient, TODAY, purpose, automatic=automatic)
                assert allowed, f"{canary} ({pointer}) reached {recipient} in {row.message_type}"
                if not may_reach(pointer, "KR", TODAY, purpose, automatic=True):
                    assert row.decision["second_officer_required"], (pointer, recipient)
                    assert row.state == "awaiting-review"
                went += 1
    return went


def inbox_text(answer: Any) -> str:
    """An inbox page as its reader gets it: the bodies decoded, the signed headers read."""
    page = json.loads(answer.body)
    text = answer.body.decode()
    for item in page["items"]:
        text += base64.b64decode(item["body"]).decode()
        if item.get("signature"):
            text += json.dumps(jwt.get_unverified_header(item["signature"]), ensure_ascii=False)
    return text


@pytest.mark.parametrize("form", ["json", "xml"])
def test_report_received_fed_to_the_hub_and_passed_on_leaks_nothing(feeding_jp, form):
    services, kr, us = (
        feeding_jp["services"],
        feeding_jp["partner"]("KR"),
        feeding_jp["partner"]("US"),
    )
    document = canary_report()
    if form == "json":
        body, media = json.dumps(document).encode(), "application/json"
    else:
        body, media = to_xml(SeizureReport.from_dict(document)), "application/xml"
    received = send(kr, "/v1/seizure-reports", body, "seizure-report", media)
    original = stored(services, received)
    originals = {c: p for p, c in planted(original)}
    assert len(originals) >= 8  # every canary came through the form it was sent in
    for recipient in ("US", "NO"):
        services.outbound.disclose(
            recipient=recipient,
            message_type="seizure-report",
            document=original,
            purpose="intelligence",
            actor="officer:tanaka",
            now=datetime.now(UTC),
            source_message_id=received,
        )
    went = assert_nothing_leaked(services, originals)
    assert went > 0  # the open canary (the report id) went: the search is not vacuous
    hub_rows = outbox_bytes(services)["RILO-AP"]
    assert [r.message_type for r, _ in hub_rows] == ["seizure-report-batch"]
    # what US pulls is what the outbox holds: no canary it may not have
    pulled = inbox_text(us.get("/v1/inbox"))
    assert [
        c
        for c in CANARY.findall(pulled)
        if not may_reach(originals[c], "US", TODAY, "intelligence", automatic=False)
    ] == []
    assert "CNRY0006Q" not in pulled and "/persons/0/name" in pulled  # withheld, and said so


def test_redacted_message_is_a_signed_derivation_of_its_original(feeding_jp):
    services = feeding_jp["services"]
    document = canary_report(originator="JP")
    document["reporting_administration"] = "JP"
    row = services.outbound.disclose(
        recipient="US",
        message_type="seizure-report",
        document=document,
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    header = jwt.get_unverified_header(row.signature)
    assert header["withheld"]["original_sha256"] == canonical_sha256(document)
    assert set(header["withheld"]["pointers"]) == set(row.decision["redactions"])
    assert "/persons/0/name" in header["withheld"]["pointers"]
    with services.database.transaction() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.message_id == row.message_id)
        ).scalar_one()
    assert event.detail["decision"]["original_sha256"] == canonical_sha256(document)
    assert "CNRY0006Q" not in json.dumps(event.detail)  # the log proves what, never shows it


def test_answer_whose_free_text_names_a_person_is_refused_to_kr_and_nothing_is_queued(feeding_jp):
    services = feeding_jp["services"]
    request = {
        "requesting_administration": "KR",
        "request_id": "KCS-RFA-1",
        "framework": "CMAA",
        "purpose": "intelligence",
        "urgency": "routine",
        "questions": ["Is this courier known to you?"],
        "markings": {"originator": "KR", "handling_code": "H1", "tlp": "TLP:AMBER"},
    }
    request_id = send(
        feeding_jp["partner"]("KR"),
        "/v1/assistance-requests",
        json.dumps(request).encode(),
        "assistance-request",
        "application/json",
    )
    answer = {
        "answering_administration": "JP",
        "in_reply_to": request_id,
        "outcome": "answered",
        "answers": [{"question": 0, "answer": "Yes: CNRY0008Q, born 1980-02-03, TK1234567"}],
        "markings": {"originator": "JP", "handling_code": "H1", "tlp": "TLP:AMBER"},
    }
    with pytest.raises(PolicyDeniedError) as refused:
        services.outbound.disclose(
            recipient="KR",
            message_type="assistance-answer",
            document=answer,
            purpose="intelligence",
            actor="officer:tanaka",
            now=datetime.now(UTC),
        )
    assert refused.value.rule == "release-incomplete"
    assert outbox_bytes(services) == {}


def test_answer_naming_a_person_goes_to_an_fy2012_partner_only_past_a_second_officer(feeding_jp):
    services = feeding_jp["services"]
    request = {
        "requesting_administration": "NO",
        "request_id": "NO-RFA-1",
        "framework": "CMAA",
        "purpose": "intelligence",
        "urgency": "routine",
        "questions": ["CNRY0009Q: is this courier known to you?"],
        "markings": {"originator": "NO", "handling_code": "H1", "tlp": "TLP:AMBER"},
    }
    request_id = send(
        feeding_jp["partner"]("NO"),
        "/v1/assistance-requests",
        json.dumps(request).encode(),
        "assistance-request",
        "application/json",
    )
    row = services.outbound.disclose(
        recipient="NO",
        message_type="assistance-answer",
        document={
            "answering_administration": "JP",
            "in_reply_to": request_id,
            "outcome": "answered",
            "answers": [{"question": 0, "answer": "CNRY0010Q, passport TK1234567"}],
            "markings": {"originator": "JP", "handling_code": "H1", "tlp": "TLP:AMBER"},
        },
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert row.state == "awaiting-review" and row.decision["second_officer_required"]
    assert assert_nothing_leaked(services, {"CNRY0010Q": "/answers/0/answer"}) == 1


def test_withdrawal_reason_naming_an_informant_reaches_neither_the_hub_nor_onward_partners(
    feeding_jp,
):
    services, kr, us = (
        feeding_jp["services"],
        feeding_jp["partner"]("KR"),
        feeding_jp["partner"]("US"),
    )
    received = send(
        kr,
        "/v1/seizure-reports",
        json.dumps(canary_report()).encode(),
        "seizure-report",
        "application/json",
    )
    services.outbound.disclose(
        recipient="US",
        message_type="seizure-report",
        document=stored(services, received),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
        source_message_id=received,
    )
    _acknowledge_all(us, services)
    with services.database.transaction() as session:  # the hub acknowledged its batch
        for row in session.execute(select(OutboxMessage)).scalars():
            row.state = "acknowledged"
    reason = "courier CNRY0011Q (passport TK1234567) turned informant"
    send(
        kr,
        "/v1/withdrawals",
        json.dumps({"withdraws": received, "reason": reason}).encode(),
        "withdrawal",
        "application/json",
    )
    withdrawals = [
        (recipient, text)
        for recipient, rows in outbox_bytes(services).items()
        for row, text in rows
        if row.message_type == "withdrawal"
    ]
    assert sorted(r for r, _ in withdrawals) == ["RILO-AP", "US"]
    assert all("CNRY0011Q" not in text for _, text in withdrawals)
    assert "CNRY0011Q" not in inbox_text(us.get("/v1/inbox"))


def test_officers_withdrawal_reason_does_not_reach_a_partner_without_the_basis(feeding_jp):
    services, us = feeding_jp["services"], feeding_jp["partner"]("US")
    document = canary_report(originator="JP")
    document["reporting_administration"] = "JP"
    row = services.outbound.disclose(
        recipient="US",
        message_type="seizure-report",
        document=document,
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    _acknowledge_all(us, services)
    withdrawal = services.outbound.withdraw(
        row.message_id,
        reason="CNRY0012Q asked us to",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert withdrawal is not None
    assert "CNRY0012Q" not in withdrawal.body.decode()
    assert withdrawal.decision["redactions"] == ["/reason"]


@pytest.mark.parametrize("tlp", ["TLP:RED", "TLP:AMBER+STRICT"])
def test_tlp_red_report_is_never_fed_to_the_hub_nor_passed_onward(feeding_jp, tlp):
    services = feeding_jp["services"]
    received = send(
        feeding_jp["partner"]("KR"),
        "/v1/seizure-reports",
        json.dumps(canary_report(tlp=tlp)).encode(),
        "seizure-report",
        "application/json",
    )
    with pytest.raises(PolicyDeniedError) as refused:
        services.outbound.disclose(
            recipient="US",
            message_type="seizure-report",
            document=stored(services, received),
            purpose="intelligence",
            actor="officer:tanaka",
            now=datetime.now(UTC),
        )
    assert refused.value.rule == "tlp"
    assert outbox_bytes(services) == {}  # not fed to the hub either


def test_partners_cannot_read_the_audit_log_that_keeps_the_originals(feeding_jp):
    kr = feeding_jp["partner"]("KR")
    received = send(
        kr,
        "/v1/seizure-reports",
        json.dumps(canary_report()).encode(),
        "seizure-report",
        "application/json",
    )
    assert kr.get(f"/v1/audit/messages/{received}").status in (401, 403)
    auditor = feeding_jp["client"].get(
        f"/v1/audit/messages/{received}", headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"}
    )
    assert auditor.status_code == 200  # the auditor sees the original; the partner does not
    assert "CNRY0006Q" in base64.b64decode(auditor.json()["body"]).decode()


def _acknowledge_all(partner: Any, services: Any) -> None:
    """The pulling partner takes everything in its inbox and acknowledges it."""
    for item in partner.get("/v1/inbox").json()["items"]:
        receipt = json.dumps(
            {
                "message_id": item["message_id"],
                "received_at": datetime.now(UTC).isoformat(),
                "body_sha256": hashlib.sha256(base64.b64decode(item["body"])).hexdigest(),
                "status": "accepted",
                "log_index": 0,
                "leaf_hash": "00" * 32,
            }
        ).encode()
        answer = partner.send(
            f"/v1/inbox/{item['message_id']}/acknowledgement",
            receipt,
            content_type="application/json",
            message_type="receipt",
            message_id=item["message_id"],
        )
        assert answer.status == 204, answer.body
