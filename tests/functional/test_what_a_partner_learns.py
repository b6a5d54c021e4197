"""What a partner can learn (issue 20, item 8), from the attacker's side.

A partner asks about what is another partner's (a leaf of the log, a message id, a request, a
certificate) and must get exactly the answer it gets for what never existed: the same status,
problem type and title, and a detail of the same words with only the value it named changed. It
polls the tree head around another partner's message and must see nothing move.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.audit import merkle
from gateway.audit.tree_heads import verify_tree_head
from gateway.client.partner import Answer
from gateway.documents.certificate_of_origin import sign_certificate
from gateway.store.models import AuditEvent, SignedTreeHead
from tests.conftest import AUDITOR_TOKEN, SAMPLES
from tests.functional.test_assistance import answer_from, request_from
from tests.functional.test_assistance import send as send_json
from tests.functional.test_origin_inbound import made
from tests.functional.test_pull import receipt_for, report

PROBLEMS = "https://customs.go.jp/gateway/problems/"
AUDITOR = {"Authorization": f"Bearer {AUDITOR_TOKEN}"}
NEVER_USED = "00000000-0000-4000-8000-00000000dead"


def shape(answer: Answer, *named: str) -> dict[str, Any]:
    """What a refusal tells its caller: status, media type, the problem's members and their
    values, with each value the caller ``named`` (and every number) replaced by a placeholder.
    Only ``instance`` is left out: it is a fresh UUID on every refusal."""
    assert answer.signature is not None, answer.signature_error
    problem = answer.json()
    detail = problem["detail"]
    for value in filter(None, named):
        detail = detail.replace(value, "<named>")
    return {
        "status": answer.status,
        "content_type": answer.content_type,
        **{k: v for k, v in problem.items() if k not in ("instance", "detail")},
        "detail": re.sub(r"\d+", "<n>", detail),
    }


def assert_same_answer(theirs: Answer, never: Answer, named: tuple[str, str], status: int) -> None:
    """``theirs`` (naming another partner's ``named[0]``) reads exactly as ``never`` (naming
    ``named[1]``, which never existed), and both are ``status``."""
    assert theirs.status == status, theirs.body
    assert shape(theirs, named[0]) == shape(never, named[1])


def report_from(admin: str) -> bytes:
    document = json.loads((SAMPLES / "seizure-report.json").read_text(encoding="utf-8"))
    document["reporting_administration"] = admin
    document["markings"] = {**document["markings"], "originator": admin}
    return json.dumps(document).encode()


def send_report(client: Any, admin: str) -> dict[str, Any]:
    """``admin`` sends JP a seizure report; its receipt."""
    answer = client.send(
        "/v1/seizure-reports",
        report_from(admin),
        content_type="application/json",
        message_type="seizure-report",
    )
    assert answer.status == 202, answer.body
    return answer.json()


def head_of(partner_client: Any, services: Any) -> Any:
    """The tree head ``partner_client`` is served, its signature checked."""
    answer = partner_client.get("/v1/audit/tree-head")
    assert answer.status == 200, answer.body
    return verify_tree_head(answer.json()["signed_tree_head"], list(services.keyring.published))


def time_passes(services: Any, seconds: int) -> None:
    """Every stored head was signed ``seconds`` earlier (as if that much time had passed)."""
    with services.database.transaction() as session:
        session.execute(
            update(SignedTreeHead).values(signed_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


def log_size(client: Any) -> int:
    events = client.get("/v1/audit/events", params={"limit": 1000}, headers=AUDITOR).json()
    return len(events["events"])


@pytest.fixture
def sent_to_us(services: Any) -> list[str]:
    """Two reports JP queued for US (which pulls them from its inbox); their ids."""
    return [
        services.outbound.disclose(
            recipient="US",
            message_type="seizure-report",
            document=report(),
            purpose="intelligence",
            actor="officer:test",
            now=datetime.now(UTC),
        ).message_id
        for _ in range(2)
    ]


# --- the log: proofs and tree heads -------------------------------------------------------------


def test_partner_asking_the_inclusion_proof_of_another_partners_leaf_gets_same_answer_as_a_leaf_that_does_not_exist(
    client, partner, services
):
    kr, us = partner("KR"), partner("US")
    theirs = send_report(us, "US")
    own = send_report(kr, "KR")
    head = head_of(kr, services)
    for index in range(head.tree_size):  # every leaf about US's report: received, decided
        with services.database.transaction() as session:
            event = session.get(AuditEvent, index)
        if event.message_id != theirs["message_id"]:
            continue
        refused = kr.get(f"/v1/audit/proofs/inclusion?index={index}&tree_size={head.tree_size}")
        beyond = kr.get(f"/v1/audit/proofs/inclusion?index={index}&tree_size=2147483647")
        assert_same_answer(refused, beyond, ("", ""), 404)
        assert refused.json()["type"] == PROBLEMS + "not-found"
    mine = kr.get(f"/v1/audit/proofs/inclusion?index={own['log_index']}&tree_size={head.tree_size}")
    assert mine.status == 200 and mine.json()["leaf_hash"] == own["leaf_hash"]
    assert merkle.verify_inclusion(
        own["log_index"],
        head.tree_size,
        bytes.fromhex(own["leaf_hash"]),
        [bytes.fromhex(p) for p in mine.json()["proof"]],
        head.root_hash,
    )


def test_partner_asking_the_proof_of_a_leaf_without_a_message_gets_same_answer_as_a_leaf_that_does_not_exist(
    client, partner, services
):
    kr = partner("KR")
    refusal = kr.send(  # its own refusal: a leaf about no stored message
        "/v1/seizure-reports", b"{}", content_type="application/json", message_type="seizure-report"
    )
    assert refusal.status == 422
    head = head_of(kr, services)
    refused = kr.get(f"/v1/audit/proofs/inclusion?index=0&tree_size={head.tree_size}")
    beyond = kr.get("/v1/audit/proofs/inclusion?index=0&tree_size=2147483647")
    assert_same_answer(refused, beyond, ("", ""), 404)


def test_partner_asking_proofs_in_a_tree_larger_than_the_latest_head_gets_same_answer_as_beyond_the_log(
    client, partner, services
):
    kr = partner("KR")
    own = send_report(kr, "KR")
    head = head_of(kr, services)
    send_report(partner("US"), "US")  # the log grows beyond the head
    size = log_size(client)
    assert size > head.tree_size
    inclusion = kr.get(f"/v1/audit/proofs/inclusion?index={own['log_index']}&tree_size={size}")
    beyond = kr.get(f"/v1/audit/proofs/inclusion?index={own['log_index']}&tree_size=2147483647")
    assert_same_answer(inclusion, beyond, ("", ""), 404)
    consistency = kr.get(f"/v1/audit/proofs/consistency?first=1&second={size}")
    far = kr.get("/v1/audit/proofs/consistency?first=1&second=2147483647")
    assert_same_answer(consistency, far, ("", ""), 404)
    within = kr.get(f"/v1/audit/proofs/consistency?first=1&second={head.tree_size}")
    assert within.status == 200


def test_auditor_gets_the_proof_of_any_leaf_in_the_log_as_it_is_now(client, partner, services):
    theirs = send_report(partner("US"), "US")
    head_of(partner("KR"), services)
    send_report(partner("KR"), "KR")
    size = log_size(client)
    proof = client.get(
        "/v1/audit/proofs/inclusion",
        params={"index": theirs["log_index"], "tree_size": size},
        headers=AUDITOR,
    )
    assert proof.status_code == 200 and proof.json()["leaf_hash"] == theirs["leaf_hash"]
    assert (
        client.get(
            "/v1/audit/proofs/consistency", params={"first": 1, "second": size}, headers=AUDITOR
        ).status_code
        == 200
    )


def test_partner_polling_the_tree_head_around_another_partners_message_gets_the_same_head(
    client, partner, services
):
    kr = partner("KR")
    before = kr.get("/v1/audit/tree-head").json()
    send_report(partner("US"), "US")
    after = kr.get("/v1/audit/tree-head").json()
    assert after == before
    auditor = client.get("/v1/audit/tree-head", headers=AUDITOR).json()
    assert auditor == before  # auditors are served the cadence's head too


def test_tree_head_is_signed_anew_once_the_interval_has_passed(client, partner, services):
    kr = partner("KR")
    send_report(kr, "KR")
    first = head_of(kr, services)
    own = send_report(kr, "KR")
    assert head_of(kr, services) == first  # its own message waits for the next head
    time_passes(services, services.settings.tree_head_interval_seconds)
    later = head_of(kr, services)
    assert later.tree_size > own["log_index"] >= first.tree_size
    proof = kr.get(
        f"/v1/audit/proofs/inclusion?index={own['log_index']}&tree_size={later.tree_size}"
    )
    assert proof.status == 200
    consistency = kr.get(
        f"/v1/audit/proofs/consistency?first={first.tree_size}&second={later.tree_size}"
    ).json()
    assert merkle.verify_consistency(
        first.tree_size,
        later.tree_size,
        first.root_hash,
        later.root_hash,
        [bytes.fromhex(p) for p in consistency["proof"]],
    )


def test_partner_proves_the_leaves_of_the_messages_sent_to_it_and_not_another_partners(
    client, partner, services, sent_to_us
):
    us, kr = partner("US"), partner("KR")
    head = head_of(us, services)
    with services.database.transaction() as session:
        leaves = [
            e.log_index
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.message_id.in_(sent_to_us))
            ).scalars()
        ]
    assert leaves
    for index in leaves:
        path = f"/v1/audit/proofs/inclusion?index={index}&tree_size={head.tree_size}"
        assert us.get(path).status == 200
        assert kr.get(path).status == 404


# --- message ids and what they name -------------------------------------------------------------


def test_partner_reading_back_another_partners_message_id_gets_same_answer_as_unknown(
    partner,
):
    theirs = send_report(partner("US"), "US")["message_id"]
    kr = partner("KR")
    assert_same_answer(
        kr.get(f"/v1/seizure-reports/{theirs}"),
        kr.get(f"/v1/seizure-reports/{NEVER_USED}"),
        (theirs, NEVER_USED),
        404,
    )


def test_partner_withdrawing_another_partners_message_gets_same_answer_as_unknown(partner):
    theirs = send_report(partner("US"), "US")["message_id"]
    kr = partner("KR")

    def withdraw(message_id: str) -> Answer:
        return send_json(
            kr, "/v1/withdrawals", {"withdraws": message_id, "reason": "x"}, "withdrawal"
        )

    assert_same_answer(withdraw(theirs), withdraw(NEVER_USED), (theirs, NEVER_USED), 404)


def test_partner_changing_the_markings_of_another_partners_message_gets_same_answer_as_unknown(
    partner,
):
    theirs = send_report(partner("US"), "US")["message_id"]
    kr = partner("KR")

    def change(message_id: str, originator: str) -> Answer:
        markings = {"originator": originator, "handling_code": "H0", "tlp": "TLP:RED"}
        return send_json(
            kr,
            "/v1/marking-changes",
            {"changes": message_id, "markings": markings},
            "marking-change",
        )

    for originator in ("US", "KR"):  # naming the true originator, or itself
        assert_same_answer(
            change(theirs, originator), change(NEVER_USED, originator), (theirs, NEVER_USED), 404
        )


def test_partner_acknowledging_another_partners_inbox_item_gets_same_answer_as_unknown(
    partner, sent_to_us
):
    item = partner("US").get("/v1/inbox?limit=1").json()["items"][0]
    kr = partner("KR")

    def acknowledge(message_id: str) -> Answer:
        return kr.send(
            f"/v1/inbox/{message_id}/acknowledgement",
            receipt_for({**item, "message_id": message_id}),
            content_type="application/json",
            message_type="receipt",
            message_id=message_id,
        )

    assert_same_answer(
        acknowledge(item["message_id"]),
        acknowledge(NEVER_USED),
        (item["message_id"], NEVER_USED),
        404,
    )


def test_partner_answering_another_partners_request_gets_same_answer_as_unknown(partner, services):
    asked = services.outbound.disclose(
        recipient="NO",
        message_type="assistance-request",
        document=request_from("JP"),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    ).message_id
    kr = partner("KR")

    def answer(in_reply_to: str) -> Answer:
        return send_json(
            kr, "/v1/assistance-answers", answer_from("KR", in_reply_to), "assistance-answer"
        )

    assert_same_answer(answer(asked), answer(NEVER_USED), (asked, NEVER_USED), 404)


def test_partner_reusing_another_partners_message_id_is_told_only_that_the_id_is_taken(
    partner,
):
    """Message ids are global idempotency keys at a gateway (PROTOCOL §1, §5): the answer to
    another partner's id is the very answer to the caller's own id resent with another body;
    nothing of the holder's message (its sender, digest or receipt) is in it."""
    theirs = send_report(partner("US"), "US")["message_id"]
    kr = partner("KR")
    own = send_report(kr, "KR")["message_id"]

    def reuse(message_id: str) -> Answer:
        return kr.send(
            "/v1/withdrawals",
            json.dumps({"withdraws": own, "reason": "entered in error"}).encode(),
            content_type="application/json",
            message_type="withdrawal",
            message_id=message_id,
        )

    assert_same_answer(reuse(theirs), reuse(own), (theirs, own), 409)
    assert "US" not in reuse(theirs).body.decode()


# --- certificates of origin (ID and TH have EPAs with JP) ---------------------------------------


@pytest.fixture
def ids_certificate(partner, authorities) -> dict[str, str]:
    """ID issued certificate ID-COO-0001 to JP; its reference."""
    document = made()
    key, pinned = authorities["ID"]
    answer = partner("ID").send(
        "/v1/certificates-of-origin",
        sign_certificate(document, key, pinned),
        content_type="application/xml",
        message_type="certificate-of-origin",
    )
    assert answer.status == 202, answer.body
    return {
        "exporting_party": "ID",
        "certificate_number": document["certificate_number"],
        "issue_date": document["issue_date"],
    }


@pytest.mark.parametrize("status", ["preference-refused", "revoked"])
def test_partner_sending_a_status_notice_on_another_partners_certificate_gets_same_answer_as_unknown(
    partner, ids_certificate, status
):
    th = partner("TH")
    unknown = {**ids_certificate, "certificate_number": "ID-COO-9999"}

    def notice(ref: dict[str, str]) -> Answer:
        return send_json(
            th,
            "/v1/certificate-status-notices",
            {
                "administration": "TH",
                "certificate": ref,
                "agreement": "JP-TH-EPA",
                "status": status,
                "reason": "not originating",
            },
            "certificate-status",
        )

    assert_same_answer(
        notice(ids_certificate), notice(unknown), ("ID-COO-0001", "ID-COO-9999"), 404
    )


def test_partner_asking_verification_of_another_partners_certificate_gets_same_answer_as_unknown(
    partner, ids_certificate
):
    th = partner("TH")
    unknown = {**ids_certificate, "certificate_number": "ID-COO-9999"}
    today = datetime.now(UTC).date()

    def ask(ref: dict[str, str]) -> Answer:
        request = {
            "requesting_administration": "TH",
            "certificate": ref,
            "agreement": "JP-TH-EPA",
            "reason": "random-check",
            "questions": ["Is it genuine?"],
            "reply_by": (today + timedelta(days=90)).isoformat(),
        }
        return send_json(
            th, "/v1/origin-verification-requests", request, "origin-verification-request"
        )

    assert_same_answer(ask(ids_certificate), ask(unknown), ("ID-COO-0001", "ID-COO-9999"), 404)


def test_partner_answering_another_partners_verification_request_gets_same_answer_as_unknown(
    partner, services, ids_certificate
):
    asked = services.origin.request_verification(
        ids_certificate,
        reason="random-check",
        questions=["Confirm origin."],
        actor="officer:test",
        now=datetime.now(UTC),
    ).message_id
    th = partner("TH")

    def answer(in_reply_to: str) -> Answer:
        document = {
            "answering_administration": "TH",
            "in_reply_to": in_reply_to,
            "agreement": "JP-TH-EPA",
            "result": "confirmed",
            "findings": [{"finding": "documents checked"}],
        }
        return send_json(
            th, "/v1/origin-verification-answers", document, "origin-verification-answer"
        )

    assert_same_answer(answer(asked), answer(NEVER_USED), (asked, NEVER_USED), 404)
