"""Reading the review workflow's cases: the queue and one case with everything around it (the
request as received, what went out and its receipts, the history, the actions allowed)."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from gateway import duties
from gateway.audit.queries import EventQuery, search_events
from gateway.errors import ForbiddenError, NotFoundError
from gateway.people import Person
from gateway.review import workflow
from gateway.store.db import Database
from gateway.store.models import Message, OutboxMessage, ReviewCase


def case_queue(
    database: Database,
    *,
    today: date,
    state: str | None = None,
    partner: str | None = None,
    assignee: str | None = None,
    overdue: bool = False,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Cases, the earliest due first (those without a due date last), open ones by default."""
    with database.transaction() as session:
        query = select(ReviewCase)
        if state == "all":
            pass
        elif state:
            query = query.where(ReviewCase.state == state)
        else:
            query = query.where(ReviewCase.state.in_(workflow.OPEN_STATES))
        if partner:
            query = query.where(ReviewCase.partner == partner)
        if assignee:
            query = query.where(ReviewCase.assignee == assignee)
        if overdue:
            query = query.where(
                ReviewCase.due_date < today, ReviewCase.state.in_(workflow.OPEN_STATES)
            )
        query = query.order_by(ReviewCase.due_date.is_(None), ReviewCase.due_date, ReviewCase.id)
        return [summary(c, today) for c in session.execute(query.limit(limit)).scalars()]


def case_record(
    database: Database, case_id: int, person: Person, *, now: datetime
) -> dict[str, Any]:
    """A case with its request, its answer or draft in the outbox, its history and the
    actions this person may take."""
    require_case_role(person)
    with database.transaction() as session:
        case = stored_case(session, case_id)
        record = summary(case, now.date())
        record["draft"] = case.draft
        record["reason"], record["note"] = case.reason, case.note
        record["drafted_by"], record["approved_by"] = case.drafted_by, case.approved_by
        ids = [i for i in (case.request_id, case.outbox_id) if i]
        if case.request_id:
            request = session.execute(
                select(Message).where(Message.message_id == case.request_id)
            ).scalar_one()
            record["request"] = {
                "message_id": request.message_id,
                "sender": request.sender,
                "received_at": request.received_at.isoformat(),
                "document": request.document,
                "body": base64.b64encode(request.body).decode() if request.body else None,
                "signature": request.signature,
                "signature_kid": request.signature_kid,
                "markings": {
                    "originator": request.originator,
                    "handling_code": request.handling_code,
                    "tlp": request.tlp,
                },
            }
        related: list[ColumnElement[bool]] = [OutboxMessage.message_id.in_(ids)]
        if case.request_id:  # withdrawals and anything else passed on from the request
            related.append(OutboxMessage.source_message_id == case.request_id)
        outgoing = list(
            session.execute(
                select(OutboxMessage).where(or_(*related)).order_by(OutboxMessage.id)
            ).scalars()
        )
        held = next((row for row in outgoing if row.message_id == case.outbox_id), None)
        record["actions"] = actions(case, held, person)
        record["outgoing"] = [
            {
                "message_id": row.message_id,
                "message_type": row.message_type,
                "state": row.state,
                "created_by": row.created_by,
                "approved_by": row.approved_by,
                "attempts": row.attempts,
                "receipt": json.loads(row.receipt) if row.receipt else None,
                "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
            }
            for row in outgoing
        ]
        ids += [o["message_id"] for o in record["outgoing"]]
    history: list[dict[str, Any]] = []
    for message_id in dict.fromkeys(ids):
        history += search_events(database, EventQuery(message_id=message_id, limit=1000))
    record["history"] = sorted(
        {e["log_index"]: e for e in history}.values(), key=lambda e: e["log_index"]
    )
    if (
        case.kind == "disclosure"
        and record["state"] == "approved"
        and any(o["state"] == "acknowledged" for o in record["outgoing"])
    ):
        record["state"] = "sent"  # approved, and the partner's receipt is stored
    record["outgoing"] = [compact(o) for o in record["outgoing"]]
    return compact(record)


def actions(case: ReviewCase, held: OutboxMessage | None, person: Person) -> list[str]:
    """The actions ``person`` may take on ``case`` now: the workflow's for their roles, less those
    :mod:`gateway.duties` or the case's assignment would refuse (so no page shows a button that
    can only fail)."""
    allowed = workflow.available(case.kind, case.state, person.roles)
    supervisor = "supervisor" in person.roles
    mine = case.assignee == person.username
    if "approve" in allowed and not (
        held is not None
        and duties.may_approve(
            person,
            drafted_by=held.created_by,
            second_officer=bool(held.decision.get("second_officer_required")),
        )
    ):
        allowed.remove("approve")
    if "assign" in allowed and not (supervisor or case.assignee in (None, person.username)):
        allowed.remove("assign")
    if "decide" in allowed and not mine:
        allowed.remove("decide")
    if "start-review" in allowed and not (mine or supervisor):
        allowed.remove("start-review")
    return allowed


def stored_case(session: Session, case_id: int, *, lock: bool = False) -> ReviewCase:
    """The case, locked for update if ``lock``; NotFoundError if there is none."""
    query = select(ReviewCase).where(ReviewCase.id == case_id)
    case: ReviewCase | None = session.execute(
        query.with_for_update() if lock else query
    ).scalar_one_or_none()
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    return case


def require_case_role(person: Person) -> None:
    if not person.roles & workflow.CASE_ROLES:
        raise ForbiddenError("cases are for officers and supervisors")


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """Absent rather than null (the spec's records have no nullable members)."""
    return {k: v for k, v in record.items() if v is not None}


def summary(case: ReviewCase, today: date) -> dict[str, Any]:
    return compact(
        {
            "id": case.id,
            "kind": case.kind,
            "state": case.state,
            "partner": case.partner,
            "message_type": case.message_type,
            "subject": case.subject,
            "purpose": case.purpose,
            "assignee": case.assignee,
            "request_id": case.request_id,
            "outbox_id": case.outbox_id,
            "due_date": case.due_date.isoformat() if case.due_date else None,
            "overdue": bool(
                case.due_date and case.due_date < today and case.state in workflow.OPEN_STATES
            ),
            "created_at": case.created_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
        }
    )
