"""What IIO, the clearance system and an issuing authority's system do with certificates of
origin through this gateway: send a certificate (issue or amendment) or an origin declaration,
report its status, ask for and answer verifications, and look a certificate up at clearance.

Every outgoing change goes through :class:`gateway.exchange.outbound.Outbound` (policy, signature,
outbox, delivery worker) with its register change in the same transaction: a change that the
lifecycle refuses queues nothing, and a message is never queued without its change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.documents.certificate_of_origin import MEDIA_TYPE, CertificateReader
from gateway.errors import HeaderMismatchError, NotFoundError
from gateway.exchange.outbound import Outbound
from gateway.origin.register import OriginRegister, reference
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import Certificate, CertificateVersion, OriginVerification, OutboxMessage

PURPOSE = "origin-verification"
VERIFICATION_STATES = ("open", "overdue", "answered", "all")


class Origin:
    def __init__(
        self,
        *,
        gateway_id: str,
        registry: Registry,
        database: Database,
        outbound: Outbound,
        register: OriginRegister,
        reader: CertificateReader,
    ) -> None:
        self._id = gateway_id
        self._registry = registry
        self._db = database
        self._outbound = outbound
        self._register = register
        self._reader = reader

    # --- exporting side ---------------------------------------------------------------------

    def send_certificate(self, body: bytes, *, actor: str, now: datetime) -> OutboxMessage:
        """Send a certificate (signed by our issuing authority) or an origin declaration, as
        issued or amended, to the importing party it names. Checked exactly as the importing
        party will check it, our own authority's pinned certificate included."""
        read = self._reader.read(body, MEDIA_TYPE, self._registry.authorities_of)
        document = read.document
        if document["exporting_party"] != self._id:
            raise HeaderMismatchError(
                f"the certificate's exporting party is {document['exporting_party']}, "
                f"not {self._id}"
            )

        def record(session: Session, row: OutboxMessage) -> None:
            self._register.record_version(
                session,
                direction="out",
                document=document,
                message_id=row.message_id,
                body_sha256=row.body_sha256,
                signed_by=read.signed_by,
                actor=actor,
                now=now,
            )

        return self._outbound.disclose(
            recipient=document["importing_party"],
            message_type="certificate-of-origin",
            document=document,
            purpose=PURPOSE,
            actor=actor,
            now=now,
            body=body,
            content_type=MEDIA_TYPE,
            effects=record,
        )

    # --- either side ------------------------------------------------------------------------

    def notify(
        self,
        ref: dict[str, str],
        status: str,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        declaration_number: str | None = None,
    ) -> OutboxMessage:
        """Report a status change to the other party: ``cancelled`` or ``revoked`` when we
        issued it, ``used``, ``preference-granted`` or ``preference-refused`` when we import."""
        certificate = self._certificate(ref)
        document: dict[str, Any] = {
            "administration": self._id,
            "certificate": reference(certificate),
            "agreement": certificate.agreement,
            "status": status,
        }
        if declaration_number is not None:
            document["declaration_number"] = declaration_number
        if reason is not None:
            document["reason"] = reason

        def record(session: Session, row: OutboxMessage) -> None:
            self._register.record_notice(
                session,
                direction="out",
                document=document,
                message_id=row.message_id,
                actor=actor,
                now=now,
            )

        return self._outbound.disclose(
            recipient=_other_party(certificate),
            message_type="certificate-status",
            document=document,
            purpose=PURPOSE,
            actor=actor,
            now=now,
            effects=record,
        )

    # --- verification -----------------------------------------------------------------------

    def request_verification(
        self,
        ref: dict[str, str],
        *,
        reason: str,
        questions: Sequence[str],
        actor: str,
        now: datetime,
        items: Sequence[int] | None = None,
    ) -> OutboxMessage:
        """Ask the exporting party to verify a certificate we received; it is due by the
        agreement's deadline in the policy."""
        certificate = self._certificate(ref)
        days = self._register.verification_days(certificate.exporting_party, certificate.agreement)
        document: dict[str, Any] = {
            "requesting_administration": self._id,
            "certificate": reference(certificate),
            "agreement": certificate.agreement,
            "reason": reason,
            "questions": list(questions),
            "reply_by": (now.date() + timedelta(days=days)).isoformat(),
        }
        if items:
            document["items"] = list(items)

        def record(session: Session, row: OutboxMessage) -> None:
            self._register.open_verification(
                session,
                direction="out",
                partner=certificate.exporting_party,
                document=document,
                message_id=row.message_id,
                actor=actor,
                now=now,
            )

        return self._outbound.disclose(
            recipient=certificate.exporting_party,
            message_type="origin-verification-request",
            document=document,
            purpose=PURPOSE,
            actor=actor,
            now=now,
            effects=record,
        )

    def answer_verification(
        self,
        request_id: str,
        *,
        result: str,
        findings: Sequence[dict[str, Any]],
        actor: str,
        now: datetime,
    ) -> OutboxMessage:
        """Answer a partner's verification request about a certificate we issued."""
        with self._db.transaction() as session:
            verification = session.execute(
                select(OriginVerification).where(
                    OriginVerification.request_id == request_id,
                    OriginVerification.direction == "in",
                )
            ).scalar_one_or_none()
            if verification is None:
                raise NotFoundError(f"no verification request {request_id} was received")
            certificate = session.get(Certificate, verification.certificate_id)
            assert certificate is not None  # a foreign key
            partner, agreement = verification.partner, certificate.agreement
        document = {
            "answering_administration": self._id,
            "in_reply_to": request_id,
            "agreement": agreement,
            "result": result,
            "findings": list(findings),
        }

        def record(session: Session, row: OutboxMessage) -> None:
            self._register.close_verification(
                session,
                direction="out",
                partner=partner,
                document=document,
                message_id=row.message_id,
                actor=actor,
                now=now,
            )

        return self._outbound.disclose(
            recipient=partner,
            message_type="origin-verification-answer",
            document=document,
            purpose=PURPOSE,
            actor=actor,
            now=now,
            effects=record,
        )

    # --- reading ----------------------------------------------------------------------------

    def lookup(
        self,
        number: str,
        issue_date: date,
        *,
        actor: str,
        now: datetime,
        exporting_party: str | None = None,
    ) -> dict[str, Any]:
        """A declared certificate as an officer checks it at clearance (the read is audited):
        found or not, valid or not and why, its current version with items, the authority
        signature it carried, its use and any verification."""
        with self._db.transaction() as session:
            query = select(Certificate).where(
                Certificate.number == number, Certificate.issue_date == issue_date
            )
            if exporting_party:
                query = query.where(Certificate.exporting_party == exporting_party)
            found = session.execute(query.order_by(Certificate.id)).scalars().first()
            audit_log.append(
                session,
                audit_log.Event(
                    tag="officer:certificate-of-origin:looked-up",
                    occurred_at=now,
                    actor=actor,
                    partner=found.exporting_party if found else exporting_party,
                    detail={
                        "number": number,
                        "issue_date": issue_date.isoformat(),
                        "found": found is not None,
                    },
                ),
            )
            if found is None:
                return {"found": False}
            return _lookup_record(session, found, now.date())

    def verifications(self, state: str, *, today: date) -> list[dict[str, Any]]:
        """Verification requests both ways, the earliest due first: ``open``, ``overdue`` (open
        past their due date: what IIO must chase or answer), ``answered`` or ``all``."""
        with self._db.transaction() as session:
            query = select(OriginVerification, Certificate).join(
                Certificate, Certificate.id == OriginVerification.certificate_id
            )
            if state in ("open", "overdue"):
                query = query.where(OriginVerification.state == "open")
            if state == "overdue":
                query = query.where(OriginVerification.due_date < today)
            if state == "answered":
                query = query.where(OriginVerification.state == "answered")
            rows = session.execute(
                query.order_by(OriginVerification.due_date, OriginVerification.id)
            ).all()
            return [_verification_record(v, c, today) for v, c in rows]

    def _certificate(self, ref: dict[str, str]) -> Certificate:
        with self._db.transaction() as session:
            certificate = self._register.find(session, ref)
            if certificate is None:
                raise NotFoundError(
                    f"no certificate {ref['certificate_number']} of {ref['issue_date']} from "
                    f"{ref['exporting_party']} is held here"
                )
            session.expunge(certificate)
            return certificate


def _other_party(certificate: Certificate) -> str:
    return (
        certificate.importing_party
        if certificate.direction == "out"
        else certificate.exporting_party
    )


def _verification_record(
    verification: OriginVerification, certificate: Certificate, today: date
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "request_id": verification.request_id,
        "direction": verification.direction,
        "partner": verification.partner,
        "certificate": reference(certificate),
        "reason": verification.reason,
        "requested_at": verification.requested_at.isoformat(),
        "due_date": verification.due_date.isoformat(),
        "state": verification.state,
        "overdue": verification.state == "open" and verification.due_date < today,
    }
    if verification.state == "answered":
        record["result"] = verification.result
        record["answer_id"] = verification.answer_id
        record["answered_at"] = (
            verification.answered_at.isoformat() if verification.answered_at else None
        )
    return record


def _lookup_record(session: Session, certificate: Certificate, today: date) -> dict[str, Any]:
    versions = (
        session.execute(
            select(CertificateVersion)
            .where(CertificateVersion.certificate_id == certificate.id)
            .order_by(CertificateVersion.version)
        )
        .scalars()
        .all()
    )
    verifications = [
        _verification_record(v, certificate, today)
        for v in session.execute(
            select(OriginVerification)
            .where(OriginVerification.certificate_id == certificate.id)
            .order_by(OriginVerification.id)
        ).scalars()
    ]
    reasons = []
    why = f": {certificate.status_reason}" if certificate.status_reason else ""
    if certificate.status in ("cancelled", "revoked"):
        reasons.append(f"{certificate.status} by the exporting party{why}")
    if certificate.usage == "preference-refused":
        reasons.append(f"preference refused{why}")
    reasons += [
        f"verification {v['request_id']} found it {v['result']}"
        for v in verifications
        if v.get("result") == "not-confirmed"
    ]
    record: dict[str, Any] = {
        "found": True,
        "valid": not reasons,
        "reasons": reasons,
        "direction": certificate.direction,
        "kind": certificate.kind,
        "status": certificate.status,
        "version": certificate.version,
        "versions": [
            {
                "version": v.version,
                "message_id": v.message_id,
                "recorded_at": v.recorded_at.isoformat(),
                **({"signed_by": v.signed_by} if v.signed_by else {}),
            }
            for v in versions
        ],
        "certificate": versions[-1].document,
        "verifications": verifications,
    }
    for name in ("usage", "declaration_number", "status_reason"):
        if getattr(certificate, name) is not None:
            record[name] = getattr(certificate, name)
    if certificate.direction == "out" and certificate.usage is None:
        # The importing party's signed receipt of the latest version is its "received".
        delivered = session.execute(
            select(OutboxMessage.state).where(OutboxMessage.message_id == versions[-1].message_id)
        ).scalar_one_or_none()
        if delivered == "acknowledged":
            record["usage"] = "received"
    return record
