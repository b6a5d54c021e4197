"""``/v1/seizure-reports``: thin handlers over :mod:`gateway.exchange.inbound`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.messages import incoming, receipt_response
from gateway.api.signing import sign_response
from gateway.exchange.readback import read_own_message


def post_seizure_report(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_seizure_report(incoming(token_info)))


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
