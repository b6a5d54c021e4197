"""A member gateway's feed to the RILO A/P hub.

Every seizure report this gateway holds may go to the hub as the hub policy lets it: sanitised
(no persons, companies or free text), and only where its originator's handling code allows
onward sharing or the originator consented (``policy/`` decides, as for any onward exchange).
Reports go in signed batches (``seizure-report-batch``) through the outbox and the delivery
worker: one batch per report as reports arrive (``hub_feed`` on), many per batch when a date
range is fed again (backfill). Each report fed is remembered with its batch, so that its
withdrawal follows it to the hub, naming the report within the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.exchange.outbound import Outbound
from gateway.exchange.received import Received
from gateway.policy.engine import decide
from gateway.policy.model import Context, PolicySet
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import HubFeedItem, Message, OriginatorConsent


@dataclass(frozen=True)
class Fed:
    queued: int
    withheld: int
    batches: int


class Feed:
    def __init__(
        self,
        *,
        gateway_id: str,
        registry: Registry,
        policies: PolicySet,
        database: Database,
        outbound: Outbound,
        batch_size: int,
    ) -> None:
        self._id = gateway_id
        self._registry = registry
        self._policies = policies
        self._db = database
        self._outbound = outbound
        self._batch = batch_size
        self._hub_id = policies.hub.hub_id

    def report_received(self, session: Session, received: Received) -> None:
        """Inbound link: a report that arrives goes on to the hub if the hub policy allows."""
        self._feed(session, [(received.message_id, received.document)], received.now)

    def backfill(self, since: date, until: date, *, now: datetime) -> Fed:
        """Feed the reports held with a seizure date in [since, until] not fed before."""
        with self._db.transaction() as session:
            fed = set(session.execute(select(HubFeedItem.source_message_id)).scalars())
            candidates = [
                (m.message_id, m.document)
                for m in session.execute(
                    select(Message)
                    .where(
                        Message.message_type == "seizure-report",
                        Message.direction == "in",
                        Message.withdrawn_at.is_(None),
                    )
                    .order_by(Message.id)
                ).scalars()
                if m.message_id not in fed
                and since.isoformat() <= m.document.get("seizure_date", "") <= until.isoformat()
            ]
            totals = Fed(0, 0, 0)
            for start in range(0, len(candidates), self._batch):
                done = self._feed(session, candidates[start : start + self._batch], now)
                totals = Fed(
                    totals.queued + done.queued,
                    totals.withheld + done.withheld,
                    totals.batches + done.batches,
                )
            return totals

    def _feed(
        self, session: Session, reports: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> Fed:
        hub = self._registry.get(self._hub_id)
        consents = self._consents(session, [message_id for message_id, _ in reports])
        sanitised: list[tuple[str, dict[str, Any]]] = []
        rules: set[str] = set()
        for message_id, document in reports:
            decision = decide(
                self._policies,
                Context(
                    partner=hub,
                    direction="out",
                    message_type="seizure-report",
                    on=now.date(),
                    document=document,
                    consents=frozenset(consents.get(message_id, ())),
                    gateway_id=self._id,
                ),
            )
            if decision.allowed:
                sanitised.append((message_id, dict(decision.document)))
                rules.update(f"{r.rule}:{r.outcome}" for r in decision.rules)
        if not sanitised:
            return Fed(0, len(reports), 0)
        body = json.dumps(
            {"member": self._id, "reports": [document for _, document in sanitised]},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        row = self._outbound.queue(
            session,
            recipient=self._hub_id,
            message_type="seizure-report-batch",
            body=body,
            decision={
                "allowed": True,
                "policy_digest": self._policies.digest,
                "rules": [
                    {"rule": "hub-feed", "outcome": "allow", "reason": ", ".join(sorted(rules))}
                ],
                "redactions": [],
                "review_required": False,
                "second_officer_required": False,
                "items": len(sanitised),
                "withheld": len(reports) - len(sanitised),
            },
            actor="system:hub-feed",
            now=now,
        )
        for message_id, document in sanitised:
            session.add(
                HubFeedItem(
                    source_message_id=message_id,
                    batch_message_id=row.message_id,
                    report_id=document["report_id"],
                    fed_at=now,
                )
            )
        return Fed(len(sanitised), len(reports) - len(sanitised), 1)

    def _consents(self, session: Session, message_ids: Iterable[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for message_id, recipient in session.execute(
            select(OriginatorConsent.message_id, OriginatorConsent.recipient).where(
                OriginatorConsent.message_id.in_(list(message_ids)),
                OriginatorConsent.recipient == self._hub_id,
            )
        ):
            found.setdefault(message_id, set()).add(recipient)
        return found

    def withdraw_onward(
        self, session: Session, source_message_id: str, *, reason: str, now: datetime
    ) -> int:
        """In the caller's transaction: a report fed to the hub was withdrawn by its sender;
        a withdrawal naming it within its batch goes to the hub. Returns 1 if it was fed."""
        item = session.get(HubFeedItem, source_message_id)
        if item is None:
            return 0
        body = json.dumps(
            {
                "withdraws": item.batch_message_id,
                "reason": f"withdrawn by its originator: {reason}",
                "items": [item.report_id],
            },
            separators=(",", ":"),
        ).encode()
        self._outbound.queue(
            session,
            recipient=self._hub_id,
            message_type="withdrawal",
            body=body,
            decision={
                "allowed": True,
                "policy_digest": self._policies.digest,
                "rules": [
                    {"rule": "withdrawal", "outcome": "allow", "reason": "follows the report"}
                ],
                "redactions": [],
                "review_required": False,
                "second_officer_required": False,
            },
            actor="system:hub-feed",
            now=now,
            source_message_id=source_message_id,
        )
        return 1
