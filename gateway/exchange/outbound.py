"""The outbound path: a draft becomes a signed message in the outbox, or nothing.

1. The policy decides for this recipient, purpose and date; a denial names its rule.
2. What goes out is the decision's document (only what the release lists allow), never the
   draft; a message with anything withheld names its original's digest and the withheld
   pointers in its signed header (a signed derivation). Withdrawals are decided the same way.
3. It is signed (detached JWS, PROTOCOL §4) and written to the outbox in the same transaction as
   its audit event. If the policy asks for review, it waits in ``awaiting-review`` until an
   account other than the drafter's approves it (a supervisor's where a second officer is
   required: :mod:`gateway.duties`).
4. The delivery worker (:mod:`gateway.exchange.delivery`) takes it from there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import duties
from gateway.audit import log as audit_log
from gateway.documents.schemas import COMPONENTS, JsonSchemas
from gateway.errors import (
    ConflictError,
    DocumentError,
    NotFoundError,
    PolicyDeniedError,
)
from gateway.people import Person
from gateway.policy.engine import decide
from gateway.policy.model import NOTICE_TYPES, Context, Decision, PolicySet
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import Message, OutboxMessage
from gateway.trust.jws import sign_detached
from gateway.trust.keys import Keyring

MEDIA_TYPE = "application/json"


def _encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class Outbound:
    def __init__(
        self,
        *,
        gateway_id: str,
        registry: Registry,
        policies: PolicySet,
        keyring: Keyring,
        database: Database,
        schemas: JsonSchemas | None = None,
    ) -> None:
        self._schemas = schemas
        self._id = gateway_id
        self._registry = registry
        self._policies = policies
        self._keyring = keyring
        self._db = database

    @property
    def gateway_id(self) -> str:
        return self._id

    def disclose(
        self,
        *,
        recipient: str,
        message_type: str,
        document: Mapping[str, Any],
        purpose: str,
        actor: str,
        now: datetime,
        on: date | None = None,
        source_message_id: str | None = None,
        body: bytes | None = None,
        content_type: str = MEDIA_TYPE,
        effects: Callable[[Session, OutboxMessage], None] | None = None,
        hold: bool = False,
    ) -> OutboxMessage:
        """Decide, redact, sign and queue a message; PolicyDeniedError if the policy refuses.

        ``source_message_id`` names the received message this one passes on, so that its
        withdrawal follows it here. ``body`` is given for a document that carries its own
        signature (an e-CO's XML): it goes out byte for byte, ``document`` being its JSON form,
        so the policy may not redact anything from it. ``effects`` run in the transaction that
        queues the message (what sending it changes elsewhere); if they raise, nothing is
        queued. ``hold`` keeps it for review even where the policy does not ask for it (every
        draft of an IIO officer is reviewed). A message passed on is decided on the markings
        in force on its source (its originator may have changed them since it arrived)."""
        partner = self._registry.get(recipient)
        if source_message_id is not None:
            document = self._in_force(source_message_id, message_type, document)
        decision = decide(
            self._policies,
            Context(
                partner=partner,
                direction="out",
                message_type=message_type,
                on=on or now.date(),
                document=document,
                purpose=purpose,
                gateway_id=self._id,
            ),
        )
        _allowed(decision)
        # Never sign what the partner would refuse as invalid. A document given with its own
        # ``body`` was read from that body by the reader the partner runs, which checked it.
        if body is None:
            self._check_released(message_type, document, decision)
        if message_type == "assistance-answer":
            source_message_id = self._answered_request(recipient, document)
        if body is None:
            body = _encode(decision.document)
        elif decision.redactions:
            raise PolicyDeniedError(
                "the policy would redact a signed document, which must go out unchanged",
                rule="personal-data",
                decision=decision.to_dict(),
            )
        with self._db.transaction() as session:
            row = self.queue(
                session,
                recipient=recipient,
                message_type=message_type,
                body=body,
                content_type=content_type,
                decision=decision.to_dict(),
                actor=actor,
                now=now,
                source_message_id=source_message_id,
                hold=decision.review_required or hold,
            )
            if effects is not None:
                effects(session, row)
        return row

    def queue(
        self,
        session: Session,
        *,
        recipient: str,
        message_type: str,
        body: bytes,
        decision: dict[str, Any],
        actor: str,
        now: datetime,
        content_type: str = MEDIA_TYPE,
        source_message_id: str | None = None,
        hold: bool = False,
        detail: Mapping[str, Any] | None = None,
    ) -> OutboxMessage:
        """In the caller's transaction: sign ``body`` (already decided: ``decision`` is the
        record of why it may go; what it withheld goes into the signed header) and queue it,
        with its audit event (``detail`` added to it)."""
        message_id = str(uuid.uuid4())
        withheld = (
            {"original_sha256": decision["original_sha256"], "pointers": decision["redactions"]}
            if decision.get("original_sha256") and decision.get("redactions")
            else None
        )
        signature = sign_detached(
            body,
            self._keyring.active,
            content_type=content_type,
            message_id=message_id,
            issuer=self._id,
            audience=recipient,
            message_type=message_type,
            issued_at=now,
            withheld=withheld,
        )
        row = OutboxMessage(
            message_id=message_id,
            recipient=recipient,
            message_type=message_type,
            content_type=content_type,
            body=body,
            body_sha256=hashlib.sha256(body).hexdigest(),
            signature=signature,
            decision=decision,
            source_message_id=source_message_id,
            state="awaiting-review" if hold else _ready(self._registry.get(recipient).pulls),
            created_by=actor,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        session.add(row)
        session.flush()
        _log(
            session,
            row,
            f"{actor.split(':', 1)[0]}:{message_type}:drafted",
            actor,
            now,
            detail={"state": row.state, "decision": decision, **dict(detail or {})},
        )
        return row

    def decide_release(
        self,
        *,
        recipient: str,
        message_type: str,
        document: Mapping[str, Any],
        now: datetime,
        purpose: str | None = None,
        automatic: bool = False,
        consents: frozenset[str] = frozenset(),
    ) -> Decision:
        """The policy's decision on sending ``document`` to ``recipient`` now (not yet queued);
        PolicyDeniedError if it may not go, DocumentError if what may go is not a valid
        message. Every path out of the gateway asks this, or :meth:`disclose`, first."""
        decision = decide(
            self._policies,
            Context(
                partner=self._registry.get(recipient),
                direction="out",
                message_type=message_type,
                on=now.date(),
                document=document,
                purpose=purpose,
                consents=consents,
                gateway_id=self._id,
                automatic=automatic,
            ),
        )
        _allowed(decision)
        self._check_released(message_type, document, decision)
        return decision

    def _check_released(
        self, message_type: str, document: Mapping[str, Any], decision: Decision
    ) -> None:
        """What the release leaves must still be a message the partner accepts; where the
        original was one and the withholding broke it, that is the policy's refusal."""
        if self._schemas is None or message_type not in COMPONENTS:
            return
        component = COMPONENTS[message_type]
        try:
            self._schemas.check(component, dict(decision.document))
        except DocumentError as error:
            if not decision.redactions:
                raise
            self._schemas.check(component, dict(document))  # the original's own fault first
            raise PolicyDeniedError(
                f"what may go is not a valid {message_type} ({error.detail}): withheld "
                + ", ".join(decision.redactions),
                rule="release-incomplete",
                decision=decision.to_dict(),
            ) from error

    def _in_force(
        self, source_message_id: str, message_type: str, document: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """``document`` with the markings in force on the received message it passes on."""
        with self._db.transaction() as session:
            source = session.execute(
                select(Message).where(Message.message_id == source_message_id)
            ).scalar_one_or_none()
            if source is None or source.message_type != message_type:
                return document
            return {**document, "markings": source.in_force().get("markings")}

    def _answered_request(self, recipient: str, document: Mapping[str, Any]) -> str:
        """The id of the request from ``recipient`` that this answer answers (NotFoundError)."""
        with self._db.transaction() as session:
            found = session.execute(
                select(Message.message_id).where(
                    Message.message_id == document.get("in_reply_to"),
                    Message.sender == recipient,
                    Message.message_type == "assistance-request",
                )
            ).scalar_one_or_none()
        if found is None:
            raise NotFoundError(
                f"no request {document.get('in_reply_to')} was received from {recipient}"
            )
        return str(found)

    def withdraw(
        self,
        message_id: str,
        *,
        reason: str,
        actor: str,
        now: datetime,
        superseded_by: str | None = None,
        effects: Callable[[Session], None] | None = None,
    ) -> OutboxMessage | None:
        """Withdraw a message this gateway sent: cancelled if not yet delivered (None returned),
        else a signed withdrawal queued for the same recipient (returned). ``effects`` run in
        the same transaction."""
        with self._db.transaction() as session:
            withdrawal = self._withdraw(
                session, _outbox_row(session, message_id), reason, actor, now, superseded_by
            )
            if effects is not None:
                effects(session)
            return withdrawal

    def withdraw_onward(
        self, session: Session, source_message_id: str, *, reason: str | None, now: datetime
    ) -> int:
        """In the caller's transaction: withdraw everything that passed on ``source_message_id``.
        The originator's ``reason`` is kept in the audit log; as free text in a message no officer
        composed, the policy withholds it from the recipients."""
        rows = (
            session.execute(
                select(OutboxMessage)
                .where(
                    OutboxMessage.source_message_id == source_message_id,
                    OutboxMessage.message_type.not_in(NOTICE_TYPES),
                )
                .with_for_update()
            )
            .scalars()
            .all()
        )
        why = f"withdrawn by its originator: {reason}" if reason else "withdrawn by its originator"
        for row in rows:
            self._withdraw(session, row, why, "system:withdrawal", now)
        return len(rows)

    def _withdraw(
        self,
        session: Session,
        row: OutboxMessage,
        reason: str,
        actor: str,
        now: datetime,
        superseded_by: str | None = None,
    ) -> OutboxMessage | None:
        if row.state == "withdrawn":
            return None
        if row.state == "sending":
            raise ConflictError(
                f"message {row.message_id} is being delivered; withdraw it once it is"
            )
        if row.state != "acknowledged":  # never reached the partner: it simply does not go
            self.stop(session, row, actor=actor, now=now, reason=reason)
            return None
        document: dict[str, Any] = {"withdraws": row.message_id, "reason": reason}
        if superseded_by:
            document["superseded_by"] = superseded_by
        return self.notify(
            session,
            row,
            "withdrawal",
            document,
            actor=actor,
            now=now,
            detail={"withdraws": row.message_id, "reason": reason, "superseded_by": superseded_by},
        )

    def stop(
        self, session: Session, row: OutboxMessage, *, actor: str, now: datetime, reason: str
    ) -> None:
        """In the caller's transaction: a message not yet delivered does not go (``withdrawn``
        before delivery), audited with ``reason``."""
        row.state = "withdrawn"
        _log(
            session,
            row,
            f"{actor.split(':', 1)[0]}:{row.message_type}:withdrawn",
            actor,
            now,
            detail={"reason": reason, "before_delivery": True},
        )

    def notify(
        self,
        session: Session,
        row: OutboxMessage,
        message_type: str,
        document: Mapping[str, Any],
        *,
        actor: str,
        now: datetime,
        detail: Mapping[str, Any],
    ) -> OutboxMessage:
        """In the caller's transaction: a notice about ``row`` (a withdrawal, a marking change)
        to its recipient, decided like every message: composed by the system it carries no free
        text; composed by an officer, its free text goes only where the basis allows, past a
        second officer (held for review)."""
        decision = self.decide_release(
            recipient=row.recipient,
            message_type=message_type,
            document=document,
            now=now,
            purpose=(row.decision.get("context") or {}).get("purpose"),
            automatic=actor.startswith("system:"),
        )
        return self.queue(
            session,
            recipient=row.recipient,
            message_type=message_type,
            body=_encode(decision.document),
            decision=decision.to_dict(),
            actor=actor,
            now=now,
            source_message_id=row.source_message_id,
            hold=decision.review_required,
            detail=detail,
        )

    def approve(
        self,
        message_id: str,
        *,
        approver: Person,
        now: datetime,
        effects: Callable[[Session, OutboxMessage], None] | None = None,
    ) -> OutboxMessage:
        """Release a message awaiting review, by an account other than its drafter's (a
        supervisor's where the decision requires a second officer: :func:`duties.check_approve`).
        ``effects`` run in the same transaction."""
        with self._db.transaction() as session:
            row = _outbox_row(session, message_id)
            if row.state != "awaiting-review":
                raise ConflictError(f"message {message_id} is {row.state}, not awaiting review")
            duties.check_approve(
                approver,
                drafted_by=row.created_by,
                second_officer=bool(row.decision.get("second_officer_required")),
            )
            actor = approver.actor(approver.case_role)
            pulls = self._registry.get(row.recipient).pulls
            row.state, row.approved_by, row.next_attempt_at = _ready(pulls), actor, now
            _log(
                session,
                row,
                f"officer:{row.message_type}:approved",
                actor,
                now,
                detail={"role": approver.case_role, "drafted_by": row.created_by},
            )
            if effects is not None:
                effects(session, row)
            return row

    def dead_letters(self, limit: int = 200) -> list[dict[str, Any]]:
        """Messages the delivery worker gave up on, the newest first, with why."""
        with self._db.transaction() as session:
            rows = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.state == "failed")
                .order_by(OutboxMessage.id.desc())
                .limit(limit)
            ).scalars()
            return [
                {
                    "message_id": row.message_id,
                    "recipient": row.recipient,
                    "message_type": row.message_type,
                    "attempts": row.attempts,
                    "created_at": row.created_at.isoformat(),
                    **({"last_error": row.last_error} if row.last_error else {}),
                    **({"problem": row.problem} if row.problem else {}),
                }
                for row in rows
            ]

    def retry(self, message_id: str, *, person: Person, now: datetime) -> OutboxMessage:
        """Send a dead letter again, by hand (an officer or supervisor: :mod:`gateway.duties`)."""
        duties.check(person, "retry")
        actor = person.actor(person.case_role)
        with self._db.transaction() as session:
            row = _outbox_row(session, message_id)
            if row.state != "failed":
                raise ConflictError(f"message {message_id} is {row.state}, not a dead letter")
            row.state = _ready(self._registry.get(row.recipient).pulls)
            row.attempts, row.next_attempt_at = 0, now
            row.last_error, row.problem = None, None
            _log(
                session,
                row,
                f"officer:{row.message_type}:retried",
                actor,
                now,
            )
            return row


def _log(
    session: Session,
    row: OutboxMessage,
    tag: str,
    actor: str,
    now: datetime,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append the event of an outbox message (its recipient, id and digest) to the audit log."""
    audit_log.append(
        session,
        audit_log.Event(
            tag=tag,
            occurred_at=now,
            actor=actor,
            partner=row.recipient,
            message_id=row.message_id,
            body_sha256=row.body_sha256,
            detail=detail or {},
        ),
    )


def _allowed(decision: Decision) -> None:
    """PolicyDeniedError naming the denying rule, unless ``decision`` allows."""
    if not decision.allowed:
        denial = next(r for r in decision.rules if r.outcome == "deny")
        raise PolicyDeniedError(denial.reason, rule=denial.rule, decision=decision.to_dict())


def _ready(pulls: bool) -> str:
    """Ready to go: pushed by the worker (``queued``) or fetched by the partner (``available``)."""
    return "available" if pulls else "queued"


def _outbox_row(session: Any, message_id: str) -> OutboxMessage:
    row = session.execute(
        select(OutboxMessage).where(OutboxMessage.message_id == message_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no outgoing message {message_id}")
    return row  # type: ignore[no-any-return]
