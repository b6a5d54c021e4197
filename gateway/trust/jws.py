"""Detached JWS with an unencoded payload (RFC 7515 + RFC 7797), as PROTOCOL §4 prescribes.

The signature travels in ``X-JWS-Signature`` as ``<protected>..<signature>``; the signing input is
``ASCII(BASE64URL(protected)) || "." || body`` over the exact body bytes. pyjwt produces and checks
it (``is_payload_detached=True`` / ``detached_payload=``); this module adds the protocol's rules
around it and turns every failure into one of the gateway's errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.algorithms import OKPAlgorithm

from gateway.errors import (
    AlgorithmNotAllowedError,
    SignatureError,
    UnknownKeyError,
)
from gateway.trust.keys import ACCEPTED_ALGORITHMS, PinnedKey, SigningKey, select_key

MESSAGE_TYP = "customs-message+jws"
#: A message id as the idempotency key must be spelt one way: Python's UUID() also reads
#: "{...}", "urn:uuid:...", upper case and bare hex, each of which was stored as a message of its
#: own (and the longer ones overflowed PostgreSQL's column).
CANONICAL_UUID = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def register_fully_specified_names(engine: jwt.PyJWS) -> jwt.PyJWS:
    """Teach ``engine`` RFC 9864's ``Ed25519``: EdDSA restricted to Ed25519 keys."""
    engine.register_algorithm("Ed25519", OKPAlgorithm())
    return engine


_ENGINE = register_fully_specified_names(
    jwt.PyJWS(algorithms=sorted(ACCEPTED_ALGORITHMS - {"Ed25519"}))
)


@dataclass(frozen=True)
class MessageHeader:
    """The verified protected header of a message or response signature."""

    alg: str
    kid: str
    cty: str
    iat: datetime
    msgid: str
    iss: str
    aud: str | None
    msgtype: str
    raw: Mapping[str, Any]


def sign_detached(
    body: bytes,
    key: SigningKey,
    *,
    content_type: str,
    message_id: str,
    issuer: str,
    audience: str | None,
    message_type: str,
    issued_at: datetime,
    withheld: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``body`` and return the detached compact JWS ``<protected>..<signature>``.

    ``withheld`` (``{"original_sha256": …, "pointers": […]}``) makes the message a signed
    derivation: what the sender's policy withheld from the original, and which original."""
    headers: dict[str, Any] = {
        "kid": key.kid,
        "typ": MESSAGE_TYP,
        "cty": content_type,
        "iat": int(issued_at.timestamp()),
        "msgid": message_id,
        "iss": issuer,
        "msgtype": message_type,
    }
    if audience is not None:
        headers["aud"] = audience
    if withheld is not None:
        headers["withheld"] = dict(withheld)
    return _ENGINE.encode(
        body, key.private_key, algorithm=key.algorithm, headers=headers, is_payload_detached=True
    )


def epoch_time(value: object) -> datetime | None:
    """``value`` as a UTC time if it is a number of epoch seconds that a datetime can hold (years
    1 to 9999), else None: a partner's clock in milliseconds, or a forged 10**20, must not reach
    ``datetime.fromtimestamp`` unguarded (it raises OverflowError, ValueError or OSError)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _unverified_header(signature: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as error:
        raise SignatureError(f"the JWS is malformed: {error}") from error
    segments = signature.split(".")
    if len(segments) != 3 or segments[1] != "":
        raise SignatureError("the JWS must be detached: <protected>..<signature>")
    return header


def _check_header_form(header: Mapping[str, Any]) -> None:
    # RFC 7797: the body is signed as is, never base64url-encoded, and b64 is critical.
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        raise SignatureError('the JWS header must carry "b64": false and "crit": ["b64"]')
    if header.get("typ") != MESSAGE_TYP:
        raise SignatureError(f'the JWS header "typ" must be "{MESSAGE_TYP}"')
    for name in ("kid", "cty", "msgid", "iss", "msgtype"):
        if not isinstance(header.get(name), str) or not header[name]:
            raise SignatureError(f'the JWS header lacks "{name}"')
    if "aud" in header and not isinstance(header["aud"], str):
        raise SignatureError('the JWS header "aud" must be a string')
    if not isinstance(header.get("iat"), int) or isinstance(header.get("iat"), bool):
        raise SignatureError('the JWS header "iat" must be an integer (epoch seconds)')
    if not CANONICAL_UUID.fullmatch(header["msgid"]):
        raise SignatureError(
            'the JWS header "msgid" must be a UUID in its canonical form (RFC 9562 §4: 36 '
            "characters, lowercase hexadecimal and hyphens)"
        )


def verify_detached(
    signature: str,
    body: bytes,
    candidates: Sequence[PinnedKey],
    *,
    now: datetime,
    clock_skew: timedelta,
) -> MessageHeader:
    """Verify a detached JWS over ``body`` against the sender's pinned keys.

    Steps: (1) the header parses and has the protocol's form; (2) its ``alg`` is accepted at all;
    (3) ``kid`` names one of the pinned keys; (4) that key's type allows ``alg``; (5) the signature
    verifies over the exact bytes; (6) the key was valid when the message was signed and the
    signing time is not in the future.

    Raises:
        SignatureError: malformed, wrong form, or does not verify.
        AlgorithmNotAllowedError: ``alg`` is not accepted, or not for that key.
        UnknownKeyError: no pinned key has that ``kid``.
    """
    header = _unverified_header(signature)
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise AlgorithmNotAllowedError(f"alg {alg!r} is not accepted; use EdDSA or ES256")
    _check_header_form(header)
    key = select_key(candidates, header["kid"])
    if key is None:
        raise UnknownKeyError(f"no pinned key of the sender has kid {header['kid']!r}")
    if alg not in key.algorithms:
        raise AlgorithmNotAllowedError(f"alg {alg!r} does not match the pinned key's type")
    try:
        _ENGINE.decode_complete(signature, key.public_key, algorithms=[alg], detached_payload=body)
    except jwt.PyJWTError as error:
        raise SignatureError("the signature does not verify over the body as received") from error
    signed_at = epoch_time(header["iat"])
    if signed_at is None:
        raise SignatureError('the JWS header "iat" is not a time in epoch seconds')
    if signed_at > now + clock_skew:
        raise SignatureError('the JWS header "iat" is in the future')
    if not key.valid_at(signed_at):
        raise UnknownKeyError(f"key {key.kid} was not valid at the signing time")
    return MessageHeader(
        alg=alg,
        kid=key.kid,
        cty=header["cty"],
        iat=signed_at,
        msgid=header["msgid"],
        iss=header["iss"],
        aud=header.get("aud"),
        msgtype=header["msgtype"],
        raw=header,
    )


def sign_compact(payload: bytes, key: SigningKey, *, typ: str) -> str:
    """A compact JWS with the payload attached (signed tree heads: small, self-contained)."""
    return _ENGINE.encode(
        payload, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": typ}
    )


def verify_compact(token: str, candidates: Sequence[PinnedKey], *, typ: str) -> bytes:
    """The payload of a compact JWS signed by one of ``candidates`` with header ``typ``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise SignatureError(f"the JWS is malformed: {error}") from error
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise AlgorithmNotAllowedError(f"alg {alg!r} is not accepted")
    if header.get("typ") != typ:
        raise SignatureError(f'the JWS "typ" must be "{typ}"')
    key = select_key(candidates, header.get("kid"))
    if key is None:
        raise UnknownKeyError(f"no known key has kid {header.get('kid')!r}")
    if alg not in key.algorithms:
        raise AlgorithmNotAllowedError(f"alg {alg!r} does not match the key's type")
    try:
        payload: bytes = _ENGINE.decode_complete(token, key.public_key, algorithms=[alg])["payload"]
    except jwt.PyJWTError as error:
        raise SignatureError("the signature does not verify") from error
    return payload
