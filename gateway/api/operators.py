"""Authentication of the gateway's own systems on the operator API (``operatorToken``).

Only SHA-256 digests of the tokens are configured (``GATEWAY_OPERATOR_TOKENS``); a presented
token is hashed and compared in constant time. Interim until officers' accounts (issue 7).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from gateway.api.edge import services_of
from gateway.errors import ConfigurationError, ForbiddenError, TokenInvalidError

ROLES = ("system", "auditor", "officer")


def parse_operator_tokens(setting: str) -> dict[str, tuple[str, str]]:
    """``name[:role]=sha256hex,…`` → {digest: (name, role)}; ConfigurationError if malformed.

    Roles: ``system`` (the default: the gateway's own systems, e.g. the review screens),
    ``auditor`` (read-only access to the audit log) and ``officer`` (customs officers checking
    certificates of origin at clearance).
    """
    tokens: dict[str, tuple[str, str]] = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        who, _, digest = entry.partition("=")
        name, _, role = who.partition(":")
        role = role or "system"
        if (
            not name
            or role not in ROLES
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise ConfigurationError(f"operator_tokens: {entry!r} is not name[:role]=<sha256 hex>")
        tokens[digest] = (name, role)
    return tokens


def new_operator_token() -> tuple[str, str]:
    """A fresh token and its digest (the token is shown once; only the digest is configured)."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def operator_info(token: str, request: Request) -> dict[str, Any]:
    services = services_of(request.scope)
    holder = token_holder(services.operator_tokens, token)
    if holder is None:
        raise TokenInvalidError("the operator token is not valid")
    name, role = holder
    return {"sub": f"operator:{name}" if role == "system" else f"{role}:{name}", "role": role}


def token_holder(tokens: Mapping[str, tuple[str, str]], token: str) -> tuple[str, str] | None:
    """(name, role) of whoever holds ``token`` among the configured digests, compared in
    constant time; None if nobody does."""
    presented = hashlib.sha256(token.encode()).hexdigest()
    return next(
        (who for digest, who in tokens.items() if hmac.compare_digest(presented, digest)), None
    )


def require_role(token_info: dict[str, Any], role: str) -> str:
    """The caller's name if it holds ``role``; ForbiddenError otherwise."""
    if token_info.get("role") != role:
        raise ForbiddenError(f"this operation needs the {role} role")
    return str(token_info["sub"])
