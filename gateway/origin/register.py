"""The register of certificates of origin, in the caller's transaction: the same steps whether
a change arrives from the other party (``direction`` in) or goes out from us (out).

Every change is checked against :mod:`gateway.origin.lifecycle` before anything is written and
is appended to the audit log as ``origin:<subject>:<change>``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import HeaderMismatchError, NotFoundError, StateConflictError
from gateway.exchange.received import Received
from gateway.origin import lifecycle
from gateway.policy.model import PolicySet
from gateway.registry import Registry
from gateway.store.models import Certificate, CertificateVersion, OriginVerification
from gateway.trust.xmldsig import AuthorityCertificate

#: When an agreement's policy names no verification deadline.
DEFAULT_VERIFICATION_DAYS = 90


def reference(certificate: Certificate) -> dict[str, str]:
    return {
        "exporting_party": certificate.exporting_party,
        "certificate_number": certificate.number,
        "issue_date": certificate.issue_date.isoformat(),
    }


def signer_record(signed_by: AuthorityCertificate | None) -> dict[str, str] | None:
    if signed_by is None:
        return None
    return {"authority": signed_by.authority, "certificate_sha256": signed_by.sha256}


class OriginRegister:
    def __init__(self, *, gateway_id: str, registry: Registry, policies: PolicySet) -> None:
        self._id = gateway_id
        self._registry = registry
        self._policies = policies

    # --- certificates -----------------------------------------------------------------------

    def find(
        self, session: Session, ref: dict[str, Any], *, lock: bool = False
    ) -> Certificate | None:
        query = select(Certificate).where(
            Certificate.exporting_party == ref["exporting_party"],
            Certificate.number == ref["certificate_number"],
            Certificate.issue_date == date.fromisoformat(ref["issue_date"]),
        )
        found: Certificate | None = session.execute(
            query.with_for_update() if lock else query
        ).scalar_one_or_none()
        return found

    def record_version(
        self,
        session: Session,
        *,
        direction: str,
        document: dict[str, Any],
        message_id: str,
        body_sha256: str,
        signed_by: AuthorityCertificate | None,
        actor: str,
        now: datetime,
    ) -> Certificate:
        """A certificate's first version (issue) or a later one (amendment)."""
        ours = "exporting_party" if direction == "out" else "importing_party"
        if document[ours] != self._id:
            raise HeaderMismatchError(f"the certificate names {document[ours]} as {ours}, not us")
        ref = {
            "exporting_party": document["exporting_party"],
            "certificate_number": document["certificate_number"],
            "issue_date": document["issue_date"],
        }
        certificate = self.find(session, ref, lock=True)
        if certificate is None:
            state = lifecycle.issued(document["version"])
            if direction == "in":
                state = lifecycle.received(state)
            certificate = Certificate(
                direction=direction,
                exporting_party=document["exporting_party"],
                importing_party=document["importing_party"],
                number=document["certificate_number"],
                issue_date=date.fromisoformat(document["issue_date"]),
                kind=document["kind"],
                agreement=document["agreement"],
                version=state.version,
                status=state.status,
                usage=state.usage,
                updated_at=now,
            )
            session.add(certificate)
            session.flush()
            change = "issued"
        else:
            for member, held in (
                ("importing_party", certificate.importing_party),
                ("kind", certificate.kind),
                ("agreement", certificate.agreement),
            ):
                if document[member] != held:
                    raise StateConflictError(
                        f"an amendment keeps the {member} of the certificate ({held})"
                    )
            state = lifecycle.amend(_state(certificate), document["version"])
            certificate.version, certificate.status = state.version, state.status
            certificate.updated_at = now
            change = "amended"
        session.add(
            CertificateVersion(
                certificate_id=certificate.id,
                version=document["version"],
                message_id=message_id,
                body_sha256=body_sha256,
                document=document,
                signed_by=signer_record(signed_by),
                recorded_at=now,
            )
        )
        self._log(
            session,
            certificate,
            f"origin:certificate:{change}",
            actor,
            now,
            message_id=message_id,
            body_sha256=body_sha256,
            detail={
                "version": document["version"],
                "items": len(document["items"]),
                "signed_by": signer_record(signed_by),
                "reason": (document.get("amendment") or {}).get("reason"),
            },
        )
        return certificate

    def record_notice(
        self,
        session: Session,
        *,
        direction: str,
        document: dict[str, Any],
        message_id: str,
        actor: str,
        now: datetime,
    ) -> Certificate:
        """A status notice: cancelled or revoked (exporting party), used or preference granted
        or refused (importing party). A notice received names a certificate of its sender's
        (NotFoundError for another's, as for one not held)."""
        sender = document["administration"]
        certificate = self._held(
            session,
            document["certificate"],
            document["agreement"],
            party=sender if direction == "in" else None,
        )
        if direction == "out" and sender != self._id:
            raise HeaderMismatchError("a notice we send names us as its administration")
        lifecycle.check_sender(
            document["status"], sender, certificate.exporting_party, certificate.importing_party
        )
        state = lifecycle.apply_notice(_state(certificate), document["status"])
        certificate.status, certificate.usage = state.status, state.usage
        certificate.status_reason = document.get("reason")
        if document["status"] == "used":
            certificate.declaration_number = document["declaration_number"]
        certificate.updated_at = now
        self._log(
            session,
            certificate,
            f"origin:certificate:{document['status']}",
            actor,
            now,
            message_id=message_id,
            detail={
                "reason": document.get("reason"),
                "declaration_number": document.get("declaration_number"),
                "direction": direction,
            },
        )
        return certificate

    # --- verification -----------------------------------------------------------------------

    def verification_days(self, partner_id: str, agreement: str) -> int:
        """The agreement's deadline for answering a verification request (the policy's rule)."""
        partner = self._registry.get(partner_id)
        for framework in partner.frameworks:
            if framework.agreement == agreement:
                days = self._policies.framework_policy(
                    partner_id, framework.type
                ).origin_verification_days
                return days or DEFAULT_VERIFICATION_DAYS
        return DEFAULT_VERIFICATION_DAYS

    def open_verification(
        self,
        session: Session,
        *,
        direction: str,
        partner: str,
        document: dict[str, Any],
        message_id: str,
        actor: str,
        now: datetime,
    ) -> OriginVerification:
        """A request about a certificate the asked party issued: we ask (out) about one we
        received, or a partner asks (in) about one we sent (NotFoundError for another partner's
        certificate, as for one not held)."""
        certificate = self._held(
            session,
            document["certificate"],
            document["agreement"],
            party=partner if direction == "in" else None,
        )
        # we ask the exporting party about one we received; a partner asks us about one we sent
        held, asked = (
            ("in", certificate.exporting_party)
            if direction == "out"
            else ("out", certificate.importing_party)
        )
        if certificate.direction != held or partner != asked:
            raise NotFoundError(
                f"no certificate {document['certificate']['certificate_number']} was "
                f"{'received from' if direction == 'out' else 'sent to'} {partner}"
            )
        due = now.date() + timedelta(days=self.verification_days(partner, certificate.agreement))
        verification = OriginVerification(
            request_id=message_id,
            certificate_id=certificate.id,
            direction=direction,
            partner=partner,
            reason=document["reason"],
            questions=document["questions"],
            items=document.get("items"),
            requested_at=now,
            due_date=due,
            state="open",
        )
        session.add(verification)
        self._log(
            session,
            certificate,
            "origin:verification:requested",
            actor,
            now,
            message_id=message_id,
            detail={"reason": document["reason"], "due_date": due.isoformat()},
        )
        return verification

    def close_verification(
        self,
        session: Session,
        *,
        direction: str,
        partner: str,
        document: dict[str, Any],
        message_id: str,
        actor: str,
        now: datetime,
    ) -> OriginVerification:
        """The answer to an open request: we answer (out) one a partner sent us, or a partner
        answers (in) one we sent."""
        asked = "in" if direction == "out" else "out"
        verification: OriginVerification | None = session.execute(
            select(OriginVerification)
            .where(
                OriginVerification.request_id == document["in_reply_to"],
                OriginVerification.partner == partner,
                OriginVerification.direction == asked,
            )
            .with_for_update()
        ).scalar_one_or_none()
        if verification is None:
            raise NotFoundError(f"no verification request {document['in_reply_to']} with {partner}")
        if verification.state != "open":
            raise StateConflictError(f"request {verification.request_id} was already answered")
        certificate = session.get(Certificate, verification.certificate_id)
        assert certificate is not None  # a foreign key
        if document["agreement"] != certificate.agreement:
            raise StateConflictError(f"the certificate was issued under {certificate.agreement}")
        verification.state, verification.result = "answered", document["result"]
        verification.findings, verification.answer_id = document["findings"], message_id
        verification.answered_at = now
        self._log(
            session,
            certificate,
            "origin:verification:answered",
            actor,
            now,
            message_id=message_id,
            detail={
                "request": verification.request_id,
                "result": document["result"],
                "overdue": now.date() > verification.due_date,
            },
        )
        return verification

    # --- helpers ----------------------------------------------------------------------------

    def _held(
        self, session: Session, ref: dict[str, Any], agreement: str, *, party: str | None = None
    ) -> Certificate:
        """The certificate ``ref`` names, issued under ``agreement``. Given ``party`` (a partner
        naming it), only a certificate that partner exported or imported: another partner's is
        not found, in the words of one not held, before anything of it (its agreement, its
        parties) shapes the answer."""
        certificate = self.find(session, ref, lock=True)
        if certificate is None or (
            party is not None
            and party not in (certificate.exporting_party, certificate.importing_party)
        ):
            raise NotFoundError(
                f"no certificate {ref['certificate_number']} of {ref['issue_date']} "
                f"from {ref['exporting_party']} is held here"
            )
        if agreement != certificate.agreement:
            raise StateConflictError(f"the certificate was issued under {certificate.agreement}")
        return certificate

    def _log(
        self,
        session: Session,
        certificate: Certificate,
        tag: str,
        actor: str,
        now: datetime,
        *,
        message_id: str | None = None,
        body_sha256: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        other = (
            certificate.importing_party
            if certificate.direction == "out"
            else certificate.exporting_party
        )
        audit_log.append(
            session,
            audit_log.Event(
                tag=tag,
                occurred_at=now,
                actor=actor,
                partner=other,
                message_id=message_id,
                body_sha256=body_sha256,
                detail={"certificate": reference(certificate), **(detail or {})},
            ),
        )

    # --- inbound links (gateway.exchange.received.Link) -------------------------------------

    def certificate_received(self, session: Session, received: Received) -> None:
        self.record_version(
            session,
            direction="in",
            document=received.document,
            message_id=received.message_id,
            body_sha256=received.body_sha256,
            signed_by=received.signed_by,
            actor=received.caller,
            now=received.now,
        )

    def notice_received(self, session: Session, received: Received) -> None:
        self.record_notice(
            session,
            direction="in",
            document=received.document,
            message_id=received.message_id,
            actor=received.caller,
            now=received.now,
        )

    def verification_requested(self, session: Session, received: Received) -> None:
        self.open_verification(
            session,
            direction="in",
            partner=received.caller,
            document=received.document,
            message_id=received.message_id,
            actor=received.caller,
            now=received.now,
        )

    def verification_answered(self, session: Session, received: Received) -> None:
        self.close_verification(
            session,
            direction="in",
            partner=received.caller,
            document=received.document,
            message_id=received.message_id,
            actor=received.caller,
            now=received.now,
        )


def _state(certificate: Certificate) -> lifecycle.State:
    return lifecycle.State(certificate.status, certificate.usage, certificate.version)
