from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import TokenInvalidError
from gateway.trust.assertions import make_assertion, verify_assertion
from gateway.trust.keys import SigningKey, generate_jwk

URL = "https://gateway.example/v1/seizure-reports"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verify(token: str, key: SigningKey, **changes):
    args = dict(
        keys_of=lambda caller: [key.pinned],
        receiver_id="JP",
        method="POST",
        url=URL,
        now=datetime.now(UTC),
        clock_skew=timedelta(seconds=60),
        max_lifetime=timedelta(seconds=300),
    )
    args.update(changes)
    return verify_assertion(token, **args)


def test_assertion_round_trip():
    key = SigningKey.from_jwk(generate_jwk())
    token = make_assertion(
        key, caller="KR", receiver_id="JP", method="POST", url=URL, now=datetime.now(UTC)
    )
    verified = verify(token, key)
    assert verified.caller == "KR" and verified.kid == key.kid


def test_fully_specified_ed25519_assertion_is_accepted():
    """RFC 9864's "Ed25519" alg: signed here by hand with the raw key, as another library would."""
    key = SigningKey.from_jwk(generate_jwk())
    now = int(time.time())
    header = _b64(json.dumps({"alg": "Ed25519", "typ": "JWT", "kid": key.kid}).encode())
    claims = _b64(
        json.dumps(
            {
                "iss": "KR",
                "sub": "KR",
                "aud": "JP",
                "iat": now,
                "exp": now + 60,
                "jti": "a-unique-jti-1",
                "htm": "POST",
                "htu": URL,
            }
        ).encode()
    )
    signature = _b64(key.private_key.sign(f"{header}.{claims}".encode()))
    assert verify(f"{header}.{claims}.{signature}", key).jti == "a-unique-jti-1"


def test_method_binding():
    key = SigningKey.from_jwk(generate_jwk())
    token = make_assertion(
        key, caller="KR", receiver_id="JP", method="GET", url=URL, now=datetime.now(UTC)
    )
    with pytest.raises(TokenInvalidError, match="bound to 'GET'"):
        verify(token, key)
