"""Retention: when a message's retention period (from its policy decision) ends, its body is
deleted; its leaf, signature, digest and receipt stay, so the log still verifies. Each deletion is
an audit event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.audit import log as audit_log
from gateway.store.db import Database
from gateway.store.models import Message


def apply_retention(
    database: Database, *, now: datetime, actor: str = "system:retention"
) -> list[str]:
    """Delete the bodies whose retention period has ended; returns their message ids."""
    deleted: list[str] = []
    with database.transaction() as session:
        candidates = session.execute(
            select(Message).where(Message.body_deleted_at.is_(None)).order_by(Message.id)
        ).scalars()
        for message in candidates:
            days = (message.decision or {}).get("retention_days")
            if not isinstance(days, int) or message.received_at + timedelta(days=days) > now:
                continue
            message.body = b""
            message.body_deleted_at = now
            audit_log.append(
                session,
                audit_log.Event(
                    tag="system:message:body-deleted",
                    occurred_at=now,
                    actor=actor,
                    partner=message.sender,
                    message_id=message.message_id,
                    body_sha256=message.body_sha256,
                    detail={"retention_days": days, "received_at": message.received_at.isoformat()},
                ),
            )
            deleted.append(message.message_id)
    return deleted
