"""The auditors' pages: search the log, open a message's journey with its signature status, and
the exchange statistics (:mod:`gateway.web.audit_statistics_pages`)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.params import instant
from gateway.audit.queries import SEARCH_FILTERS, EventQuery, message_record, search_events
from gateway.audit.reads import as_mapping
from gateway.errors import DocumentError, GatewayError, NotFoundError
from gateway.trust.jws import verify_detached
from gateway.web.audit_statistics_pages import statistics_pages
from gateway.web.session import current_user, requires

PAGE = 50


def _instant(text: str | None) -> datetime | None:
    """A date or date-time from a filter field (empty: no bound); 400 if it is neither."""
    try:
        return instant(text or None)
    except DocumentError as error:
        flask.abort(400, error.detail)


def signature_status(record: dict[str, Any]) -> str:
    """Re-verify the sender's signature over the stored bytes with the keys pinned now."""
    if record.get("body") is None:
        return "body deleted under retention: the signature can no longer be checked"
    gateway = services()
    partner = gateway.registry.partners.get(record["sender"])
    if partner is None:
        return f"{record['sender']} is no longer in the registry"
    try:
        header = verify_detached(
            record["signature"],
            base64.b64decode(record["body"]),
            partner.keys,
            now=datetime.now(UTC),
            clock_skew=timedelta(days=36500),
        )
    except GatewayError as error:
        return f"DOES NOT VERIFY: {error.detail}"
    return f"verified: signed by {header.iss} with key {header.kid} at {header.iat.isoformat()}"


def audit_pages(web: flask.Blueprint) -> None:
    statistics_pages(web)

    @web.get("/audit/events")
    @requires("auditor")
    def events() -> Any:
        args = flask.request.args
        criteria = {name: args.get(name) or None for name in SEARCH_FILTERS}
        if criteria["decision"] not in (None, "allowed", "denied"):
            flask.abort(400, "decision is allowed or denied")
        query = EventQuery(
            partner=criteria["partner"],
            message_id=criteria["message_id"],
            tag=criteria["tag"],
            actor=criteria["actor"],
            decision=criteria["decision"],
            start=_instant(criteria["since"]),
            end=_instant(criteria["until"]),
            after=args.get("after", -1, type=int),
            limit=PAGE,
        )
        found = search_events(services().database, query)
        person = current_user()
        if person is not None:
            services().reads.record(
                person.actor("auditor"),
                "events",
                filters=as_mapping({**criteria, "after": args.get("after")}),
            )
        more = len(found) == PAGE
        next_args = (
            {**{k: v for k, v in criteria.items() if v}, "after": found[-1]["log_index"]}
            if more
            else None
        )
        return flask.render_template(
            "audit_events.html", events=found, criteria=criteria, next_args=next_args
        )

    @web.get("/audit/messages/<message_id>")
    @requires("auditor")
    def message(message_id: str) -> Any:
        user = current_user()
        assert user is not None
        try:
            record = message_record(
                services().database,
                message_id,
                actor=user.actor("auditor"),
                now=datetime.now(UTC),
            )
        except NotFoundError:
            # a refused message leaves no record, only the events of its refusal
            journey = search_events(
                services().database, EventQuery(message_id=message_id, limit=1000)
            )
            if not journey:
                flask.abort(404, f"no message {message_id}")
            return flask.render_template(
                "audit_refused.html", message_id=message_id, journey=journey
            )
        body = (
            base64.b64decode(record["body"]).decode("utf-8", "replace")
            if record.get("body")
            else None
        )
        return flask.render_template(
            "audit_message.html", record=record, body=body, signature=signature_status(record)
        )
