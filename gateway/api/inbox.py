"""``/v1/inbox``: pull delivery for partners (thin handlers over :mod:`gateway.exchange.pull`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import flask
from connexion import NoContent

from gateway.api.context import services
from gateway.api.params import instant
from gateway.api.signing import SIGNATURE_HEADER, json_answer
from gateway.exchange.pull import acknowledge, list_inbox


def get_inbox(token_info: dict[str, Any], limit: int = 20, **query: Any) -> flask.Response:
    gateway = services()
    added_after = query.get("added_after")
    page = list_inbox(
        gateway.database,
        token_info["assertion"],
        added_after=instant(added_after),
        cursor=query.get("next"),
        limit=limit,
        now=datetime.now(UTC),
        skew=timedelta(seconds=gateway.settings.clock_skew_seconds),
    )
    body: dict[str, Any] = {"items": page.items, "more": page.next is not None}
    if page.next:
        body["next"] = page.next
    return json_answer(gateway, body, token_info=token_info, message_type="inbox-page")


def post_acknowledgement(message_id: str, token_info: dict[str, Any]) -> tuple[Any, int]:
    gateway = services()
    acknowledge(
        gateway.database,
        gateway.registry,
        token_info["assertion"],
        message_id=message_id,
        receipt=flask.request.get_data(),
        receipt_signature=flask.request.headers.get(SIGNATURE_HEADER),
        now=datetime.now(UTC),
        skew=timedelta(seconds=gateway.settings.clock_skew_seconds),
    )
    return NoContent, 204
