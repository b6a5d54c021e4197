"""Events about the gateway itself: the policy set in force, keys pinned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from gateway.audit import log as audit_log
from gateway.store.db import Database
from gateway.store.models import AuditEvent

POLICY_TAGS = ("system:policy:loaded", "system:policy:changed")


def note_policy_in_force(database: Database, digest: str, *, now: datetime) -> str | None:
    """Record the policy digest at start: ``loaded`` the first time, ``changed`` when it differs
    from the last one recorded. Returns the tag appended, or None if nothing changed."""
    with database.transaction() as session:
        last = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.tag.in_(POLICY_TAGS))
                .order_by(AuditEvent.log_index.desc())
            )
            .scalars()
            .first()
        )
        previous = (last.detail or {}).get("policy_digest") if last else None
        if previous == digest:
            return None
        tag = POLICY_TAGS[0] if previous is None else POLICY_TAGS[1]
        detail: dict[str, Any] = {"policy_digest": digest}
        if previous is not None:
            detail["previous_policy_digest"] = previous
        audit_log.append(
            session, audit_log.Event(tag=tag, occurred_at=now, actor="system", detail=detail)
        )
        return tag


def note_key_pinned(
    database: Database,
    *,
    partner: str,
    kid: str,
    not_after: datetime | None,
    actor: str,
    now: datetime,
) -> None:
    with database.transaction() as session:
        audit_log.append(
            session,
            audit_log.Event(
                tag="operator:key:pinned",
                occurred_at=now,
                actor=actor,
                partner=partner,
                detail={"kid": kid, "not_after": not_after.isoformat() if not_after else None},
            ),
        )
