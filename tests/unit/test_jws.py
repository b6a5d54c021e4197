"""The detached JWS of PROTOCOL §4, checked against two independent JOSE implementations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jws as joserfc_jws
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto.common import json_encode

from gateway.errors import AlgorithmNotAllowedError, SignatureError, UnknownKeyError
from gateway.trust.jws import sign_detached, verify_detached
from gateway.trust.keys import PinnedKey, SigningKey, generate_jwk, public_part

BODY = b'{"report_id": "R-1", "note": "exact bytes \\u00e9"}\n'
NOW = datetime.now(UTC)
SKEW = timedelta(seconds=60)


def signed(key: SigningKey, body: bytes = BODY, **changes) -> str:
    args = dict(
        content_type="application/json",
        message_id="0b6f5a57-3c0e-4a35-9d5e-4a1f1d6f0c11",
        issuer="KR",
        audience="JP",
        message_type="seizure-report",
        issued_at=NOW,
    )
    args.update(changes)
    return sign_detached(body, key, **args)


@pytest.fixture(params=["Ed25519", "P-256"])
def jwk(request):
    return generate_jwk(request.param)


def test_round_trip(jwk):
    key = SigningKey.from_jwk(jwk)
    header = verify_detached(signed(key), BODY, [key.pinned], now=NOW, clock_skew=SKEW)
    assert (header.iss, header.aud, header.msgtype, header.kid) == (
        "KR",
        "JP",
        "seizure-report",
        key.kid,
    )


def test_our_signature_verifies_with_jwcrypto(jwk):
    protected, _, signature = signed(SigningKey.from_jwk(jwk)).partition("..")
    token = jwcrypto_jws.JWS()
    token.deserialize(json.dumps({"protected": protected, "signature": signature}))
    token.verify(jwcrypto_jwk.JWK(**public_part(jwk)), detached_payload=BODY)


# joserfc warns that "EdDSA" is deprecated by RFC 9864; PROTOCOL §2 still emits it on purpose.
@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_our_signature_verifies_with_joserfc():
    jwk = generate_jwk("Ed25519")
    key = OKPKey.import_key(public_part(jwk))
    registry = joserfc_jws.JWSRegistry(
        header_registry={
            name: HeaderParameter(name, "str") for name in ("msgid", "msgtype", "iss", "aud")
        }
        | {"iat": HeaderParameter("iat", "int")},
        algorithms=["EdDSA"],
    )
    result = joserfc_jws.deserialize_compact(
        signed(SigningKey.from_jwk(jwk)), key, payload=BODY, registry=registry
    )
    assert result.headers()["msgtype"] == "seizure-report"


def partner_header(jwk: dict, alg: str) -> dict:
    """The protected header a partner's own JOSE library would write (PROTOCOL §4)."""
    return {
        "alg": alg,
        "kid": jwk["kid"],
        "b64": False,
        "crit": ["b64"],
        "typ": "customs-message+jws",
        "cty": "application/json",
        "iat": int(NOW.timestamp()),
        "msgid": "0b6f5a57-3c0e-4a35-9d5e-4a1f1d6f0c11",
        "iss": "KR",
        "aud": "JP",
        "msgtype": "seizure-report",
    }


def test_jwcrypto_signature_verifies_with_ours():
    """A partner using jwcrypto produces what we accept."""
    jwk = generate_jwk("Ed25519")
    key = jwcrypto_jwk.JWK(**jwk)
    protected = partner_header(jwk, "EdDSA")
    token = jwcrypto_jws.JWS(BODY)
    token.add_signature(key, None, json_encode(protected))
    token.detach_payload()
    serialized = json.loads(token.serialize())
    compact = f"{serialized['protected']}..{serialized['signature']}"
    header = verify_detached(
        compact, BODY, [PinnedKey.from_jwk(public_part(jwk))], now=NOW, clock_skew=SKEW
    )
    assert header.msgid == protected["msgid"]


def test_changed_body_does_not_verify(jwk):
    key = SigningKey.from_jwk(jwk)
    with pytest.raises(SignatureError):
        verify_detached(signed(key), BODY + b" ", [key.pinned], now=NOW, clock_skew=SKEW)


def test_fully_specified_ed25519_name_is_accepted():
    """RFC 9864's alg "Ed25519" is the same algorithm as EdDSA with an Ed25519 key."""
    jwk = generate_jwk("Ed25519")
    key = jwcrypto_jwk.JWK(**jwk)
    protected = partner_header(jwk, "Ed25519")
    # jwcrypto signs "EdDSA"; the signature bytes are identical for "Ed25519" (same curve, same input
    # shape), so re-sign the "Ed25519" header with the raw key.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = key.get_op_key("sign")
    assert isinstance(raw, Ed25519PrivateKey)
    encoded = json_encode(protected).encode()
    import base64

    b64 = base64.urlsafe_b64encode(encoded).rstrip(b"=")
    signature = base64.urlsafe_b64encode(raw.sign(b64 + b"." + BODY)).rstrip(b"=").decode()
    header = verify_detached(
        f"{b64.decode()}..{signature}",
        BODY,
        [PinnedKey.from_jwk(public_part(jwk))],
        now=NOW,
        clock_skew=SKEW,
    )
    assert header.alg == "Ed25519"


def test_es256_header_on_an_ed25519_key_is_refused():
    ed = SigningKey.from_jwk(generate_jwk("Ed25519"))
    p256 = SigningKey.from_jwk(generate_jwk("P-256"))
    forged = signed(p256)  # a valid ES256 signature ...
    header, _, signature = forged.partition("..")
    # ... presented under the Ed25519 key's kid
    import base64

    decoded = json.loads(base64.urlsafe_b64decode(header + "=="))
    decoded["kid"] = ed.kid
    relabelled = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    with pytest.raises(AlgorithmNotAllowedError):
        verify_detached(f"{relabelled}..{signature}", BODY, [ed.pinned], now=NOW, clock_skew=SKEW)


def test_attached_payload_is_refused(jwk):
    key = SigningKey.from_jwk(jwk)
    protected, _, signature = signed(key).partition("..")
    with pytest.raises(SignatureError, match="detached|Payload segment must be empty"):
        verify_detached(
            f"{protected}.e30.{signature}", BODY, [key.pinned], now=NOW, clock_skew=SKEW
        )


def test_signature_by_a_retired_key_verifies_only_if_made_while_valid():
    jwk = generate_jwk()
    key = SigningKey.from_jwk(jwk)
    retired = PinnedKey.from_jwk(
        {**public_part(jwk), "exp": int((NOW - timedelta(days=1)).timestamp())}
    )
    old = signed(key, issued_at=NOW - timedelta(days=2))
    assert verify_detached(old, BODY, [retired], now=NOW, clock_skew=SKEW).kid == key.kid
    with pytest.raises(UnknownKeyError, match="not valid"):
        verify_detached(signed(key), BODY, [retired], now=NOW, clock_skew=SKEW)


def test_signing_time_in_the_future_is_refused():
    key = SigningKey.from_jwk(generate_jwk())
    with pytest.raises(SignatureError, match="future"):
        verify_detached(
            signed(key, issued_at=NOW + timedelta(hours=1)),
            BODY,
            [key.pinned],
            now=NOW,
            clock_skew=SKEW,
        )
