"""One test per attack or fault on the inbound path (issue 2, "Bad input").

Each refusal must be an RFC 9457 problem with a stable type, signed like every answer, leave no
message and no consumed assertion behind, and add exactly one audit event: the refusal itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from gateway.store.models import AuditEvent, Message
from gateway.trust.jws import sign_detached
from tests.conftest import stored_counts as counts

URL = "http://testserver/v1/seizure-reports"
PROBLEMS = "https://customs.go.jp/gateway/problems/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(caller: str = "KR", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": caller,
        "sub": caller,
        "aud": "JP",
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        "htm": "POST",
        "htu": URL,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(
    signing_keys, caller: str = "KR", headers: dict[str, Any] | None = None, **changes: Any
) -> str:
    key = signing_keys[caller]
    return jwt.encode(
        claims(caller, **changes),
        key.private_key,
        algorithm="EdDSA",
        headers={"kid": key.kid, **(headers or {})},
    )


def message_signature(
    signing_keys,
    body: bytes,
    caller: str = "KR",
    *,
    issuer: str | None = None,
    content_type: str = "application/json",
    message_id: str | None = None,
) -> str:
    return sign_detached(
        body,
        signing_keys[caller],
        content_type=content_type,
        message_id=message_id or str(uuid.uuid4()),
        issuer=issuer or caller,
        audience="JP",
        message_type="seizure-report",
        issued_at=datetime.now(UTC),
    )


def post(
    client,
    body: bytes,
    *,
    bearer: str | None,
    signature: str | None,
    content_type: str = "application/json",
):
    headers = {"Content-Type": content_type}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if signature is not None:
        headers["X-JWS-Signature"] = signature
    return client.post("/v1/seizure-reports", content=body, headers=headers)


def signed_post(client, signing_keys, body: bytes, content_type: str = "application/json"):
    """``body`` from KR with a fresh assertion and a JWS over it: it reaches the document checks."""
    return post(
        client,
        body,
        bearer=token(signing_keys),
        content_type=content_type,
        signature=message_signature(signing_keys, body, content_type=content_type),
    )


@pytest.fixture
def refused(client, services):
    """``refused(response, kind, status)``: checks the problem and that only its audit event stayed."""
    before = counts(services)

    def check(response, kind: str, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "X-JWS-Signature" in response.headers
        problem = response.json()
        assert problem["type"] == PROBLEMS + kind, problem
        assert problem["status"] == status and problem["detail"]
        after = counts(services)
        assert after == {**before, "events": before["events"] + 1}
        with services.database.transaction() as session:
            event = (
                session.execute(select(AuditEvent).order_by(AuditEvent.log_index.desc()))
                .scalars()
                .first()
            )
            assert event.tag == "partner:seizure-report:refused"
            assert event.detail["problem"] == kind
            assert event.detail["instance"] == problem["instance"].removeprefix("urn:uuid:")
            if (
                kind == "policy-denied"
            ):  # the refusal records the whole decision and its policy digest
                assert event.detail["decision"]["policy_digest"] == services.policies.digest
                assert event.detail["decision"]["deciding_rule"] == problem["rule"]
        return problem

    return check


def test_missing_token_is_refused(client, refused, signing_keys, sample_json):
    response = post(
        client, sample_json, bearer=None, signature=message_signature(signing_keys, sample_json)
    )
    refused(response, "token-missing", 401)


def test_expired_token_is_refused(client, refused, signing_keys, sample_json):
    old = int(time.time()) - 1000
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys, iat=old, exp=old + 120),
        signature=message_signature(signing_keys, sample_json),
    )
    refused(response, "token-expired", 401)


def test_token_for_another_receiver_is_refused(client, refused, signing_keys, sample_json):
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys, aud="KR"),
        signature=message_signature(signing_keys, sample_json),
    )
    refused(response, "audience-mismatch", 401)


def test_replayed_assertion_is_refused(client, services, signing_keys, sample_json):
    bearer = token(signing_keys)
    first = post(
        client, sample_json, bearer=bearer, signature=message_signature(signing_keys, sample_json)
    )
    assert first.status_code == 202
    before = counts(services)
    again = post(
        client, sample_json, bearer=bearer, signature=message_signature(signing_keys, sample_json)
    )
    assert again.status_code == 401
    assert again.json()["type"] == PROBLEMS + "replay"
    assert counts(services) == {**before, "events": before["events"] + 1}


def test_replay_guard_survives_a_restart_and_spans_workers(
    settings, client, signing_keys, sample_json
):
    """A second app instance on the same database (another worker, or after a restart) knows the jti."""
    from starlette.testclient import TestClient

    from gateway.app import build_services, create_app

    bearer = token(signing_keys)
    assert (
        post(
            client,
            sample_json,
            bearer=bearer,
            signature=message_signature(signing_keys, sample_json),
        ).status_code
        == 202
    )
    other_services = build_services(settings)
    try:
        with TestClient(create_app(settings, other_services)) as other_worker:
            again = post(
                other_worker,
                sample_json,
                bearer=bearer,
                signature=message_signature(signing_keys, sample_json),
            )
    finally:
        other_services.database.dispose()
    assert again.json()["type"] == PROBLEMS + "replay"


def test_alg_none_is_refused(client, refused, signing_keys, sample_json):
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": signing_keys["KR"].kid})
    response = post(
        client, sample_json, bearer=unsigned, signature=message_signature(signing_keys, sample_json)
    )
    refused(response, "algorithm-not-allowed", 401)


def test_hs256_signed_with_the_public_key_is_refused(client, refused, signing_keys, sample_json):
    """Algorithm confusion: an HMAC 'signature' keyed with the partner's published public key."""
    public = signing_keys["KR"].pinned.public_jwk
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": public["kid"]}).encode())
    payload = _b64(json.dumps(claims()).encode())
    secret = json.dumps(dict(public)).encode()
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{_b64(mac)}"
    response = post(
        client, sample_json, bearer=forged, signature=message_signature(signing_keys, sample_json)
    )
    refused(response, "algorithm-not-allowed", 401)


def test_unknown_kid_is_refused(client, refused, signing_keys, sample_json):
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys, headers={"kid": "not-a-pinned-key"}),
        signature=message_signature(signing_keys, sample_json),
    )
    refused(response, "unknown-key", 401)


def test_token_signed_by_another_partner_key_is_refused(client, refused, signing_keys, sample_json):
    """US's key, US's kid, but claiming to be KR: KR's pinned keys do not include it."""
    us = signing_keys["US"]
    forged = jwt.encode(claims("KR"), us.private_key, algorithm="EdDSA", headers={"kid": us.kid})
    response = post(
        client, sample_json, bearer=forged, signature=message_signature(signing_keys, sample_json)
    )
    refused(response, "unknown-key", 401)


def test_token_bound_to_another_url_is_refused(client, refused, signing_keys, sample_json):
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys, htu="http://testserver/v1/other"),
        signature=message_signature(signing_keys, sample_json),
    )
    refused(response, "token-invalid", 401)


def test_token_living_too_long_is_refused(client, refused, signing_keys, sample_json):
    now = int(time.time())
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys, iat=now, exp=now + 3600),
        signature=message_signature(signing_keys, sample_json),
    )
    refused(response, "token-invalid", 401)


@pytest.mark.parametrize(
    "times",
    [{"exp": 10**20}, {"exp": 1e300}, {"iat": -(10**20)}],
    ids=["exp-10e20", "exp-1e300", "iat-before-year-1"],
)
def test_assertion_timed_beyond_the_calendar_is_refused(
    client, refused, signing_keys, sample_json, times
):
    """Signed by the partner's own key (a client counting in microseconds, or worse): pyjwt
    accepts such times, and converting them to a date raised (a 500)."""
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys, **times),
        signature=message_signature(signing_keys, sample_json),
    )
    problem = refused(response, "token-invalid", 401)
    assert '"iat" and "exp" must be times in epoch seconds' in problem["detail"]


@pytest.mark.parametrize("iat", [10**20, -(10**20), 2**63])
def test_message_signed_at_a_time_beyond_the_calendar_is_refused(
    client, refused, signing_keys, sample_json, iat
):
    """The JWS verifies (pyjwt itself, not the gateway's signer, makes it), but its "iat" is no
    date: converting it raised (a 500)."""
    key = signing_keys["KR"]
    signature = jwt.api_jws.PyJWS().encode(
        sample_json,
        key.private_key,
        algorithm="EdDSA",
        is_payload_detached=True,
        headers={
            "kid": key.kid,
            "typ": "customs-message+jws",
            "cty": "application/json",
            "iat": iat,
            "msgid": str(uuid.uuid4()),
            "iss": "KR",
            "aud": "JP",
            "msgtype": "seizure-report",
        },
    )
    response = post(client, sample_json, bearer=token(signing_keys), signature=signature)
    problem = refused(response, "signature-invalid", 401)
    assert problem["detail"] == 'the JWS header "iat" is not a time in epoch seconds'


def test_unknown_partner_is_refused(client, refused, signing_keys, sample_json):
    key = signing_keys["KR"]
    stranger = jwt.encode(
        claims("XX"), key.private_key, algorithm="EdDSA", headers={"kid": key.kid}
    )
    response = post(
        client, sample_json, bearer=stranger, signature=message_signature(signing_keys, sample_json)
    )
    refused(response, "unknown-partner", 401)


def test_body_changed_after_signing_is_refused(client, refused, signing_keys, sample_json):
    signature = message_signature(signing_keys, sample_json)
    tampered = sample_json.replace(b'"amount": 4.2', b'"amount": 0.2')
    assert tampered != sample_json
    response = post(client, tampered, bearer=token(signing_keys), signature=signature)
    refused(response, "signature-invalid", 401)


def test_message_signed_in_another_senders_name_is_refused(
    client, refused, signing_keys, sample_json
):
    """KR authenticates but its message's JWS header says the sender is US."""
    signature = message_signature(signing_keys, sample_json, issuer="US")
    response = post(client, sample_json, bearer=token(signing_keys), signature=signature)
    refused(response, "header-mismatch", 403)


def test_message_signed_with_another_partners_key_is_refused(
    client, refused, signing_keys, sample_json
):
    signature = message_signature(signing_keys, sample_json, caller="US", issuer="KR")
    response = post(client, sample_json, bearer=token(signing_keys), signature=signature)
    refused(response, "unknown-key", 401)


@pytest.mark.parametrize(
    "spelling",
    [lambda u: f"{{{u}}}", lambda u: f"urn:uuid:{u}", lambda u: str(u).upper(), lambda u: u.hex],
    ids=["braces", "urn", "upper-case", "bare-hex"],
)
def test_message_id_spelt_other_than_canonically_is_refused(
    client, services, signing_keys, sample_json, spelling
):
    """The message id is the idempotency key (PROTOCOL §1): Python's UUID() reads these four
    spellings of one id, and each was stored as a message of its own, beside the canonical one
    (on PostgreSQL the longer two overflowed the column: a 400 of the wrong kind)."""
    message_id = uuid.uuid4()
    canonical = post(
        client,
        sample_json,
        bearer=token(signing_keys),
        signature=message_signature(signing_keys, sample_json, message_id=str(message_id)),
    )
    assert canonical.status_code == 202
    before = counts(services)
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys),
        signature=message_signature(signing_keys, sample_json, message_id=spelling(message_id)),
    )
    assert response.status_code == 401, response.text
    problem = response.json()
    assert problem["type"] == PROBLEMS + "signature-invalid"
    assert 'the JWS header "msgid" must be a UUID in its canonical form' in problem["detail"]
    assert counts(services) == {**before, "events": before["events"] + 1}  # the refusal only


def test_message_signature_with_alg_none_is_refused(client, refused, signing_keys, sample_json):
    header = _b64(json.dumps({"alg": "none", "b64": False, "crit": ["b64"]}).encode())
    response = post(client, sample_json, bearer=token(signing_keys), signature=f"{header}..AAAA")
    refused(response, "algorithm-not-allowed", 401)


def test_report_in_another_administrations_name_is_refused(
    client, refused, signing_keys, sample_json
):
    body = sample_json.replace(
        b'"reporting_administration": "KR"', b'"reporting_administration": "CN"'
    )
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    refused(response, "header-mismatch", 403)


def test_partner_with_no_framework_in_force_is_refused(client, refused, signing_keys, sample_json):
    body = sample_json.replace(
        b'"reporting_administration": "KR"', b'"reporting_administration": "QZ"'
    )
    response = post(
        client,
        body,
        bearer=token(signing_keys, "QZ"),
        signature=message_signature(signing_keys, body, "QZ"),
    )
    problem = refused(response, "policy-denied", 403)
    assert problem["rule"] == "no-framework-in-force"


def test_schema_invalid_json_is_refused(client, refused, signing_keys, sample_json):
    body = sample_json.replace(b'"direction": "inbound"', b'"direction": "sideways"')
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    problem = refused(response, "schema-invalid", 422)
    assert "/direction" in problem["detail"]


def test_schema_invalid_xml_is_refused(client, refused, signing_keys, sample_xml):
    body = sample_xml.replace(b"<Direction>inbound</Direction>", b"<Direction>sideways</Direction>")
    response = signed_post(client, signing_keys, body, "application/xml")
    refused(response, "schema-invalid", 422)


@pytest.mark.parametrize("day", ["12345-03-14", "-0001-03-14", "2026-03-14Z", "2026-03-14+09:00"])
def test_xml_date_the_json_form_cannot_hold_is_refused(
    client, refused, signing_keys, sample_xml, day
):
    """xs:date admits a zone and years past 9999 or before 1; the report model's date did not
    (a 500). The XSDs now state the JSON form's RFC 3339 full-date."""
    body = sample_xml.replace(
        b"<SeizureDate>2026-03-14</SeizureDate>", f"<SeizureDate>{day}</SeizureDate>".encode()
    )
    response = signed_post(client, signing_keys, body, "application/xml")
    problem = refused(response, "schema-invalid", 422)
    assert "SeizureDate" in problem["detail"]


@pytest.mark.parametrize("splitter", [b"<!---->", b"<?pi x?>"])
def test_xml_comment_splitting_a_value_is_read_as_the_whole_value(
    client, services, signing_keys, sample_xml, splitter
):
    """The XSD validates "H<!---->1" as "H1"; the element's first text node is "H": the handling
    code was read as something the XSD never saw (a 500), a split summary as an empty object."""
    body = sample_xml.replace(b"<HandlingCode>H1<", b"<HandlingCode>H" + splitter + b"1<").replace(
        b"<Summary>Synthetic", b"<Summary>Synth" + splitter + b"etic"
    )
    assert body.count(splitter) == 2
    response = signed_post(client, signing_keys, body, "application/xml")
    assert response.status_code == 202, response.text
    with services.database.transaction() as session:
        document = session.execute(
            select(Message.document).where(Message.message_id == response.json()["message_id"])
        ).scalar_one()
    assert document["markings"]["handling_code"] == "H1"
    assert document["summary"].startswith("Synthetic sample: false bottom")


def _xml_attack(client, refused, signing_keys, body: bytes) -> None:
    response = signed_post(client, signing_keys, body, "application/xml")
    refused(response, "xml-forbidden-construct", 400)


def test_xxe_external_entity_is_refused(client, refused, signing_keys):
    _xml_attack(
        client,
        refused,
        signing_keys,
        b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SeizureReport xmlns="urn:customs-gateway:seizure-report:1"><ReportId>&xxe;</ReportId></SeizureReport>""",
    )


def test_billion_laughs_is_refused(client, refused, signing_keys):
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    _xml_attack(
        client,
        refused,
        signing_keys,
        f"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY l0 "lol">{entities}]>
<SeizureReport xmlns="urn:customs-gateway:seizure-report:1"><ReportId>&l9;</ReportId></SeizureReport>""".encode(),
    )


def test_dtd_retrieval_is_refused(client, refused, signing_keys):
    _xml_attack(
        client,
        refused,
        signing_keys,
        b"""<?xml version="1.0"?>
<!DOCTYPE SeizureReport SYSTEM "http://127.0.0.1:9/evil.dtd">
<SeizureReport xmlns="urn:customs-gateway:seizure-report:1"/>""",
    )


def test_xml_nested_too_deep_is_refused(client, refused, signing_keys):
    body = (
        b"<SeizureReport xmlns='urn:customs-gateway:seizure-report:1'>"
        + b"<a>" * 200
        + b"</a>" * 200
        + b"</SeizureReport>"
    )
    _xml_attack(client, refused, signing_keys, body)


def test_body_over_the_size_limit_is_refused(client, refused, signing_keys, settings):
    body = b'{"x": "' + b"a" * settings.max_body_bytes + b'"}'
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    refused(response, "payload-too-large", 413)


def test_malformed_utf8_is_refused(client, refused, signing_keys, sample_json):
    body = sample_json.replace(b"Incheon", b"Inch\xff\xfeon")
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    refused(response, "malformed-body", 400)


def test_json_with_duplicate_keys_is_refused(client, refused, signing_keys, sample_json):
    body = sample_json.replace(
        b'"direction": "inbound"', b'"direction": "inbound", "direction": "outbound"'
    )
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    refused(response, "malformed-body", 400)


@pytest.mark.parametrize("depth", [33, 200_000])
def test_json_nested_too_deep_is_refused(client, refused, signing_keys, depth):
    """200,000 levels overflowed the JSON parser's stack (a RecursionError: a 500)."""
    body = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    problem = refused(response, "malformed-body", 400)
    assert "nested deeper than 32 levels" in problem["detail"]


def test_json_with_a_lone_surrogate_is_refused(client, refused, signing_keys, sample_json):
    """Python's json reads "\\ud800" as a lone surrogate, which no UTF-8 page, XML form or
    partner can carry: it was accepted (202) and would fail wherever the report is shown."""
    body = sample_json.replace(b'"Synthetic sample', b'"\\ud800 Synthetic sample')
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    problem = refused(response, "malformed-body", 400)
    assert "U+D800, a lone surrogate" in problem["detail"]


@pytest.mark.parametrize(
    ("member", "where"),
    [
        (b'"origin": "MX"', "/route/origin"),
        (b'"originator": "KR"', "/markings/originator"),
        (b'"hs_code": "2939.71"', "/commodity/hs_code"),
        (b'"currency": "USD"', "/estimated_value/currency"),
    ],
)
def test_json_value_with_a_newline_after_its_pattern_is_refused(
    client, refused, signing_keys, sample_json, member, where
):
    """Python's $ matches before a final newline: "KR\\n" met "^[A-Z]{2}$" and was stored (an
    originator no registry holds, a country of its own in the hub's tables), while the XSD
    refused the same value in XML. Patterns are read as ECMA-262 reads them."""
    body = sample_json.replace(member, member[:-1] + b'\\n"')
    assert body != sample_json
    response = signed_post(client, signing_keys, body)
    problem = refused(response, "schema-invalid", 422)
    assert problem["detail"].startswith(f"{where}: ") and "does not match" in problem["detail"]


def _report_refused_for_its_number(client, refused, signing_keys, body, content_type) -> str:
    response = signed_post(client, signing_keys, body, content_type)
    return refused(response, "schema-invalid", 422)["detail"]


def test_json_integer_of_thousands_of_digits_is_refused(client, refused, signing_keys, sample_json):
    """Python refuses to convert an integer of over 4,300 digits (a ValueError, once a 500)."""
    body = sample_json.replace(b'"amount": 420000', b'"amount": ' + b"9" * 5000)
    detail = _report_refused_for_its_number(client, refused, signing_keys, body, "application/json")
    assert "(5000 characters) is out of range" in detail


@pytest.mark.parametrize("number", [b"9007199254740993", b"-9007199254740993", b"1" + b"0" * 400])
def test_json_integer_beyond_what_a_double_holds_is_refused(
    client, refused, signing_keys, sample_json, number
):
    """2**53 + 1 reads as 2**53 in a partner's double-based parser; 10**400 once overflowed the
    report model's float conversion (a 500)."""
    body = sample_json.replace(b'"amount": 4.2', b'"amount": ' + number)
    detail = _report_refused_for_its_number(client, refused, signing_keys, body, "application/json")
    assert "is out of range: message integers lie within ±9007199254740991" in detail


def test_json_number_overflowing_to_infinity_is_refused(client, refused, signing_keys, sample_json):
    """1e999 parses as infinity (the JSON parser refuses only the literal Infinity): it was
    accepted and would have been summed into the hub's rollups."""
    body = sample_json.replace(b'"amount": 4.2', b'"amount": 1e999')
    detail = _report_refused_for_its_number(client, refused, signing_keys, body, "application/json")
    assert "the number 1e999 is out of range" in detail


@pytest.mark.parametrize("number", ["INF", "NaN", "1e999"])
def test_xml_amount_that_is_not_a_finite_number_is_refused(
    client, refused, signing_keys, sample_xml, number
):
    """xs:double admits INF and NaN, and INF passes a minInclusive facet: the XSD's maximum
    refuses them (and the XML form's conversion would, test_documents.py)."""
    body = sample_xml.replace(b"<Amount>4.2</Amount>", f"<Amount>{number}</Amount>".encode())
    detail = _report_refused_for_its_number(client, refused, signing_keys, body, "application/xml")
    assert f"[facet 'maxInclusive'] The value '{number}' is greater than" in detail


@pytest.mark.parametrize("content_type", ["application/json", "application/xml"])
def test_quantity_too_large_to_sum_is_refused(
    client, refused, signing_keys, sample_json, sample_xml, content_type
):
    """A finite 1e300 kg, twice in one month, would make the hub's rollup infinite."""
    if content_type == "application/json":
        body = sample_json.replace(b'"amount": 4.2', b'"amount": 1e300')
    else:
        body = sample_xml.replace(b"<Amount>4.2</Amount>", b"<Amount>1e300</Amount>")
    detail = _report_refused_for_its_number(client, refused, signing_keys, body, content_type)
    assert (
        "/quantity/amount: 1e+300 is greater than the maximum of 1000000000000" in detail
        or "The value '1e300' is greater than the maximum value allowed ('1e12')" in detail
    )


def test_missing_message_signature_is_refused(client, refused, signing_keys, sample_json):
    response = post(client, sample_json, bearer=token(signing_keys), signature=None)
    refused(response, "request-invalid", 400)


def test_unsupported_media_type_is_refused(client, refused, signing_keys, sample_json):
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys),
        content_type="text/plain",
        signature=message_signature(signing_keys, sample_json, content_type="text/plain"),
    )
    refused(response, "unsupported-media-type", 415)


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [("application/json; charset=latin-1", "latin-1"), ('application/xml;charset="Shift_JIS"', '"Shift_JIS"')],
)  # fmt: skip
def test_body_declared_in_another_charset_than_utf8_is_refused(
    client, refused, signing_keys, sample_json, content_type, charset
):
    """The body was read as UTF-8 whatever the charset said: latin-1 bytes that happen to be valid
    UTF-8 would have been stored as other text than the sender meant."""
    response = post(
        client,
        sample_json,
        bearer=token(signing_keys),
        content_type=content_type,
        signature=message_signature(signing_keys, sample_json, content_type=content_type),
    )
    problem = refused(response, "unsupported-media-type", 415)
    assert problem["detail"] == f"charset={charset} is not accepted: message bodies are UTF-8"


def test_body_declared_utf8_is_read(client, signing_keys, sample_json):
    for content_type in ("application/json; charset=utf-8", 'application/json;charset="UTF-8"'):
        response = signed_post(client, signing_keys, sample_json, content_type)
        assert response.status_code == 202, response.text


def test_h3_without_its_conditions_is_refused(client, refused, signing_keys, sample_json):
    body = sample_json.replace(b'"handling_code": "H1"', b'"handling_code": "H3"')
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    problem = refused(response, "policy-denied", 403)
    assert problem["rule"] == "markings-required"


def test_missing_markings_are_refused_never_treated_as_open(
    client, refused, signing_keys, sample_json
):
    document = json.loads(sample_json)
    del document["markings"]
    body = json.dumps(document).encode()
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    problem = refused(response, "schema-invalid", 422)
    assert "markings" in problem["detail"]


def test_unknown_tlp_label_is_refused(client, refused, signing_keys, sample_json):
    body = sample_json.replace(b'"TLP:GREEN"', b'"TLP:WHITE"')
    assert body != sample_json  # the sample's label was there to replace
    response = post(
        client, body, bearer=token(signing_keys), signature=message_signature(signing_keys, body)
    )
    refused(response, "schema-invalid", 422)
