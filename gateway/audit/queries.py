"""What auditors read: events by criteria, a message's whole journey, its stored bytes.

Reading a message's bytes is itself an audit event (``auditor:message:read``), written in the same
transaction as the read.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from gateway.audit import log as audit_log
from gateway.errors import NotFoundError
from gateway.store.db import Database
from gateway.store.models import AuditEvent, Message, OriginatorConsent

#: The filters of a search of the log, as the API and the pages name them.
SEARCH_FILTERS = ("partner", "message_id", "tag", "actor", "decision", "since", "until")


@dataclass(frozen=True)
class EventQuery:
    partner: str | None = None
    message_id: str | None = None
    tag: str | None = None
    actor: str | None = None
    decision: str | None = None  # "allowed" | "denied"
    start: datetime | None = None
    end: datetime | None = None
    after: int = -1
    limit: int = 100


def _present(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if v is not None}


def event_view(event: AuditEvent) -> dict[str, Any]:
    return _present(
        {
            "log_index": event.log_index,
            "tag": event.tag,
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor,
            "partner": event.partner,
            "message_id": event.message_id,
            "body_sha256": event.body_sha256,
            "detail": event.detail,
            "leaf_hash": event.leaf_hash.hex(),
        }
    )


def _filtered(query: EventQuery) -> Select[AuditEvent]:
    return matching(query).order_by(AuditEvent.log_index).limit(query.limit)


def matching(query: EventQuery) -> Select[AuditEvent]:
    """The events ``query`` selects, unordered and without its ``limit``: for callers that
    refine, order and stream them (:func:`stream_events`)."""
    statement = select(AuditEvent).where(AuditEvent.log_index > query.after)
    for column, value in (
        (AuditEvent.partner, query.partner),
        (AuditEvent.message_id, query.message_id),
        (AuditEvent.actor, query.actor),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.tag is not None:
        # "partner:seizure-report:*" style prefixes, or an exact tag
        statement = statement.where(
            AuditEvent.tag.startswith(query.tag[:-1], autoescape=True)
            if query.tag.endswith("*")
            else AuditEvent.tag == query.tag
        )
    if query.decision == "allowed":  # decisions that allowed an exchange
        statement = statement.where(AuditEvent.tag.endswith(":decided"))
    elif query.decision == "denied":  # refusals at the door, and onward decisions that denied
        statement = statement.where(
            AuditEvent.tag.endswith(":refused") | AuditEvent.tag.endswith(":denied")
        )
    if query.start is not None:
        statement = statement.where(AuditEvent.occurred_at >= query.start)
    if query.end is not None:
        statement = statement.where(AuditEvent.occurred_at < query.end)
    return statement


def search_events(database: Database, query: EventQuery) -> list[dict[str, Any]]:
    with database.transaction() as session:
        return [event_view(e) for e in session.execute(_filtered(query)).scalars()]


def stream_events(
    database: Database, statement: Select[AuditEvent], *, batch: int = 1000
) -> Iterator[AuditEvent]:
    """The events ``statement`` selects, fetched ``batch`` at a time in one transaction (never
    the whole result in memory); the transaction ends when the iterator is exhausted or closed."""
    with database.transaction() as session:
        yield from session.execute(statement.execution_options(yield_per=batch)).scalars()


def message_record(
    database: Database, message_id: str, *, actor: str, now: datetime
) -> dict[str, Any]:
    """A message as stored (bytes, signatures, receipt, decision, consents) and its journey."""
    with database.transaction() as session:
        message = session.execute(
            select(Message).where(Message.message_id == message_id)
        ).scalar_one_or_none()
        if message is None:
            raise NotFoundError(f"no message {message_id}")
        journey = [
            event_view(e)
            for e in session.execute(
                select(AuditEvent)
                .where(AuditEvent.message_id == message_id)
                .order_by(AuditEvent.log_index)
            ).scalars()
        ]
        consents = [
            {
                "recipient": c.recipient,
                "reference": c.reference,
                "recorded_by": c.recorded_by,
                "recorded_at": c.recorded_at.isoformat(),
            }
            for c in session.execute(
                select(OriginatorConsent).where(OriginatorConsent.message_id == message_id)
            ).scalars()
        ]
        audit_log.append(
            session,
            audit_log.Event(
                tag="auditor:message:read",
                occurred_at=now,
                actor=actor,
                partner=message.sender,
                message_id=message_id,
                body_sha256=message.body_sha256,
            ),
        )
        return _present(
            {
                "message_id": message.message_id,
                "direction": message.direction,
                "sender": message.sender,
                "recipient": message.recipient,
                "message_type": message.message_type,
                "content_type": message.content_type,
                "received_at": message.received_at.isoformat(),
                "body": None
                if message.body_deleted_at
                else base64.b64encode(message.body).decode(),
                "body_sha256": message.body_sha256,
                "body_deleted_at": message.body_deleted_at.isoformat()
                if message.body_deleted_at
                else None,
                "signature": message.signature,
                "signature_kid": message.signature_kid,
                "receipt": base64.b64encode(message.receipt).decode(),
                "receipt_signature": message.receipt_signature,
                "decision": message.decision,
                "markings": {
                    "originator": message.originator,
                    "handling_code": message.handling_code,
                    "tlp": message.tlp,
                },
                "consents": consents,
                "journey": journey,
            }
        )
