"""Client assertions (PROTOCOL §3): the bearer JWT that authenticates every partner call.

``verify_assertion`` is pure: it checks the token against the caller's pinned keys and the call it
arrived with, and returns the ``jti`` for the caller to record. Whether the ``jti`` was seen before
is a question for storage (:mod:`gateway.exchange.replay`), asked after this succeeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from gateway.errors import (
    AlgorithmNotAllowedError,
    AudienceMismatchError,
    TokenExpiredError,
    TokenInvalidError,
    UnknownKeyError,
)
from gateway.trust.jws import epoch_time, register_fully_specified_names
from gateway.trust.keys import ACCEPTED_ALGORITHMS, PinnedKey, SigningKey, select_key

REQUIRED_CLAIMS = ("iss", "sub", "aud", "iat", "exp", "jti", "htm", "htu")


class _AssertionDecoder(jwt.PyJWT):
    """pyjwt's JWT decoder that also knows RFC 9864's ``Ed25519`` algorithm name."""

    def __init__(self) -> None:
        super().__init__()
        # pyjwt keeps its JWS engine private; registering an algorithm is its documented method.
        register_fully_specified_names(self._jws)


_DECODER = _AssertionDecoder()


@dataclass(frozen=True)
class VerifiedAssertion:
    caller: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    kid: str


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification: only to pick the caller and the key."""
    try:
        # One parse for both (pyjwt checks every character of every segment on each parse).
        unverified = _DECODER.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise TokenInvalidError(f"the bearer token is not a JWT: {error}") from error
    return unverified["header"], unverified["payload"]


def verify_assertion(
    token: str,
    *,
    keys_of: Callable[[str], Sequence[PinnedKey]],
    receiver_id: str,
    method: str,
    url: str,
    now: datetime,
    clock_skew: timedelta,
    max_lifetime: timedelta,
) -> VerifiedAssertion:
    """Verify a client assertion for one call.

    ``keys_of(caller)`` returns the caller's pinned keys, raising UnknownPartnerError for an
    unknown caller. ``url`` is the request URL without its query.

    Steps: (1) ``alg`` is accepted at all; (2) the claimed caller is known and ``kid`` names one of
    its pinned keys; (3) the key's type allows ``alg``; (4) signature, ``aud``, ``iss``, ``iat``,
    ``exp`` and the required claims, with the allowed clock skew; (5) ``sub`` = ``iss``, lifetime
    at most ``max_lifetime``, key valid at ``iat``; (6) ``htm``/``htu`` bind the token to this call.
    """
    header, unverified = _unverified(token)
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise AlgorithmNotAllowedError(f"alg {alg!r} is not accepted; use EdDSA or ES256")
    caller = unverified.get("iss")
    if not isinstance(caller, str) or not caller:
        raise TokenInvalidError('the assertion lacks "iss"')
    key = select_key(keys_of(caller), header.get("kid"))
    if key is None:
        raise UnknownKeyError(f"no key pinned for {caller} has kid {header.get('kid')!r}")
    if alg not in key.algorithms:
        raise AlgorithmNotAllowedError(f"alg {alg!r} does not match the pinned key's type")

    try:
        claims = _DECODER.decode(
            token,
            key.public_key,
            algorithms=[alg],
            audience=receiver_id,
            issuer=caller,
            leeway=clock_skew,
            options={
                "require": list(REQUIRED_CLAIMS),
                "verify_signature": True,
                "verify_exp": True,
                "verify_iat": True,
                "verify_nbf": True,
                "verify_aud": True,
                "verify_iss": True,
                "verify_sub": True,
                "verify_jti": True,
                "strict_aud": True,
            },
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenExpiredError("the assertion has expired") from error
    except jwt.InvalidAudienceError as error:
        raise AudienceMismatchError(f'the assertion\'s "aud" must be "{receiver_id}"') from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenInvalidError(f"the assertion lacks the {error.claim!r} claim") from error
    except jwt.InvalidSignatureError as error:
        raise TokenInvalidError("the assertion's signature does not verify") from error
    except jwt.PyJWTError as error:
        raise TokenInvalidError(f"the assertion is invalid: {error}") from error

    issued_at, expires_at = epoch_time(claims["iat"]), epoch_time(claims["exp"])
    if issued_at is None or expires_at is None:
        raise TokenInvalidError('the assertion\'s "iat" and "exp" must be times in epoch seconds')
    if claims["sub"] != caller:
        raise TokenInvalidError('the assertion\'s "sub" must equal its "iss"')
    if expires_at - issued_at > max_lifetime:
        raise TokenInvalidError(
            f"the assertion lives longer than {int(max_lifetime.total_seconds())} s"
        )
    if not key.valid_at(issued_at):
        raise UnknownKeyError(f"key {key.kid} was not valid when the assertion was issued")
    if not isinstance(claims["jti"], str) or not 8 <= len(claims["jti"]) <= 200:
        raise TokenInvalidError('the assertion\'s "jti" must be a string of 8 to 200 characters')
    if claims["htm"] != method:
        raise TokenInvalidError(f"the assertion is bound to {claims['htm']!r}, not {method}")
    if claims["htu"] != url:
        raise TokenInvalidError(f"the assertion is bound to another URL; this call is to {url}")
    return VerifiedAssertion(caller, claims["jti"], issued_at, expires_at, key.kid)


def make_assertion(
    key: SigningKey,
    *,
    caller: str,
    receiver_id: str,
    method: str,
    url: str,
    now: datetime,
    lifetime: timedelta = timedelta(seconds=120),
) -> str:
    """A client assertion for one call (used by ``gateway send`` and the delivery worker)."""
    claims = {
        "iss": caller,
        "sub": caller,
        "aud": receiver_id,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": str(uuid.uuid4()),
        "htm": method,
        "htu": url,
    }
    return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})
