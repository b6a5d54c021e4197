"""Recording refusals: the only trace a refused message leaves (PROTOCOL §4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.audit import log as audit_log
from gateway.exchange.inbound import Clock, utc_now
from gateway.store.db import Database


class RefusalLog:
    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._db = database
        self._clock = clock

    def record(
        self,
        *,
        subject: str,
        kind: str,
        status: int,
        detail: str,
        caller: str | None,
        message_id: str | None,
        body_sha256: str | None,
        method: str,
        path: str,
        instance: str,
        rule: str | None = None,
        decision: Mapping[str, Any] | None = None,
    ) -> int:
        """Append ``<source>:<subject>:refused``, committed before this returns (in a transaction
        of its own or shared with other writes of the moment); returns its index.

        The source is the caller's kind for the gateway's own systems and auditors (callers
        ``operator:<name>``, ``auditor:<name>``), ``partner`` otherwise; only a partner's id goes
        in the event's partner field.
        """
        source = caller.split(":", 1)[0] if caller and ":" in caller else "partner"
        event = audit_log.Event(
            tag=f"{source}:{subject}:refused",
            occurred_at=self._clock(),
            actor=caller or "unauthenticated",
            partner=caller if source == "partner" else None,
            message_id=message_id,
            body_sha256=body_sha256,
            detail={
                "problem": kind,
                "status": status,
                "detail": detail,
                "method": method,
                "path": path,
                "instance": instance,
                **({"rule": rule} if rule else {}),
                **({"decision": dict(decision)} if decision else {}),
            },
        )
        # Group commit: refusals that come at once (a flood of bad calls) share a commit.
        return self._db.grouped(lambda session: audit_log.append(session, event).log_index)
