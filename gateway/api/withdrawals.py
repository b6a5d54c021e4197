"""``POST /v1/withdrawals``: a partner withdraws or supersedes a message it sent."""

from __future__ import annotations

from typing import Any

import flask

from gateway.api.context import services
from gateway.api.signing import SIGNATURE_HEADER
from gateway.exchange.inbound import IncomingMessage
from gateway.exchange.receipts import RECEIPT_MEDIA_TYPE


def post_withdrawal(token_info: dict[str, Any]) -> flask.Response:
    request = flask.request
    accepted = services().inbound.receive_withdrawal(
        IncomingMessage(
            assertion=token_info["assertion"],
            body=request.get_data(),
            content_type=request.content_type or "",
            signature=request.headers.get(SIGNATURE_HEADER),
        )
    )
    return flask.Response(
        accepted.receipt.body,
        status=202 if accepted.first_time else 200,
        content_type=RECEIPT_MEDIA_TYPE,
        headers={SIGNATURE_HEADER: accepted.receipt.signature},
    )
