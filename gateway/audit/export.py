"""``gateway audit export``: one self-contained file an auditor can verify offline.

The file holds a freshly signed tree head; every leaf hash of that tree (so the root can be
recomputed); the events of the requested period with the exact bytes that were hashed and the
stored chain hashes; the messages those events name, with their bytes (unless deleted under
retention), the senders' signatures and this gateway's receipts; and the public keys needed:
this gateway's JWKS and the senders' pinned keys. Making an export is itself an audit event.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from gateway.audit import log as audit_log
from gateway.audit.checkpoints import leaf_hashes, sign_tree_head
from gateway.audit.queries import event_view
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import AuditEvent, Message
from gateway.trust.keys import Keyring

EXPORT_FORMAT = "customs-gateway-audit-export/1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def export_log(
    database: Database,
    registry: Registry,
    keyring: Keyring,
    *,
    gateway_id: str,
    start: datetime,
    end: datetime,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The export of events that occurred in [start, end), as a JSON-ready dict."""
    head = sign_tree_head(database, keyring.active, gateway_id, now)
    with database.transaction() as session:
        hashes = leaf_hashes(session, head.tree_size)
        events = list(
            session.execute(
                select(AuditEvent)
                .where(
                    AuditEvent.log_index < head.tree_size,
                    AuditEvent.occurred_at >= start,
                    AuditEvent.occurred_at < end,
                )
                .order_by(AuditEvent.log_index)
            ).scalars()
        )
        first = events[0].log_index if events else head.tree_size
        chain_before = (
            session.execute(
                select(AuditEvent.chain_hash).where(AuditEvent.log_index == first - 1)
            ).scalar_one_or_none()
            if first > 0
            else bytes(32)
        ) or bytes(32)
        message_ids = sorted({e.message_id for e in events if e.message_id})
        messages = (
            session.execute(select(Message).where(Message.message_id.in_(message_ids)))
            .scalars()
            .all()
            if message_ids
            else []
        )
        exported_messages = {m.message_id: _message(m) for m in messages}
        senders = {m.sender for m in messages}
        audit_log.append(
            session,
            audit_log.Event(
                tag="auditor:audit-log:exported",
                occurred_at=now,
                actor=actor,
                detail={
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "tree_size": head.tree_size,
                    "events": len(events),
                    "messages": len(messages),
                },
            ),
        )
    keys: dict[str, Any] = {gateway_id: keyring.jwks()}
    for sender in sorted(senders):
        partner = registry.partners.get(sender)
        if partner is not None:
            keys[sender] = {"keys": [dict(k.public_jwk) for k in partner.keys]}
    return {
        "format": EXPORT_FORMAT,
        "gateway": gateway_id,
        "exported_at": now.isoformat(),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tree_head": head.token,
        "leaf_hashes": [h.hex() for h in hashes],
        "first_index": first,
        "chain_before": chain_before.hex(),
        "events": [_event(e) for e in events],
        "messages": exported_messages,
        "keys": keys,
    }


def _event(event: AuditEvent) -> Mapping[str, Any]:
    """What auditors see of an event, plus the exact bytes hashed and the chain hash."""
    return {**event_view(event), "entry": _b64(event.entry), "chain_hash": event.chain_hash.hex()}


def _message(message: Message) -> Mapping[str, Any]:
    return {
        "sender": message.sender,
        "recipient": message.recipient,
        "message_type": message.message_type,
        "content_type": message.content_type,
        "body": None if message.body_deleted_at else _b64(message.body),
        "body_sha256": message.body_sha256,
        "body_deleted_at": message.body_deleted_at.isoformat() if message.body_deleted_at else None,
        "signature": message.signature,
        "receipt": _b64(message.receipt),
        "receipt_signature": message.receipt_signature,
        "log_index": message.log_index,
    }
