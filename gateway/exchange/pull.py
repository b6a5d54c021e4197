"""Pull delivery (PROTOCOL §7), TAXII 2.1 style, for partners that cannot receive pushes.

``GET /v1/inbox`` lists what is addressed to the caller and ready (``available``), oldest first,
after ``added_after`` and an opaque ``next`` cursor; each item carries its exact bytes and its own
detached JWS, so it verifies alone. The partner acknowledges an item with the same signed receipt
it would have returned to a push; only a receipt that verifies acknowledges.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.audit import log as audit_log
from gateway.errors import ConflictError, DocumentError, NotFoundError
from gateway.exchange import replay
from gateway.exchange.receipts import check_receipt
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import OutboxMessage
from gateway.trust.assertions import VerifiedAssertion


def encode_cursor(added: datetime, row_id: int) -> str:
    raw = json.dumps([added.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: The largest row id a cursor may name (the databases' BIGINT).
_MAX_ROW_ID = 2**63 - 1


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (UTC time, row id) that :func:`encode_cursor` wrote; DocumentError for anything it
    cannot have written (the cursor comes back from the partner: a naive or out-of-range time,
    a row id that is not an integer a row can have)."""
    try:
        added, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(added)
        if moment.tzinfo is None or type(row_id) is not int or not 0 <= row_id <= _MAX_ROW_ID:
            raise ValueError("not a cursor's time and row id")
        return moment.astimezone(UTC), row_id
    except (ValueError, TypeError, OverflowError) as error:
        raise DocumentError("the next cursor is not one this gateway gave out") from error


@dataclass(frozen=True)
class InboxPage:
    items: list[dict[str, Any]]
    next: str | None


def list_inbox(
    database: Database,
    assertion: VerifiedAssertion,
    *,
    added_after: datetime | None,
    cursor: str | None,
    limit: int,
    now: datetime,
    skew: timedelta,
) -> InboxPage:
    with database.transaction() as session:
        replay.consume(session, assertion, now=now, skew=skew)
        query = select(OutboxMessage).where(
            OutboxMessage.recipient == assertion.caller, OutboxMessage.state == "available"
        )
        if added_after is not None:
            query = query.where(OutboxMessage.created_at > added_after)
        if cursor is not None:
            after_added, after_id = decode_cursor(cursor)
            query = query.where(
                (OutboxMessage.created_at > after_added)
                | ((OutboxMessage.created_at == after_added) & (OutboxMessage.id > after_id))
            )
        rows = (
            session.execute(
                query.order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit + 1)
            )
            .scalars()
            .all()
        )
    page, more = rows[:limit], len(rows) > limit
    items = [
        {
            "message_id": row.message_id,
            "message_type": row.message_type,
            "content_type": row.content_type,
            "added": row.created_at.isoformat(),
            "body": base64.b64encode(row.body).decode(),
            "signature": row.signature,
        }
        for row in page
    ]
    return InboxPage(items, encode_cursor(page[-1].created_at, page[-1].id) if more else None)


def acknowledge(
    database: Database,
    registry: Registry,
    assertion: VerifiedAssertion,
    *,
    message_id: str,
    receipt: bytes,
    receipt_signature: str | None,
    now: datetime,
    skew: timedelta,
) -> None:
    """Record the caller's signed receipt for an item of its inbox."""
    with database.transaction() as session:
        replay.consume(session, assertion, now=now, skew=skew)
        row = session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.message_id == message_id, OutboxMessage.recipient == assertion.caller
            )
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no message {message_id} for {assertion.caller}")
        if row.state == "acknowledged":
            if row.receipt == receipt:
                return  # the same acknowledgement again
            raise ConflictError(f"message {message_id} was acknowledged with another receipt")
        if row.state != "available":
            raise ConflictError(f"message {message_id} is {row.state}, not available")
        check_receipt(
            receipt,
            receipt_signature,
            keys=registry.keys_of(assertion.caller),
            issuer=assertion.caller,
            message_id=message_id,
            body_sha256=row.body_sha256,
            now=now,
            clock_skew=skew,
        )
        row.state, row.receipt, row.receipt_signature, row.acknowledged_at = (
            "acknowledged",
            receipt,
            receipt_signature,
            now,
        )
        audit_log.append(
            session,
            audit_log.Event(
                tag=f"partner:{row.message_type}:acknowledged",
                occurred_at=now,
                actor=assertion.caller,
                partner=assertion.caller,
                message_id=message_id,
                body_sha256=row.body_sha256,
                detail={"mode": "pull", "receipt": json.loads(receipt)},
            ),
        )
