"""The inbound path: the one place that orders the steps of receiving a partner's message.

1. The caller is already authenticated (its assertion verified by the API edge).
2. The detached JWS verifies over the exact body against the caller's pinned keys, and its header
   matches the call: ``iss`` = caller, ``aud`` = this gateway, the expected ``msgtype``, ``cty`` =
   the body's media type.
3. The body parses (hardened) and follows its schema; the document names the caller as reporter.
4. The sharing policy decides (direction ``in``): a framework in force today that covers the
   message type, complete markings. A denial names its rule.
5. In one transaction (shared with the messages arriving at the same moment: group commit):
   idempotency (same id + same digest → the stored receipt; other digest →
   conflict), the assertion's ``jti`` consumed, the audit leaves (received, decided) appended, the
   exact bytes, signature, parsed fields, markings and decision stored with the signed receipt.
   Nothing is written before every check passed.

Any failure raises a GatewayError with ``message_id`` set when it is known; the caller (the API
edge) records the refusal in the audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.documents.certificate_of_origin import CertificateReader
from gateway.documents.hardened import parse_json
from gateway.documents.schemas import COMPONENTS, SENDER_MEMBERS, JsonSchemas
from gateway.documents.seizure_report import SeizureReportReader, media_kind
from gateway.errors import (
    ConflictError,
    GatewayError,
    HeaderMismatchError,
    NotFoundError,
    PolicyDeniedError,
    SignatureMissingError,
)
from gateway.exchange import replay
from gateway.exchange.links import Withdrawals, link_answer
from gateway.exchange.markings import MarkingChanges
from gateway.exchange.outbound import Outbound
from gateway.exchange.receipts import SignedReceipt, make_receipt
from gateway.exchange.received import BatchIngest, HubFeed, Link, Received, RequestCases
from gateway.origin.register import OriginRegister
from gateway.policy.engine import decide
from gateway.policy.model import Context, Decision, PolicySet
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import Message, table_of
from gateway.trust.assertions import VerifiedAssertion
from gateway.trust.jws import MessageHeader, verify_detached
from gateway.trust.keys import Keyring
from gateway.trust.xmldsig import AuthorityCertificate

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IncomingMessage:
    assertion: VerifiedAssertion
    body: bytes
    content_type: str
    signature: str | None


@dataclass(frozen=True)
class Accepted:
    """The outcome of a receipt: ``first_time`` is False for an idempotent resend."""

    message_id: str
    first_time: bool
    receipt: SignedReceipt


class Inbound:
    def __init__(
        self,
        *,
        gateway_id: str,
        registry: Registry,
        policies: PolicySet,
        keyring: Keyring,
        reader: SeizureReportReader,
        json_schemas: JsonSchemas,
        database: Database,
        clock_skew: timedelta,
        outbound: Outbound | None = None,
        certificates: CertificateReader | None = None,
        origin: OriginRegister | None = None,
        review: RequestCases | None = None,
        hub: BatchIngest | None = None,
        feed: HubFeed | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._review = review
        self._hub = hub
        self._feed = feed
        self._certificates = certificates
        self._origin = origin
        self._id = gateway_id
        self._registry = registry
        self._policies = policies
        self._keyring = keyring
        self._reader = reader
        self._schemas = json_schemas
        self._db = database
        self._skew = clock_skew
        self._clock = clock
        self._withdrawals = Withdrawals(outbound=outbound, feed=feed, hub=hub)
        self._marking_changes = MarkingChanges(outbound=outbound, feed=feed)

    def receive_seizure_report(self, incoming: IncomingMessage) -> Accepted:
        """Stored; and passed on to the RILO A/P hub as its policy allows, when this gateway
        feeds the hub."""
        link = self._feed.report_received if self._feed is not None else None
        return self._receive(incoming, "seizure-report", link=link)

    def receive_assistance_request(self, incoming: IncomingMessage) -> Accepted:
        """Every request opens a case in the IIO review queue (when the workflow is wired)."""
        link = self._review.request_received if self._review is not None else None
        return self._receive(incoming, "assistance-request", link=link)

    def receive_assistance_answer(self, incoming: IncomingMessage) -> Accepted:
        """An answer must name a request this gateway sent to the caller."""
        return self._receive(incoming, "assistance-answer", link=link_answer)

    def receive_certificate_of_origin(self, incoming: IncomingMessage) -> Accepted:
        """An issue or amendment; an authority-issued certificate's XML Signature must verify
        against the exporting party's pinned authority certificate."""
        return self._receive(
            incoming, "certificate-of-origin", link=self._origin_register().certificate_received
        )

    def receive_certificate_status(self, incoming: IncomingMessage) -> Accepted:
        return self._receive(
            incoming, "certificate-status", link=self._origin_register().notice_received
        )

    def receive_origin_verification_request(self, incoming: IncomingMessage) -> Accepted:
        return self._receive(
            incoming,
            "origin-verification-request",
            link=self._origin_register().verification_requested,
        )

    def receive_origin_verification_answer(self, incoming: IncomingMessage) -> Accepted:
        return self._receive(
            incoming,
            "origin-verification-answer",
            link=self._origin_register().verification_answered,
        )

    def receive_seizure_report_batch(self, incoming: IncomingMessage) -> Accepted:
        """A RILO A/P member's feed, at the hub: not decided by the sharing policy (the members'
        feeds decide what reaches the hub); the hub checks membership and every report."""
        if self._hub is None:
            raise NotFoundError("this gateway is not the RILO A/P hub")
        return self._receive(
            incoming, "seizure-report-batch", link=self._hub.batch_received, decided=False
        )

    def _origin_register(self) -> OriginRegister:
        if self._origin is None:
            raise NotFoundError("this gateway does not exchange certificates of origin")
        return self._origin

    def _read(
        self, incoming: IncomingMessage, message_type: str
    ) -> tuple[dict[str, Any], AuthorityCertificate | None]:
        """The document in the body, parsed (hardened) and checked against its schema, and the
        authority whose pinned certificate verified its own signature (if it carries one)."""
        if message_type == "seizure-report":
            return self._reader.read(incoming.body, incoming.content_type).to_dict(), None
        if message_type == "certificate-of-origin" and self._certificates is not None:
            read = self._certificates.read(
                incoming.body, incoming.content_type, self._registry.authorities_of
            )
            return read.document, read.signed_by
        document = parse_json(
            incoming.body,
            max_bytes=self._reader.max_bytes,
            max_depth=self._reader.max_json_depth,
        )
        self._schemas.check(COMPONENTS[message_type], document)
        return dict(document), None

    def receive_withdrawal(self, incoming: IncomingMessage) -> Accepted:
        """A sender withdraws (or supersedes) a message it sent (PROTOCOL §7): both are kept, the
        old one is marked withdrawn, and the withdrawal follows it wherever it was passed on."""
        # Not decided by the policy: it retracts what this gateway already holds from the caller.
        return self._receive(incoming, "withdrawal", link=self._withdrawals.apply, decided=False)

    def receive_marking_change(self, incoming: IncomingMessage) -> Accepted:
        """The originator changed the markings of a message the caller sent (PROTOCOL §7): the
        markings in force change, and the change follows the message wherever it went."""
        # Not decided by the policy: it changes what this gateway already holds from the caller.
        return self._receive(
            incoming, "marking-change", link=self._marking_changes.apply, decided=False
        )

    def _receive(
        self,
        incoming: IncomingMessage,
        message_type: str,
        link: Link | None = None,
        decided: bool = True,
    ) -> Accepted:
        """The steps of the module docstring for one message type; ``link`` runs in the storing
        transaction (what receiving it changes elsewhere)."""
        now = self._clock()
        caller = incoming.assertion.caller
        header = self._verify_signature(incoming, message_type, now)
        digest = hashlib.sha256(incoming.body).hexdigest()
        try:
            document, signed_by = self._read(incoming, message_type)
            member = SENDER_MEMBERS.get(message_type)
            if member is not None and document[member] != caller:
                raise HeaderMismatchError(
                    f"the document names {document[member]} as its administration, "
                    f"but the caller is {caller}"
                )
            decision = self._decide(caller, message_type, document, now) if decided else None
            effects = None
            if link is not None:
                received = Received(
                    caller=caller,
                    message_id=header.msgid,
                    message_type=message_type,
                    document=document,
                    body_sha256=digest,
                    now=now,
                    signed_by=signed_by,
                )

                def effects(session: Session) -> None:
                    link(session, received)

            return self._store(incoming, header, digest, document, decision, now, effects)
        except GatewayError as error:
            error.message_id = header.msgid
            raise

    def _decide(
        self, caller: str, message_type: str, document: dict[str, Any], now: datetime
    ) -> Decision:
        """The policy's decision for this inbound message; PolicyDeniedError naming the rule."""
        decision = decide(
            self._policies,
            Context(
                partner=self._registry.get(caller),
                direction="in",
                message_type=message_type,
                on=now.date(),
                document=document,
                gateway_id=self._id,
            ),
        )
        if not decision.allowed:
            denial = next(r for r in decision.rules if r.outcome == "deny")
            raise PolicyDeniedError(denial.reason, rule=denial.rule, decision=decision.to_dict())
        return decision

    def _verify_signature(
        self, incoming: IncomingMessage, message_type: str, now: datetime
    ) -> MessageHeader:
        caller = incoming.assertion.caller
        if not incoming.signature:
            raise SignatureMissingError("the X-JWS-Signature header is required on every message")
        header = verify_detached(
            incoming.signature,
            incoming.body,
            self._registry.keys_of(caller),
            now=now,
            clock_skew=self._skew,
        )
        mismatches = [
            f"{name} is {seen!r}, expected {wanted!r}"
            for name, seen, wanted in (
                ("iss", header.iss, caller),
                ("aud", header.aud, self._id),
                ("msgtype", header.msgtype, message_type),
            )
            if seen != wanted
        ]
        if media_kind(header.cty) != media_kind(incoming.content_type):
            mismatches.append(f"cty is {header.cty!r}, the body is {incoming.content_type!r}")
        if mismatches:
            error = HeaderMismatchError(
                "the signed header does not match the call: " + "; ".join(mismatches)
            )
            error.message_id = header.msgid
            raise error
        return header

    def _store(
        self,
        incoming: IncomingMessage,
        header: MessageHeader,
        digest: str,
        document: dict[str, Any],
        decision: Decision | None,
        now: datetime,
        effects: Callable[[Session], None] | None,
    ) -> Accepted:
        """Store the message with its audit leaves and receipt, in one transaction with
        ``effects`` (what receiving it changes elsewhere); the transaction is shared with the
        messages arriving at the same moment (group commit), and commits before this returns.
        ``digest`` is the body's SHA-256 (hex)."""
        caller = incoming.assertion.caller

        def write(session: Session) -> Accepted:
            return self._write(session, incoming, header, document, decision, now, digest, effects)

        try:
            return self._db.grouped(write)
        except IntegrityError:
            # Another worker committed a moment ago the same message id: answer as a resend.
            with self._db.transaction() as session:
                existing = _stored(session, header.msgid)
                if existing is None:
                    raise
                return self._resent(existing, caller, digest, incoming, session, now)

    def _write(
        self,
        session: Session,
        incoming: IncomingMessage,
        header: MessageHeader,
        document: dict[str, Any],
        decision: Decision | None,
        now: datetime,
        digest: str,
        effects: Callable[[Session], None] | None,
    ) -> Accepted:
        """The storing transaction's part for one message (a job of the group commit): a resend
        answered from what is held, or the jti, audit leaves, ``effects``, receipt and message."""
        caller = incoming.assertion.caller
        markings = document.get("markings") or {}
        existing = _stored(session, header.msgid)
        if existing is not None:
            return self._resent(existing, caller, digest, incoming, session, now)
        replay.consume(session, incoming.assertion, now=now, skew=self._skew)
        events = [
            audit_log.Event(
                tag=f"partner:{header.msgtype}:received",
                occurred_at=now,
                actor=caller,
                partner=caller,
                message_id=header.msgid,
                body_sha256=digest,
                detail={"content_type": incoming.content_type, "kid": header.kid},
            )
        ]
        if decision is not None:
            events.append(
                audit_log.Event(
                    tag=f"policy:{header.msgtype}:decided",
                    occurred_at=now,
                    actor="policy",
                    partner=caller,
                    message_id=header.msgid,
                    body_sha256=digest,
                    detail=decision.to_dict(),
                )
            )
        leaf = audit_log.append_all(session, events)[0]
        if effects is not None:
            effects(session)
        receipt = make_receipt(
            message_id=header.msgid,
            received_at=now,
            body_sha256=digest,
            log_index=leaf.log_index,
            leaf_hash=leaf.leaf_hash,
            key=self._keyring.active,
            issuer=self._id,
            audience=caller,
        )
        session.connection().execute(
            _INSERT_MESSAGE,
            dict(
                message_id=header.msgid,
                direction="in",
                sender=caller,
                recipient=self._id,
                message_type=header.msgtype,
                content_type=incoming.content_type,
                body=incoming.body,
                body_sha256=digest,
                signature=incoming.signature or "",
                signature_kid=header.kid,
                signed_at=header.iat,
                received_at=now,
                document=document,
                receipt=receipt.body,
                receipt_signature=receipt.signature,
                log_index=leaf.log_index,
                decision=decision.to_dict() if decision is not None else None,
                originator=markings.get("originator"),
                handling_code=markings.get("handling_code"),
                tlp=markings.get("tlp"),
            ),
        )
        return Accepted(header.msgid, True, receipt)

    def _resent(
        self,
        existing: _Held,
        caller: str,
        digest: str,
        incoming: IncomingMessage,
        session: Session,
        now: datetime,
    ) -> Accepted:
        if existing.sender != caller or existing.body_sha256 != digest:
            raise ConflictError(
                "this message id was already used for a different message; "
                "a new message needs a new id"
            )
        replay.consume(session, incoming.assertion, now=now, skew=self._skew)
        return Accepted(
            existing.message_id, False, SignedReceipt(existing.receipt, existing.receipt_signature)
        )


_MESSAGES = table_of(Message)
# Built once (they run on every message): building a statement costs more than executing it.
_INSERT_MESSAGE = insert(_MESSAGES)
_STORED = select(
    _MESSAGES.c.message_id,
    _MESSAGES.c.sender,
    _MESSAGES.c.body_sha256,
    _MESSAGES.c.receipt,
    _MESSAGES.c.receipt_signature,
).where(_MESSAGES.c.message_id == bindparam("message_id"))


class _Held(NamedTuple):
    """What a resend is compared with and answered from."""

    message_id: str
    sender: str
    body_sha256: str
    receipt: bytes
    receipt_signature: str


def _stored(session: Session, message_id: str) -> _Held | None:
    """The message held under ``message_id``, if any."""
    row = session.connection().execute(_STORED, {"message_id": message_id}).first()
    return _Held(*row) if row is not None else None
