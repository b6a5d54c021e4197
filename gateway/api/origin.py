"""Certificates of origin: the partners' signed messages, and the lookups of officers and of the
clearance system (operator tokens)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.messages import incoming, receipt_response
from gateway.errors import ForbiddenError

#: Operator roles that check certificates at clearance.
LOOKUP_ROLES = frozenset({"officer", "system"})


def post_certificate_of_origin(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_certificate_of_origin(incoming(token_info)))


def post_certificate_status(token_info: dict[str, Any]) -> flask.Response:
    return receipt_response(services().inbound.receive_certificate_status(incoming(token_info)))


def post_verification_request(token_info: dict[str, Any]) -> flask.Response:
    gateway = services()
    return receipt_response(
        gateway.inbound.receive_origin_verification_request(incoming(token_info))
    )


def post_verification_answer(token_info: dict[str, Any]) -> flask.Response:
    gateway = services()
    return receipt_response(
        gateway.inbound.receive_origin_verification_answer(incoming(token_info))
    )


def _officer(token_info: dict[str, Any]) -> str:
    if token_info.get("role") not in LOOKUP_ROLES:
        raise ForbiddenError("this operation needs the officer or system role")
    return str(token_info["sub"])


def lookup_certificate(
    number: str, issue_date: str, token_info: dict[str, Any], exporting_party: str | None = None
) -> flask.Response:
    actor = _officer(token_info)
    return flask.jsonify(
        services().origin.lookup(
            number,
            date.fromisoformat(issue_date),
            actor=actor,
            now=datetime.now(UTC),
            exporting_party=exporting_party,
        )
    )


def list_verifications(token_info: dict[str, Any], state: str = "open") -> flask.Response:
    _officer(token_info)
    return flask.jsonify(
        {"verifications": services().origin.verifications(state, today=datetime.now(UTC).date())}
    )
