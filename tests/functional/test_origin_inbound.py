"""Certificates of origin received by JP from ID and TH (issue 6), in-process over the API.

Each refusal is a signed RFC 9457 problem with a stable type; nothing of the refused message
stays (no message, no certificate, no consumed assertion) but the audit event of the refusal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.documents.certificate_of_origin import declaration_bytes, sign_certificate
from gateway.origin.synthetic import certificate
from gateway.store.models import (
    AuditEvent,
    Certificate,
    CertificateVersion,
    Message,
    OriginVerification,
    OutboxMessage,
    SeenAssertion,
)
from tests.conftest import AUDITOR_TOKEN, OPERATOR_TOKEN

PROBLEMS = "https://customs.go.jp/gateway/problems/"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
TODAY = datetime.now(UTC).date()
AGREEMENTS = {"ID": "JP-ID-EPA", "TH": "JP-TH-EPA"}


def made(exporter: str = "ID", number: str = "ID-COO-0001", **changes) -> dict:
    return certificate(
        number=number,
        exporting_party=exporter,
        importing_party=changes.pop("importing_party", "JP"),
        agreement=changes.pop("agreement", AGREEMENTS.get(exporter, "JP-ID-EPA")),
        issue_date=changes.pop("issue_date", TODAY),
        **changes,
    )


def reference(number: str = "ID-COO-0001") -> dict:
    return {"exporting_party": "ID", "certificate_number": number, "issue_date": TODAY.isoformat()}


def answer_from_id(request_id: str, result: str, findings: list[dict]) -> dict:
    return {
        "answering_administration": "ID",
        "in_reply_to": request_id,
        "agreement": "JP-ID-EPA",
        "result": result,
        "findings": findings,
    }


@pytest.fixture
def send_certificate(partner, authorities):
    def send(document: dict, *, sender: str | None = None, signer: str | None = None):
        exporter = document["exporting_party"]
        if document["kind"] == "certificate":
            key, pinned = authorities[signer or exporter]
            body = sign_certificate(document, key, pinned)
        else:
            body = declaration_bytes(document)
        return partner(sender or exporter).send(
            "/v1/certificates-of-origin",
            body,
            content_type="application/xml",
            message_type="certificate-of-origin",
        )

    return send


@pytest.fixture
def send_json(partner):
    def send(sender: str, path: str, message_type: str, document: dict):
        import json

        return partner(sender).send(
            path,
            json.dumps(document).encode(),
            content_type="application/json",
            message_type=message_type,
        )

    return send


def lookup(client, number: str, issue_date=TODAY, headers=OPERATOR) -> dict:
    response = client.get(
        "/v1/origin/certificates",
        params={"number": number, "issue_date": issue_date.isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def counts(services) -> dict[str, int]:
    with services.database.transaction() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Message, SeenAssertion, AuditEvent, Certificate, CertificateVersion)
        }


@pytest.fixture
def refused(services):
    """``refused(answer, kind, status, subject)``: the problem, and only its audit event."""
    before = counts(services)

    def check(answer, kind: str, status: int, subject: str = "certificate-of-origin") -> dict:
        assert answer.status == status, answer.body
        assert answer.signature is not None, answer.signature_error
        problem = answer.json()
        assert problem["type"] == PROBLEMS + kind, problem
        assert counts(services) == {**before, "AuditEvent": before["AuditEvent"] + 1}
        with services.database.transaction() as session:
            event = (
                session.execute(select(AuditEvent).order_by(AuditEvent.log_index.desc()))
                .scalars()
                .first()
            )
        assert event.tag == f"partner:{subject}:refused"
        assert event.detail["problem"] == kind
        return problem

    return check


@pytest.mark.parametrize("exporter", ["ID", "TH"])
def test_certificate_is_received_verified_registered_and_found_at_clearance(
    client, services, send_certificate, authorities, exporter
):
    document = made(exporter, number=f"{exporter}-COO-7", items=50)
    answer = send_certificate(document)
    assert answer.status == 202, answer.body
    assert answer.json()["status"] == "accepted"
    record = lookup(client, f"{exporter}-COO-7")
    assert record["found"] and record["valid"], record
    assert (record["direction"], record["status"], record["usage"]) == ("in", "issued", "received")
    assert record["certificate"] == document
    assert len(record["certificate"]["items"]) == 50
    assert record["versions"][0]["signed_by"] == {
        "authority": authorities[exporter][1].authority,
        "certificate_sha256": authorities[exporter][1].sha256,
    }
    with services.database.transaction() as session:
        tags = [
            e.tag
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars()
        ]
    assert tags == [
        "partner:certificate-of-origin:received",
        "policy:certificate-of-origin:decided",
        "origin:certificate:issued",
        "officer:certificate-of-origin:looked-up",
    ]


def test_amendment_replaces_the_earlier_version(client, send_certificate):
    assert send_certificate(made()).status == 202
    amended = made(version=2, amendment_reason="corrected the consignee's address")
    assert send_certificate(amended).status == 202
    record = lookup(client, "ID-COO-0001")
    assert (record["status"], record["version"]) == ("amended", 2)
    assert [v["version"] for v in record["versions"]] == [1, 2]
    assert record["certificate"]["amendment"]["reason"] == "corrected the consignee's address"


def test_self_certified_origin_declaration_is_received(client, send_certificate):
    declaration = made(number="DECL-1", kind="origin-declaration", declarant="importer")
    assert send_certificate(declaration).status == 202
    record = lookup(client, "DECL-1")
    assert record["kind"] == "origin-declaration" and record["valid"]
    assert "signed_by" not in record["versions"][0]


def test_unknown_certificate_is_not_found(client):
    assert lookup(client, "NO-SUCH-1") == {"found": False}


# --- one test per attack or fault ---------------------------------------------------------------


def test_tampered_certificate_is_refused(partner, authorities, refused):
    key, pinned = authorities["ID"]
    body = sign_certificate(made(), key, pinned).replace(b"<Count>", b"<Count>1", 1)
    answer = partner("ID").send(
        "/v1/certificates-of-origin",
        body,
        content_type="application/xml",
        message_type="certificate-of-origin",
    )
    assert "does not verify" in refused(answer, "xml-signature-invalid", 422)["detail"]


def test_certificate_signed_by_another_partners_authority_is_refused(send_certificate, refused):
    """TH's authority cannot sign Indonesia's certificates (its certificate is pinned for TH)."""
    refused(send_certificate(made(), signer="TH"), "xml-signature-invalid", 422)


def test_certificate_naming_another_agreement_is_refused(send_certificate, refused):
    problem = refused(send_certificate(made(agreement="JP-TH-EPA")), "policy-denied", 403)
    assert problem["rule"] == "not-covered-by-framework"


def test_certificate_from_a_partner_without_an_epa_is_refused(send_certificate, refused):
    """KR has a CMAA with Japan, no EPA: not even a self-certified declaration flows."""
    declaration = made("KR", agreement="JP-KR-EPA", kind="origin-declaration")
    problem = refused(send_certificate(declaration), "policy-denied", 403)
    assert problem["rule"] == "not-covered-by-framework"


def test_certificate_of_another_exporting_party_is_refused(partner, authorities, refused):
    """KR cannot pass on Indonesia's certificate: the caller must be the exporting party."""
    key, pinned = authorities["ID"]
    answer = partner("KR").send(
        "/v1/certificates-of-origin",
        sign_certificate(made(), key, pinned),
        content_type="application/xml",
        message_type="certificate-of-origin",
    )
    refused(answer, "header-mismatch", 403)


def test_certificate_for_another_importing_party_is_refused(send_certificate, refused):
    refused(send_certificate(made(importing_party="TH")), "header-mismatch", 403)


def test_certificate_issued_before_the_agreement_is_refused(send_certificate, refused):
    """In force today is not enough: the JP-ID EPA entered into force in July 2008."""
    old = made(issue_date=TODAY.replace(year=2008, month=6, day=30), kind="origin-declaration")
    assert refused(send_certificate(old), "policy-denied", 403)["rule"] == (
        "not-covered-by-framework"
    )


def test_json_certificate_is_refused(partner, refused):
    answer = partner("ID").send(
        "/v1/certificates-of-origin",
        b"{}",
        content_type="application/json",
        message_type="certificate-of-origin",
    )
    refused(answer, "unsupported-media-type", 415)


def test_certificate_with_an_integer_of_thousands_of_digits_is_refused(partner, refused):
    """xs:positiveInteger is unbounded, and Python refuses to convert over 4,300 digits (a 500
    once): the XML form's numbers are held to I-JSON's bounds."""
    body = declaration_bytes(made(kind="origin-declaration", declarant="producer"))
    body, replaced = re.subn(rb"<Count>\d+</Count>", b"<Count>" + b"9" * 5000 + b"</Count>", body)
    assert replaced
    answer = partner("ID").send(
        "/v1/certificates-of-origin",
        body,
        content_type="application/xml",
        message_type="certificate-of-origin",
    )
    problem = refused(answer, "schema-invalid", 422)
    assert "(5000 characters) is out of range" in problem["detail"]


def test_amendment_of_an_unknown_certificate_is_refused(send_certificate, refused):
    refused(send_certificate(made(version=2)), "state-conflict", 409)


def test_amendment_skipping_a_version_is_refused(send_certificate, refused_after_first):
    refused_after_first(send_certificate(made(version=3)), "state-conflict", 409)


class RefusedLater:
    """Like ``refused``, counting from ``mark()`` (called once the test's setup is done)."""

    def __init__(self, services) -> None:
        self.services = services
        self.mark()

    def mark(self) -> None:
        self.before = counts(self.services)

    def __call__(self, answer, kind: str, status: int) -> dict:
        assert answer.status == status, answer.body
        assert answer.signature is not None
        assert answer.json()["type"] == PROBLEMS + kind
        before = self.before
        assert counts(self.services) == {**before, "AuditEvent": before["AuditEvent"] + 1}
        return answer.json()


@pytest.fixture
def refused_after_first(send_certificate, services):
    """Refusals once version 1 of ID-COO-0001 is held."""
    assert send_certificate(made()).status == 202
    return RefusedLater(services)


def test_cancellation_after_use_is_refused(services, send_json, refused_after_first):
    ref = reference()
    services.origin.notify(
        ref, "used", actor="officer:test", now=datetime.now(UTC), declaration_number="JP-DEC-1"
    )
    refused_after_first.mark()
    notice = {
        "administration": "ID",
        "certificate": ref,
        "agreement": "JP-ID-EPA",
        "status": "cancelled",
        "reason": "exporter withdrew the application",
    }
    problem = refused_after_first(
        send_json("ID", "/v1/certificate-status-notices", "certificate-status", notice),
        "state-conflict",
        409,
    )
    assert "only an unused certificate can be cancelled" in problem["detail"]


def test_revocation_after_use_is_accepted(client, services, send_json, refused_after_first):
    ref = reference()
    services.origin.notify(
        ref, "used", actor="officer:test", now=datetime.now(UTC), declaration_number="JP-DEC-1"
    )
    notice = {
        "administration": "ID",
        "certificate": ref,
        "agreement": "JP-ID-EPA",
        "status": "revoked",
        "reason": "verification found the goods non-originating",
    }
    answer = send_json("ID", "/v1/certificate-status-notices", "certificate-status", notice)
    assert answer.status == 202, answer.body
    record = lookup(client, "ID-COO-0001")
    assert (record["valid"], record["status"], record["usage"]) == (False, "revoked", "used")
    assert record["reasons"] == [
        "revoked by the exporting party: verification found the goods non-originating"
    ]


def test_use_reported_by_the_exporting_party_is_refused(send_json, refused_after_first):
    notice = {
        "administration": "ID",
        "certificate": {
            "exporting_party": "ID",
            "certificate_number": "ID-COO-0001",
            "issue_date": TODAY.isoformat(),
        },
        "agreement": "JP-ID-EPA",
        "status": "used",
        "declaration_number": "X-1",
    }
    refused_after_first(
        send_json("ID", "/v1/certificate-status-notices", "certificate-status", notice),
        "header-mismatch",
        403,
    )


def test_verification_answer_to_an_unknown_request_is_refused(send_json, refused):
    answer = answer_from_id(
        "00000000-0000-4000-8000-000000000000", "confirmed", [{"finding": "documents checked"}]
    )
    refused(
        send_json("ID", "/v1/origin-verification-answers", "origin-verification-answer", answer),
        "not-found",
        404,
        subject="origin-verification-answer",
    )


def test_lookup_needs_the_officer_or_system_role(client):
    response = client.get(
        "/v1/origin/certificates",
        params={"number": "X", "issue_date": TODAY.isoformat()},
        headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"},
    )
    assert response.status_code == 403
    assert response.json()["type"] == PROBLEMS + "forbidden"


# --- verification, both ways --------------------------------------------------------------------


def test_verification_request_is_due_by_the_agreements_rule_and_listed_when_overdue(
    client, services, send_certificate
):
    assert send_certificate(made()).status == 202
    ref = reference()
    asked = datetime.now(UTC) - timedelta(days=91)
    row = services.origin.request_verification(
        ref,
        reason="doubt-origin-criterion",
        questions=["Provide the cost statement for item 2."],
        items=[2],
        actor="officer:test",
        now=asked,
    )
    assert row.recipient == "ID" and row.state == "queued"
    assert '"reply_by":"' + (asked.date() + timedelta(days=90)).isoformat() in row.body.decode()
    overdue = client.get("/v1/origin/verifications", params={"state": "overdue"}, headers=OPERATOR)
    assert overdue.status_code == 200
    (listed,) = overdue.json()["verifications"]
    assert (listed["request_id"], listed["direction"], listed["overdue"]) == (
        row.message_id,
        "out",
        True,
    )
    assert listed["due_date"] == (asked.date() + timedelta(days=90)).isoformat()
    record = lookup(client, "ID-COO-0001")
    assert record["verifications"][0]["state"] == "open"


def test_verification_answer_closes_the_request(client, services, send_certificate, send_json):
    assert send_certificate(made()).status == 202
    ref = reference()
    row = services.origin.request_verification(
        ref,
        reason="random-check",
        questions=["Confirm origin."],
        actor="officer:t",
        now=datetime.now(UTC),
    )
    answer = answer_from_id(
        row.message_id,
        "not-confirmed",
        [{"item": 1, "confirmed": False, "finding": "materials not originating"}],
    )
    sent = send_json("ID", "/v1/origin-verification-answers", "origin-verification-answer", answer)
    assert sent.status == 202, sent.body
    record = lookup(client, "ID-COO-0001")
    assert record["verifications"][0]["result"] == "not-confirmed"
    assert record["valid"] is False
    again = send_json("ID", "/v1/origin-verification-answers", "origin-verification-answer", answer)
    assert again.status == 409  # a new message answering a closed request
    with services.database.transaction() as session:
        state = session.execute(select(OriginVerification.state)).scalar_one()
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert (state, queued) == ("answered", 1)


def test_partner_request_about_a_certificate_we_never_sent_is_refused(send_json, refused):
    request = {
        "requesting_administration": "ID",
        "certificate": {
            "exporting_party": "JP",
            "certificate_number": "JCCI-1",
            "issue_date": TODAY.isoformat(),
        },
        "agreement": "JP-ID-EPA",
        "reason": "random-check",
        "questions": ["Is it genuine?"],
        "reply_by": (TODAY + timedelta(days=90)).isoformat(),
    }
    refused(
        send_json("ID", "/v1/origin-verification-requests", "origin-verification-request", request),
        "not-found",
        404,
        subject="origin-verification-request",
    )


def test_origin_declaration_is_verified_like_a_certificate(
    client, services, send_certificate, send_json
):
    """Self-certified origin (CPTPP style): the importing customs asks the exporting party's
    customs to verify the producer's declaration, and the answer closes it the same way."""
    declaration = made(number="DECL-9", kind="origin-declaration", declarant="producer")
    assert send_certificate(declaration).status == 202
    ref = reference("DECL-9")
    row = services.origin.request_verification(
        ref,
        reason="doubt-origin-criterion",
        questions=["Send the producer's records for item 1."],
        actor="officer:t",
        now=datetime.now(UTC),
    )
    answer = answer_from_id(
        row.message_id,
        "partially-confirmed",
        [
            {"item": 1, "confirmed": True, "finding": "wholly obtained"},
            {"item": 2, "confirmed": False, "finding": "no records of the producer"},
        ],
    )
    sent = send_json("ID", "/v1/origin-verification-answers", "origin-verification-answer", answer)
    assert sent.status == 202, sent.body
    record = lookup(client, "DECL-9")
    assert record["kind"] == "origin-declaration"
    assert record["verifications"][0]["result"] == "partially-confirmed"
