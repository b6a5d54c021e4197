"""What receiving an answer or a withdrawal changes besides storing it (the inbound "links").

* An answer to a request for assistance must name a request this gateway sent to the caller.
* A withdrawal (PROTOCOL §7) marks the original withdrawn (both are kept) and follows it to every
  partner it was passed on to, to the RILO A/P hub through this member's feed, and, at the hub,
  withdraws the batch's reports from the counts.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import DocumentError, NotFoundError, StateConflictError
from gateway.exchange.outbound import Outbound
from gateway.exchange.received import BatchIngest, HubFeed, Received
from gateway.policy.model import NOTICE_TYPES
from gateway.store.models import Message, OutboxMessage


def link_answer(session: Session, received: Received) -> None:
    """An answer must name a request this gateway sent to the caller; the request's log shows it
    answered."""
    caller, message_id, document = received.caller, received.message_id, received.document
    now = received.now
    request = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.message_id == document["in_reply_to"],
            OutboxMessage.recipient == caller,
            OutboxMessage.message_type == "assistance-request",
        )
    ).scalar_one_or_none()
    if request is None:
        raise NotFoundError(f"no request {document['in_reply_to']} was sent to {caller}")
    audit_log.append(
        session,
        audit_log.Event(
            tag="partner:assistance-request:answered",
            occurred_at=now,
            actor=caller,
            partner=caller,
            message_id=request.message_id,
            body_sha256=request.body_sha256,
            detail={
                "answer": message_id,
                "outcome": document["outcome"],
                "reason": document.get("reason"),
            },
        ),
    )


def received_from(session: Session, caller: str, message_id: str) -> Message:
    """The message ``caller`` sent this gateway with ``message_id``, locked (NotFoundError: a
    caller can name only its own messages, and another's is unknown to it)."""
    original = session.execute(
        select(Message)
        .where(
            Message.message_id == message_id,
            Message.sender == caller,
            Message.direction == "in",
        )
        .with_for_update()
    ).scalar_one_or_none()
    if original is None:
        raise NotFoundError(f"no message {message_id} received from {caller}")
    return original


class Withdrawals:
    """The link of a received withdrawal, wired to where this gateway passes messages on."""

    def __init__(
        self, *, outbound: Outbound | None, feed: HubFeed | None, hub: BatchIngest | None
    ) -> None:
        self._outbound = outbound
        self._feed = feed
        self._hub = hub

    def apply(self, session: Session, received: Received) -> None:
        """Mark the original withdrawn and pass the withdrawal on wherever it went.

        Refused, changing nothing: a withdrawal superseded by the message it withdraws, and
        ``items`` for a message that is not a batch or that are not in the batch (DocumentError);
        the withdrawal of a withdrawal, which would read as putting the original back but would
        not (StateConflictError: the sender sends the original again under a new id)."""
        caller, withdrawal_id, document = received.caller, received.message_id, received.document
        now = received.now
        if document.get("superseded_by") == document["withdraws"]:
            raise DocumentError("superseded_by names the withdrawn message itself")
        original = received_from(session, caller, document["withdraws"])
        if original.message_type in NOTICE_TYPES:
            raise StateConflictError(
                f"{original.message_id} is a {original.message_type}, which cannot be withdrawn; "
                "to put back what it withdrew, send that message again under a new id (a marking "
                "change is undone by another)"
            )
        if "items" in document and original.message_type != "seizure-report-batch":
            raise DocumentError(
                f"items name reports of a batch; {original.message_id} is a {original.message_type}"
            )
        if original.withdrawn_at is None:
            original.withdrawn_at, original.withdrawn_by = now, withdrawal_id
        passed_on = (
            self._outbound.withdraw_onward(
                session, original.message_id, reason=document.get("reason"), now=now
            )
            if self._outbound is not None
            else 0
        )
        if self._feed is not None:
            passed_on += self._feed.withdraw_onward(
                session, original.message_id, reason=document.get("reason"), now=now
            )
        if original.message_type == "seizure-report-batch" and self._hub is not None:
            in_batch = [r["report_id"] for r in original.document["reports"]]
            items = document.get("items") or in_batch
            strangers = sorted(set(items) - set(in_batch))
            if strangers:  # they would withdraw reports of another batch under this one's name
                raise DocumentError(
                    f"items {', '.join(strangers)} are not reports of batch {original.message_id}"
                )
            self._hub.withdraw(session, caller, items, now=now)
        audit_log.append(
            session,
            audit_log.Event(
                tag=f"partner:{original.message_type}:withdrawn",
                occurred_at=now,
                actor=caller,
                partner=caller,
                message_id=original.message_id,
                body_sha256=original.body_sha256,
                detail={
                    "withdrawal": withdrawal_id,
                    "reason": document.get("reason"),
                    "superseded_by": document.get("superseded_by"),
                    "passed_on_to": passed_on,
                },
            ),
        )
