"""A partner reads back a message it sent (``GET /v1/seizure-reports/{id}``): the exact bytes as
received, its own signature as verified; any other message is not found (PROTOCOL §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.audit import log as audit_log
from gateway.errors import NotFoundError
from gateway.exchange import replay
from gateway.store.db import Database
from gateway.store.models import Message
from gateway.trust.assertions import VerifiedAssertion


@dataclass(frozen=True)
class StoredMessage:
    message_id: str
    content_type: str
    body: bytes
    signature: str
    message_type: str


def read_own_message(
    database: Database,
    assertion: VerifiedAssertion,
    message_id: str,
    *,
    now: datetime,
    skew: timedelta,
) -> StoredMessage:
    """A message the caller sent, as received; NotFoundError for any other (PROTOCOL §6)."""
    with database.transaction() as session:
        replay.consume(session, assertion, now=now, skew=skew)
        found = session.execute(
            select(Message).where(
                Message.message_id == message_id,
                Message.sender == assertion.caller,
                Message.direction == "in",
            )
        ).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"no message {message_id} sent by {assertion.caller}")
        audit_log.append(
            session,
            audit_log.Event(
                tag=f"partner:{found.message_type}:read",
                occurred_at=now,
                actor=assertion.caller,
                partner=assertion.caller,
                message_id=message_id,
                body_sha256=found.body_sha256,
            ),
        )
        return StoredMessage(
            found.message_id, found.content_type, found.body, found.signature, found.message_type
        )
