"""``/v1/seizure-reports``: thin handlers over :mod:`gateway.exchange.inbound`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.signing import SIGNATURE_HEADER, sign_response
from gateway.exchange.inbound import IncomingMessage, read_own_message
from gateway.exchange.receipts import RECEIPT_MEDIA_TYPE


def post_seizure_report(token_info: dict[str, Any]) -> flask.Response:
    request = flask.request
    accepted = services().inbound.receive_seizure_report(
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


def get_seizure_report(message_id: str, token_info: dict[str, Any]) -> flask.Response:
    gateway = services()
    assertion = token_info["assertion"]
    stored = read_own_message(
        gateway.database,
        assertion,
        message_id,
        now=datetime.now(UTC),
        skew=timedelta(seconds=gateway.settings.clock_skew_seconds),
    )
    headers = sign_response(
        gateway,
        stored.body,
        content_type=stored.content_type,
        message_id=stored.message_id,
        message_type=stored.message_type,
        audience=assertion.caller,
    )
    headers["X-Received-Signature"] = stored.signature
    return flask.Response(
        stored.body, status=200, content_type=stored.content_type, headers=headers
    )
