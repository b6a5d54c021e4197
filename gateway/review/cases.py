"""The IIO review workflow over stored cases: requests for assistance received from partners,
and disclosures IIO officers draft.

Every action checks :mod:`gateway.review.workflow` first, then changes the case and whatever the
action moves in the outbox (an answer composed and held, released by its approval, withdrawn when
sent back) in one transaction, with an audit event ``officer:case:<action>`` naming the officer.
Who may take which step is :mod:`gateway.duties`; the four-eyes check runs in
:meth:`Outbound.approve` and so holds whatever the interface.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import DocumentError, ForbiddenError, StateConflictError
from gateway.exchange.outbound import Outbound
from gateway.exchange.received import Received
from gateway.people import Person
from gateway.policy import highlight
from gateway.policy.engine import decide
from gateway.policy.model import Context, Decision, PolicySet
from gateway.registry import Registry
from gateway.review import records, workflow
from gateway.store.db import Database
from gateway.store.models import OutboxMessage, ReviewCase

#: When no framework in force names an answer deadline.
DEFAULT_DEADLINE_DAYS = 60
#: Markings an answer carries unless the officer chooses others.
DEFAULT_MARKINGS = {"handling_code": "H1", "tlp": "TLP:AMBER"}


@dataclass(frozen=True)
class Preview:
    """What the partner would receive, beside what the officer wrote, and why they differ."""

    original: Mapping[str, Any]
    outgoing: Mapping[str, Any]
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        redacting = [r for r in self.decision.rules if r.outcome == "redact"]
        return {
            "allowed": self.decision.allowed,
            "original": dict(self.original),
            "outgoing": dict(self.outgoing),
            "rules": [vars(r) for r in self.decision.rules],
            "redactions": [
                {"path": path, "because": "; ".join(r.reason for r in redacting)}
                for path in self.decision.redactions
            ],
            "highlights": [h.to_dict() for h in highlight.of_decision(self.decision)],
            "markings": dict(self.decision.markings),
            "review_required": self.decision.review_required,
            "second_officer_required": self.decision.second_officer_required,
        }


class Cases:
    def __init__(
        self,
        *,
        gateway_id: str,
        registry: Registry,
        policies: PolicySet,
        database: Database,
        outbound: Outbound,
    ) -> None:
        self._id = gateway_id
        self._registry = registry
        self._policies = policies
        self._db = database
        self._outbound = outbound

    # --- opening cases -----------------------------------------------------------------------

    def request_received(self, session: Session, received: Received) -> None:
        """Inbound link: every request for assistance opens a case, due by the framework's
        answer deadline (the shortest of the frameworks in force that cover it)."""
        due = received.now.date() + timedelta(
            days=self.deadline_days(received.caller, received.now)
        )
        document = received.document
        case = ReviewCase(
            kind="request",
            state="received",
            partner=received.caller,
            message_type=received.message_type,
            request_id=received.message_id,
            subject=str(document.get("subject") or document.get("request_id") or "")[:500],
            purpose=document.get("purpose"),
            due_date=due,
            created_at=received.now,
            updated_at=received.now,
        )
        session.add(case)
        session.flush()
        self._log(
            session,
            case,
            "opened",
            "system:review",
            received.now,
            {"due_date": str(due), "to": "received"},
            source="review",
        )

    def deadline_days(self, partner_id: str, now: datetime) -> int:
        partner = self._registry.get(partner_id)
        days = [
            self._policies.framework_policy(partner_id, f.type).answer_deadline_days
            for f in partner.frameworks_in_force(now.date())
        ]
        known = [d for d in days if d]
        return min(known) if known else DEFAULT_DEADLINE_DAYS

    def draft(
        self,
        person: Person,
        *,
        recipient: str,
        message_type: str,
        document: Mapping[str, Any],
        purpose: str,
        now: datetime,
    ) -> dict[str, Any]:
        """An officer drafts a disclosure (or a request to a partner): decided, redacted and
        signed as it will go, held in the outbox until approved."""
        records.require_case_role(person)
        if message_type not in ("seizure-report", "assistance-request"):
            raise DocumentError("a draft is a seizure-report or an assistance-request")
        created: list[int] = []

        def open_case(session: Session, row: OutboxMessage) -> None:
            case = ReviewCase(
                kind="disclosure",
                state="drafted",
                partner=recipient,
                message_type=message_type,
                outbox_id=row.message_id,
                subject=str(document.get("subject") or document.get("report_id") or "")[:500],
                purpose=purpose,
                assignee=person.username,
                drafted_by=person.username,
                draft=dict(document),
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            created.append(case.id)
            self._log(session, case, "drafted", person.actor("officer"), now, {})

        self._outbound.disclose(
            recipient=recipient,
            message_type=message_type,
            document=document,
            purpose=purpose,
            actor=person.actor("officer"),
            now=now,
            hold=True,
            effects=open_case,
        )
        return self.get(created[0], person, now=now)

    # --- acting on cases ----------------------------------------------------------------------

    def act(
        self,
        case_id: int,
        name: str,
        person: Person,
        *,
        now: datetime,
        assignee: str | None = None,
        outcome: str | None = None,
        reason: str | None = None,
        note: str | None = None,
        answers: Sequence[Mapping[str, Any]] = (),
        markings: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Take action ``name`` on a case; the case as it is afterwards."""
        with self._db.transaction() as session:
            case = records.stored_case(session, case_id, lock=True)
            target = workflow.transition(
                case.kind,
                case.state,
                name,
                roles=person.roles,
                outcome=outcome,
                reason=reason,
            )
        if name == "decide":
            self._decide(case_id, person, target, now, reason, note, answers, markings)
        elif name == "approve":
            self._approve(case_id, person, target, now)
        elif name in ("return", "refuse"):
            self._discard(case_id, person, name, target, now, reason, note)
        else:
            with self._db.transaction() as session:
                case = records.stored_case(session, case_id, lock=True)
                self._check_still(case, name, person)
                detail: dict[str, Any] = {}
                if name == "assign":
                    chosen = assignee or person.username
                    if (
                        chosen != person.username or case.assignee not in (None, person.username)
                    ) and ("supervisor" not in person.roles):
                        raise ForbiddenError(
                            "only a supervisor assigns a case to someone else, or takes one "
                            "assigned to someone else"
                        )
                    detail = {"from": case.assignee, "to": chosen}
                    case.assignee = chosen
                    if case.kind == "disclosure":
                        target = case.state
                elif (
                    name == "start-review"
                    and case.assignee != person.username
                    and ("supervisor" not in person.roles)
                ):
                    raise ForbiddenError(f"the case is assigned to {case.assignee}")
                self._move(session, case, name, target, person, now, reason, note, detail)
        return self.get(case_id, person, now=now)

    def approve_held(self, message_id: str, person: Person, *, now: datetime) -> OutboxMessage:
        """Approve a held message by its id: through its case when it has one (so the case
        moves with it, as on the pages), else directly (:meth:`Outbound.approve`)."""
        with self._db.transaction() as session:
            case_id = session.execute(
                select(ReviewCase.id).where(ReviewCase.outbox_id == message_id)
            ).scalar_one_or_none()
        if case_id is None:
            return self._outbound.approve(message_id, approver=person, now=now)
        self.act(case_id, "approve", person, now=now)
        with self._db.transaction() as session:
            row: OutboxMessage = session.execute(
                select(OutboxMessage).where(OutboxMessage.message_id == message_id)
            ).scalar_one()
            session.expunge(row)
            return row

    def _decide(
        self,
        case_id: int,
        person: Person,
        outcome: str,
        now: datetime,
        reason: str | None,
        note: str | None,
        answers: Sequence[Mapping[str, Any]],
        markings: Mapping[str, str] | None,
    ) -> None:
        with self._db.transaction() as session:
            case = records.stored_case(session, case_id)
            if case.assignee != person.username:
                raise ForbiddenError(f"the case is assigned to {case.assignee}; decide it as them")
            document = self._answer(case, outcome, reason, answers, markings)
            partner, purpose = case.partner, case.purpose or "intelligence"

        def record(session: Session, row: OutboxMessage) -> None:
            case = records.stored_case(session, case_id, lock=True)
            self._check_still(case, "decide", person)
            case.outbox_id, case.drafted_by, case.draft = row.message_id, person.username, document
            self._move(session, case, "decide", outcome, person, now, reason, note, {})

        self._outbound.disclose(
            recipient=partner,
            message_type="assistance-answer",
            document=document,
            purpose=purpose,
            actor=person.actor("officer"),
            now=now,
            hold=True,
            effects=record,
        )

    def _approve(self, case_id: int, person: Person, target: str, now: datetime) -> None:
        with self._db.transaction() as session:
            outbox_id = records.stored_case(session, case_id).outbox_id
        if outbox_id is None:
            raise StateConflictError("there is nothing to approve")

        def record(session: Session, row: OutboxMessage) -> None:
            case = records.stored_case(session, case_id, lock=True)
            self._check_still(case, "approve", person)
            case.approved_by = person.username
            self._move(session, case, "approve", target, person, now, None, None, {})

        self._outbound.approve(outbox_id, approver=person, now=now, effects=record)

    def _discard(
        self,
        case_id: int,
        person: Person,
        name: str,
        target: str,
        now: datetime,
        reason: str | None,
        note: str | None,
    ) -> None:
        """Send a held answer back to review, or refuse a draft: the held message never goes."""
        with self._db.transaction() as session:
            outbox_id = records.stored_case(session, case_id).outbox_id
        if outbox_id is None:
            raise StateConflictError("there is nothing held to send back")

        def record(session: Session) -> None:
            case = records.stored_case(session, case_id, lock=True)
            self._check_still(case, name, person)
            if name == "return":
                case.outbox_id = None
            self._move(session, case, name, target, person, now, reason, note, {})

        self._outbound.withdraw(
            outbox_id,
            reason=f"{name} by {person.actor(person.case_role)}: {reason or note or ''}".strip(),
            actor=person.actor("officer"),
            now=now,
            effects=record,
        )

    def _answer(
        self,
        case: ReviewCase,
        outcome: str,
        reason: str | None,
        answers: Sequence[Mapping[str, Any]],
        markings: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        """The assistance answer a decision sends (PROTOCOL's AssistanceAnswer); DocumentError
        for an answer (``answered``, ``partially-answered``) with no answer text, at preview as
        at decision."""
        if outcome in ("answered", "partially-answered") and not any(
            str(a.get("answer", "")).strip() for a in answers
        ):
            raise DocumentError(f"a decision {outcome} needs the answer to at least one question")
        document: dict[str, Any] = {
            "answering_administration": self._id,
            "in_reply_to": case.request_id,
            "outcome": outcome,
        }
        if reason is not None:  # the vocabulary is the schema's: it goes out as chosen
            document["reason"] = reason
        if answers:
            document["answers"] = [dict(a) for a in answers]
        document["markings"] = {"originator": self._id, **DEFAULT_MARKINGS, **dict(markings or {})}
        return document

    def preview(
        self,
        case_id: int,
        person: Person,
        *,
        now: datetime,
        outcome: str | None = None,
        reason: str | None = None,
        answers: Sequence[Mapping[str, Any]] = (),
        markings: Mapping[str, str] | None = None,
    ) -> Preview:
        """The exact document the partner would receive, beside the original, with the policy's
        explanation; of a proposed decision (nothing is written) or of what is held."""
        records.require_case_role(person)
        with self._db.transaction() as session:
            case = records.stored_case(session, case_id)
            if outcome is not None:
                if outcome not in workflow.OUTCOMES:
                    raise StateConflictError(f"a decision is one of {', '.join(workflow.OUTCOMES)}")
                original = self._answer(case, outcome, reason, answers, markings)
                message_type = "assistance-answer"
            elif case.draft is not None and case.outbox_id is not None:
                original, message_type = (
                    case.draft,
                    ("assistance-answer" if case.kind == "request" else case.message_type),
                )
                row = session.execute(
                    select(OutboxMessage).where(OutboxMessage.message_id == case.outbox_id)
                ).scalar_one()
                decision = self._decision(case, message_type, original, now)
                return Preview(original, json.loads(row.body), decision)
            else:
                raise StateConflictError("nothing is composed yet: propose a decision to preview")
        decision = self._decision(case, message_type, original, now)
        return Preview(original, decision.document, decision)

    def _decision(
        self, case: ReviewCase, message_type: str, document: Mapping[str, Any], now: datetime
    ) -> Decision:
        return decide(
            self._policies,
            Context(
                partner=self._registry.get(case.partner),
                direction="out",
                message_type=message_type,
                on=now.date(),
                document=document,
                purpose=case.purpose or "intelligence",
                gateway_id=self._id,
            ),
        )

    # --- reading ------------------------------------------------------------------------------

    def queue(
        self,
        *,
        today: date,
        state: str | None = None,
        partner: str | None = None,
        assignee: str | None = None,
        overdue: bool = False,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """See :func:`gateway.review.records.case_queue`."""
        return records.case_queue(
            self._db,
            today=today,
            state=state,
            partner=partner,
            assignee=assignee,
            overdue=overdue,
            limit=limit,
        )

    def get(self, case_id: int, person: Person, *, now: datetime) -> dict[str, Any]:
        """See :func:`gateway.review.records.case_record`."""
        return records.case_record(self._db, case_id, person, now=now)

    # --- helpers ------------------------------------------------------------------------------

    def _check_still(self, case: ReviewCase, name: str, person: Person) -> None:
        """Under the lock: the action is still legal (another officer may have acted first)."""
        chosen = workflow.action(case.kind, name)
        if case.state not in chosen.sources:
            raise StateConflictError(f"the case is {case.state} now; reload it")

    def _move(
        self,
        session: Session,
        case: ReviewCase,
        name: str,
        target: str,
        person: Person,
        now: datetime,
        reason: str | None,
        note: str | None,
        detail: Mapping[str, Any],
    ) -> None:
        before = case.state
        case.state, case.updated_at = target, now
        if reason is not None:
            case.reason = reason
        if note is not None:
            case.note = note
        self._log(
            session,
            case,
            name,
            person.actor(person.case_role),
            now,
            {"from": before, "to": target, "reason": reason, "note": note, **detail},
        )

    def _log(
        self,
        session: Session,
        case: ReviewCase,
        action: str,
        actor: str,
        now: datetime,
        detail: Mapping[str, Any],
        source: str = "officer",
    ) -> None:
        audit_log.append(
            session,
            audit_log.Event(
                tag=f"{source}:case:{action}",
                occurred_at=now,
                actor=actor,
                partner=case.partner,
                message_id=case.request_id or case.outbox_id,
                detail={"case": case.id, "kind": case.kind, **detail},
            ),
        )
