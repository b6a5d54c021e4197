"""``/v1/assistance-requests`` and ``/v1/assistance-answers``."""

from __future__ import annotations

from typing import Any

import flask

from gateway.api.context import services
from gateway.api.messages import incoming, receipt_response


def post_assistance_request(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_assistance_request(incoming(token_info)))


def post_assistance_answer(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_assistance_answer(incoming(token_info)))
