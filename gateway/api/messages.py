"""Shared by the handlers of signed partner messages: the incoming call, the receipt answer."""

from __future__ import annotations

from typing import Any

import flask

from gateway.api.signing import SIGNATURE_HEADER
from gateway.exchange.inbound import Accepted, IncomingMessage
from gateway.exchange.receipts import RECEIPT_MEDIA_TYPE


def incoming(token_info: dict[str, Any]) -> IncomingMessage:
    """The authenticated call: assertion, exact body bytes, media type, detached JWS."""
    request = flask.request
    return IncomingMessage(
        assertion=token_info["assertion"],
        body=request.get_data(),
        content_type=request.content_type or "",
        signature=request.headers.get(SIGNATURE_HEADER),
    )


def receipt_response(accepted: Accepted) -> flask.Response:
    """202 with the signed receipt, or 200 with the same receipt for a resend (PROTOCOL §5)."""
    return flask.Response(
        accepted.receipt.body,
        status=202 if accepted.first_time else 200,
        content_type=RECEIPT_MEDIA_TYPE,
        headers={SIGNATURE_HEADER: accepted.receipt.signature},
    )
