"""Signing what the gateway returns to partners (PROTOCOL §4: responses are signed too)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import flask

from gateway.trust.jws import sign_detached

if TYPE_CHECKING:
    from gateway.app import Services

SIGNATURE_HEADER = "X-JWS-Signature"


def sign_response(
    services: Services,
    body: bytes,
    *,
    content_type: str,
    message_id: str,
    message_type: str,
    audience: str | None,
) -> dict[str, str]:
    """The response headers that carry this gateway's detached JWS over ``body``."""
    signature = sign_detached(
        body,
        services.keyring.active,
        content_type=content_type,
        message_id=message_id,
        issuer=services.settings.gateway_id,
        audience=audience,
        message_type=message_type,
        issued_at=datetime.now(UTC),
    )
    return {SIGNATURE_HEADER: signature}


def json_answer(
    services: Services, body: Any, *, token_info: dict[str, Any], message_type: str
) -> flask.Response:
    """A JSON response, signed when the caller is a partner (PROTOCOL §4)."""
    encoded = json.dumps(body, separators=(",", ":")).encode()
    headers: dict[str, str] = {}
    assertion = token_info.get("assertion")
    if assertion is not None:
        headers = sign_response(
            services,
            encoded,
            content_type="application/json",
            message_id=str(uuid.uuid4()),
            message_type=message_type,
            audience=assertion.caller,
        )
    return flask.Response(encoded, status=200, content_type="application/json", headers=headers)
