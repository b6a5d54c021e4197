"""``/v1/assistance-requests`` and ``/v1/assistance-answers``."""

from __future__ import annotations

from typing import Any

import flask

from gateway.api.context import services
from gateway.api.signing import SIGNATURE_HEADER
from gateway.exchange.inbound import Accepted, IncomingMessage
from gateway.exchange.receipts import RECEIPT_MEDIA_TYPE


def _incoming(token_info: dict[str, Any]) -> IncomingMessage:
    request = flask.request
    return IncomingMessage(
        assertion=token_info["assertion"],
        body=request.get_data(),
        content_type=request.content_type or "",
        signature=request.headers.get(SIGNATURE_HEADER),
    )


def _receipt(accepted: Accepted) -> flask.Response:
    return flask.Response(
        accepted.receipt.body,
        status=202 if accepted.first_time else 200,
        content_type=RECEIPT_MEDIA_TYPE,
        headers={SIGNATURE_HEADER: accepted.receipt.signature},
    )


def post_assistance_request(token_info: dict[str, Any]) -> flask.Response:
    return _receipt(services().inbound.receive_assistance_request(_incoming(token_info)))


def post_assistance_answer(token_info: dict[str, Any]) -> flask.Response:
    return _receipt(services().inbound.receive_assistance_answer(_incoming(token_info)))
