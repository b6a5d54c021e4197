"""Appending events to the audit log, inside the caller's transaction.

An event is committed with the change it records or not at all. Appends are serialised through
the single ``audit_head`` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writer lock is
taken at BEGIN), so the log stays one gap-free sequence whatever the number of workers.

Tags follow ``source:subject:action``, e.g. ``partner:seizure-report:received``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from gateway.audit.hashing import canonical_entry, chain_hash, leaf_hash
from gateway.store.models import AuditEvent, AuditHead, table_of

_HEAD = table_of(AuditHead)
_EVENTS = table_of(AuditEvent)
# Built once: an append runs on every message's path, and building a statement costs more than
# executing it.
_READ_HEAD = select(_HEAD.c.size, _HEAD.c.chain_hash).where(_HEAD.c.id == 1).with_for_update()
_WRITE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)
_INSERT_EVENTS = insert(_EVENTS)


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
    return append_all(session, [event])[0]


def append_all(session: Session, events: Sequence[Event]) -> list[AppendedLeaf]:
    """Append ``events`` as consecutive leaves, in their order: one read and one write of the
    head for all of them. The caller's commit makes them durable.

    Core statements, not ORM objects: the head and the leaves are written at once, so nothing of
    the log waits in the session for a flush (appending is on every message's path)."""
    # On the session's connection: the same transaction, without the ORM's per-statement work.
    connection = session.connection()
    size, chained = connection.execute(_READ_HEAD).one()
    rows: list[dict[str, Any]] = []
    appended: list[AppendedLeaf] = []
    for index, event in enumerate(events, start=size):
        fields = {
            "log_index": index,
            "tag": event.tag,
            "occurred_at": event.occurred_at,
            "actor": event.actor,
            "partner": event.partner,
            "message_id": event.message_id,
            "body_sha256": event.body_sha256,
            "detail": event.detail,
        }
        entry = canonical_entry({**fields, "occurred_at": event.occurred_at.isoformat()})
        leaf = leaf_hash(entry)
        chained = chain_hash(chained, leaf)
        rows.append({**fields, "entry": entry, "leaf_hash": leaf, "chain_hash": chained})
        appended.append(AppendedLeaf(index, leaf))
    if rows:
        connection.execute(_INSERT_EVENTS, rows)
        connection.execute(_WRITE_HEAD, {"size": size + len(rows), "chain_hash": chained})
    return appended
