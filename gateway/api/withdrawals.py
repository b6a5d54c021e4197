"""``POST /v1/withdrawals`` and ``POST /v1/marking-changes``: a partner withdraws, supersedes or
changes the markings of a message it sent."""

from __future__ import annotations

from typing import Any

import flask

from gateway.api.context import services
from gateway.api.messages import incoming, receipt_response


def post_withdrawal(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_withdrawal(incoming(token_info)))


def post_marking_change(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_marking_change(incoming(token_info)))
