"""Marking changes (PROTOCOL §7): an originator raises or lowers the markings of a message after
it was sent, and the change follows the message wherever it went.

Received from the partner that sent the message (``apply``): the markings in force change on
the stored message, so that every later onward decision reads them; what this gateway had
queued but not yet delivered onward, and that the new markings forbid, is stopped; where it was
delivered, a marking-change notice follows it; the hub loses a report the new markings keep from
it (a withdrawal through the feed) and gains one they now allow.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import (
    ConflictError,
    DocumentError,
    ForbiddenError,
    NotFoundError,
    PolicyDeniedError,
    StateConflictError,
)
from gateway.exchange.links import received_from
from gateway.exchange.outbound import Outbound
from gateway.exchange.received import HubFeed, Received
from gateway.policy.model import ENFORCEMENT_TYPES, NOTICE_TYPES
from gateway.store.db import Database
from gateway.store.models import Message, OriginatorConsent, OutboxMessage


def check_change(before: dict[str, Any], after: dict[str, Any], message_type: str) -> None:
    """Only the originator changes a message's markings, to complete ones, of a message that
    carries markings (DocumentError, ForbiddenError, StateConflictError)."""
    if message_type not in ENFORCEMENT_TYPES:
        raise StateConflictError(f"a {message_type} carries no markings to change")
    if after["originator"] != before.get("originator"):
        raise ForbiddenError(
            f"only its originator {before.get('originator')} changes its markings "
            f"(the change names {after['originator']})"
        )
    if after["handling_code"] == "H3" and not after.get("conditions"):
        raise DocumentError("/markings: handling code H3 without its conditions")


class MarkingChanges:
    """The link of a received marking change, wired to where this gateway passes messages on."""

    def __init__(self, *, outbound: Outbound | None, feed: HubFeed | None) -> None:
        self._outbound = outbound
        self._feed = feed

    def apply(self, session: Session, received: Received) -> None:
        """Change the markings in force and pass the change on; refused, changing nothing: a
        message the caller did not send (NotFoundError), a change by anyone but the originator
        (ForbiddenError), a message that carries no markings (StateConflictError)."""
        caller, document, now = received.caller, received.document, received.now
        original = received_from(session, caller, document["changes"])
        before = dict(original.in_force().get("markings") or {})
        after = dict(document["markings"])
        check_change(before, after, original.message_type)
        original.changed_markings, original.markings_changed_by = after, received.message_id
        original.handling_code, original.tlp = after["handling_code"], after["tlp"]
        passed_on = (
            change_markings_onward(self._outbound, session, original, now=now)
            if self._outbound is not None
            else 0
        )
        if self._feed is not None:
            passed_on += self._feed.markings_changed(session, original, now=now)
        audit_log.append(
            session,
            audit_log.Event(
                tag=f"partner:{original.message_type}:marking-changed",
                occurred_at=now,
                actor=caller,
                partner=caller,
                message_id=original.message_id,
                body_sha256=original.body_sha256,
                detail={
                    "change": received.message_id,
                    "from": before,
                    "to": after,
                    "reason": document.get("reason"),
                    "passed_on_to": passed_on,
                },
            ),
        )


def change_markings_onward(
    outbound: Outbound, session: Session, original: Message, *, now: datetime
) -> int:
    """In the caller's transaction: ``original``'s markings changed; every message that passed it
    on is decided again on the markings in force. Not yet delivered and now forbidden: it does
    not go. Delivered (or still allowed): a marking-change notice follows it. Returns how many
    recipients are told."""
    rows = (
        session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.source_message_id == original.message_id,
                OutboxMessage.message_type.not_in(NOTICE_TYPES),
            )
            .with_for_update()
        )
        .scalars()
        .all()
    )
    consents = frozenset(
        session.execute(
            select(OriginatorConsent.recipient).where(
                OriginatorConsent.message_id == original.message_id
            )
        ).scalars()
    )
    document = original.in_force()
    told = 0
    for row in rows:
        if row.state == "withdrawn":
            continue
        if row.state == "sending":
            raise ConflictError(
                f"message {row.message_id} is being delivered; send the change again"
            )
        try:
            outbound.decide_release(
                recipient=row.recipient,
                message_type=row.message_type,
                document=document,
                now=now,
                purpose=(row.decision.get("context") or {}).get("purpose"),
                consents=consents,
            )
            forbidden = False
        except PolicyDeniedError:
            forbidden = True
        if forbidden and row.state != "acknowledged":
            outbound.stop(
                session,
                row,
                actor="system:marking-change",
                now=now,
                reason=f"its originator changed its markings to {_label(document['markings'])}",
            )
            continue
        outbound.notify(
            session,
            row,
            "marking-change",
            {"changes": row.message_id, "markings": document["markings"]},
            actor="system:marking-change",
            now=now,
            detail={"changes": row.message_id, "source": original.message_id},
        )
        told += 1
    return told


def change_own_markings(
    outbound: Outbound,
    database: Database,
    message_id: str,
    *,
    markings: dict[str, Any],
    reason: str | None,
    actor: str,
    now: datetime,
) -> OutboxMessage:
    """This gateway, the originator, changes the markings of a message it delivered: a
    marking-change notice goes to its recipient (decided like every message; an officer's
    reason is free text). A message not yet delivered is withdrawn and sent again instead."""
    gateway_id = outbound.gateway_id
    with database.transaction() as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no outgoing message {message_id}")
        before = dict(json.loads(row.body).get("markings") or {})
        if before.get("originator") != gateway_id:
            raise ForbiddenError(
                f"{gateway_id} is not the originator of {message_id}; its originator "
                f"{before.get('originator')} changes its markings"
            )
        check_change(before, markings, row.message_type)
        if row.state != "acknowledged":
            raise StateConflictError(
                f"message {message_id} is {row.state}, not delivered: withdraw it and send it "
                "again with the new markings"
            )
        document: dict[str, Any] = {"changes": message_id, "markings": markings}
        if reason:
            document["reason"] = reason
        return outbound.notify(
            session,
            row,
            "marking-change",
            document,
            actor=actor,
            now=now,
            detail={"changes": message_id, "from": before, "to": markings, "reason": reason},
        )


def _label(markings: dict[str, Any]) -> str:
    return f"{markings.get('handling_code')} {markings.get('tlp')}"
