"""A partner's signed seizure report, received end to end (issue 2), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import uuid

from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from sqlalchemy import func, select

from gateway.audit.hashing import GENESIS
from gateway.client.partner import check_receipt
from gateway.store.models import AuditEvent, AuditHead, Message


def test_json_report_is_accepted_with_a_signed_receipt(
    partner, services, sample_json, signing_keys
):
    kr = partner("KR")
    message_id = str(uuid.uuid4())
    answer = kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    assert answer.status == 202, answer.body
    receipt = check_receipt(answer, sample_json, message_id)
    assert receipt["status"] == "accepted"
    assert receipt["body_sha256"] == hashlib.sha256(sample_json).hexdigest()

    with services.database.transaction() as session:
        stored = session.execute(select(Message)).scalar_one()
        event = session.get(AuditEvent, receipt["log_index"])
        assert stored.body == sample_json  # exactly the verified bytes
        assert stored.sender == "KR" and stored.message_type == "seizure-report"
        assert stored.document["commodity"]["type"] == "methamphetamine"
        assert event.tag == "partner:seizure-report:received"
        assert event.message_id == message_id
        assert event.leaf_hash.hex() == receipt["leaf_hash"]
        # RFC 9162 leaf hash, recomputed here from the stored entry bytes.
        assert hashlib.sha256(b"\x00" + event.entry).hexdigest() == receipt["leaf_hash"]


def test_xml_report_is_accepted_and_stored_as_the_same_model(
    partner, services, sample_json, sample_xml
):
    kr = partner("KR")
    for body, media_type in ((sample_json, "application/json"), (sample_xml, "application/xml")):
        answer = kr.send(
            "/v1/seizure-reports", body, content_type=media_type, message_type="seizure-report"
        )
        assert answer.status == 202, answer.body
    with services.database.transaction() as session:
        json_doc, xml_doc = [
            m.document for m in session.execute(select(Message).order_by(Message.id)).scalars()
        ]
    assert json_doc == xml_doc


def test_receipt_verifies_with_an_independent_jose_library(partner, sample_json, signing_keys):
    answer = partner("KR").send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
    )
    assert answer.status == 202
    protected, _, signature = answer.raw_signature.partition("..")
    token = jwcrypto_jws.JWS()
    token.deserialize(json.dumps({"protected": protected, "signature": signature}))
    token.verify(
        jwcrypto_jwk.JWK(**signing_keys["JP"].pinned.public_jwk), detached_payload=answer.body
    )
    header = json.loads(jwcrypto_jwk.base64url_decode(protected))
    assert header["b64"] is False and header["crit"] == ["b64"]
    assert header["msgtype"] == "receipt" and header["aud"] == "KR" and header["iss"] == "JP"


def test_jwks_matches_with_an_independent_jose_library(client, signing_keys):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keyset = jwcrypto_jwk.JWKSet.from_json(response.text)
    (key,) = keyset["keys"]
    assert key.thumbprint() == key["kid"] == signing_keys["JP"].kid
    assert "d" not in response.json()["keys"][0]


def test_resend_with_same_body_returns_the_same_receipt(partner, services, sample_json):
    kr = partner("KR")
    message_id = str(uuid.uuid4())
    first = kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    again = kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    assert (first.status, again.status) == (202, 200)
    assert again.body == first.body
    assert again.raw_signature == first.raw_signature
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_same_id_with_other_body_is_a_conflict(partner, services, sample_json):
    kr = partner("KR")
    message_id = str(uuid.uuid4())
    kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    changed = sample_json.replace(b"4.2", b"4.3")
    answer = kr.send(
        "/v1/seizure-reports",
        changed,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    assert answer.status == 409
    assert answer.json()["type"].endswith("/conflict")
    assert answer.signature is not None  # problems are signed too


def test_sender_reads_back_its_report_exactly(partner, sample_xml):
    kr = partner("KR")
    message_id = str(uuid.uuid4())
    kr.send(
        "/v1/seizure-reports",
        sample_xml,
        content_type="application/xml",
        message_type="seizure-report",
        message_id=message_id,
    )
    answer = kr.get(f"/v1/seizure-reports/{message_id}")
    assert answer.status == 200
    assert answer.body == sample_xml
    assert answer.content_type.startswith("application/xml")
    assert answer.signature is not None and answer.signature.msgid == message_id


def test_another_administration_cannot_read_the_report(partner, sample_json):
    message_id = str(uuid.uuid4())
    partner("KR").send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    answer = partner("US").get(f"/v1/seizure-reports/{message_id}")
    unknown = partner("US").get(f"/v1/seizure-reports/{uuid.uuid4()}")
    assert answer.status == unknown.status == 404
    assert answer.json()["type"] == unknown.json()["type"]


def test_audit_chain_links_every_event(partner, services, sample_json):
    kr = partner("KR")
    for _ in range(3):
        kr.send(
            "/v1/seizure-reports",
            sample_json,
            content_type="application/json",
            message_type="seizure-report",
        )
    kr.send(
        "/v1/seizure-reports", b"{}", content_type="application/json", message_type="seizure-report"
    )
    with services.database.transaction() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars().all()
        head = session.get(AuditHead, 1)
        chain = GENESIS
        for index, event in enumerate(events):
            assert event.log_index == index
            leaf = hashlib.sha256(b"\x00" + event.entry).digest()
            chain = hashlib.sha256(chain + leaf).digest()
            assert event.chain_hash == chain
        assert head.size == 3 * 2 + 1 and head.chain_hash == chain  # received + decided each
        assert [e.tag for e in events][-1] == "partner:seizure-report:refused"


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_swagger_ui_is_served_without_external_assets(client):
    import re

    page = client.get("/ui/")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(not a.startswith(("http:", "https:", "//")) for a in assets)
    for asset in assets:
        if asset.endswith(".js"):
            assert client.get("/ui/" + asset.removeprefix("./")).status_code == 200
