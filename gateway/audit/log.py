"""Appending events to the audit log, inside the caller's transaction.

An event is committed with the change it records or not at all. Appends are serialised through
the single ``audit_head`` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writer lock is
taken at BEGIN), so the log stays one gap-free sequence whatever the number of workers.

Tags follow ``source:subject:action``, e.g. ``partner:seizure-report:received``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.hashing import canonical_entry, chain_hash, leaf_hash
from gateway.store.models import AuditEvent, AuditHead


@dataclass(frozen=True)
class Event:
    """What happened, who did it, to which partner and message."""

    tag: str
    occurred_at: datetime
    actor: str
    partner: str | None = None
    message_id: str | None = None
    body_sha256: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AppendedLeaf:
    log_index: int
    leaf_hash: bytes


def append(session: Session, event: Event) -> AppendedLeaf:
    """Append ``event`` as the next leaf; the caller's commit makes it durable."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    index = head.size
    entry = canonical_entry(
        {
            "log_index": index,
            "tag": event.tag,
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor,
            "partner": event.partner,
            "message_id": event.message_id,
            "body_sha256": event.body_sha256,
            "detail": event.detail,
        }
    )
    leaf = leaf_hash(entry)
    chained = chain_hash(head.chain_hash, leaf)
    session.add(
        AuditEvent(
            log_index=index,
            tag=event.tag,
            occurred_at=event.occurred_at,
            actor=event.actor,
            partner=event.partner,
            message_id=event.message_id,
            body_sha256=event.body_sha256,
            detail=event.detail,
            entry=entry,
            leaf_hash=leaf,
            chain_hash=chained,
        )
    )
    head.size = index + 1
    head.chain_hash = chained
    session.flush()
    return AppendedLeaf(index, leaf)
