"""A member gateway's feed to the RILO A/P hub.

Every seizure report this gateway holds may go to the hub as the hub policy lets it: only the
fields the hub's allow-list names (no persons, companies or free text), only where its markings
allow (never TLP:RED or TLP:AMBER+STRICT; an originator's H2/H3 or TLP:AMBER only with its
consent). ``policy/`` decides each report, as for any onward exchange.
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

from gateway.errors import PolicyDeniedError
from gateway.exchange.outbound import Outbound
from gateway.exchange.received import Received
from gateway.policy.model import Decision, PolicySet
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
                (m.message_id, m.in_force())
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
        consents = self._consents(session, [message_id for message_id, _ in reports])
        sanitised: list[tuple[str, dict[str, Any]]] = []
        decisions: list[Decision] = []
        for message_id, document in reports:
            try:
                decision = self._outbound.decide_release(
                    recipient=self._hub_id,
                    message_type="seizure-report",
                    document=document,
                    now=now,
                    automatic=True,
                    consents=frozenset(consents.get(message_id, ())),
                )
            except PolicyDeniedError:
                continue  # counted as withheld
            sanitised.append((message_id, dict(decision.document)))
            decisions.append(decision)
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
            decision=_batch_record(decisions, len(reports) - len(sanitised)),
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

    def markings_changed(self, session: Session, message: Message, *, now: datetime) -> int:
        """In the caller's transaction: the originator changed a report's markings. Fed and now
        kept from the hub: a withdrawal follows it (the hub stops counting it). Not fed and now
        allowed: it goes now. Returns 1 if the hub is told."""
        if message.message_type != "seizure-report" or message.withdrawn_at is not None:
            return 0
        if session.get(HubFeedItem, message.message_id) is None:
            return self._feed(session, [(message.message_id, message.in_force())], now).batches
        consents = self._consents(session, [message.message_id])
        try:
            self._outbound.decide_release(
                recipient=self._hub_id,
                message_type="seizure-report",
                document=message.in_force(),
                now=now,
                automatic=True,
                consents=frozenset(consents.get(message.message_id, ())),
            )
            return 0  # still allowed: the hub holds no marking beyond what it counts
        except PolicyDeniedError:
            return self.withdraw_onward(session, message.message_id, reason=None, now=now)

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
        self, session: Session, source_message_id: str, *, reason: str | None, now: datetime
    ) -> int:
        """In the caller's transaction: a report fed to the hub was withdrawn by its sender;
        a withdrawal naming it within its batch goes to the hub. Returns 1 if it was fed."""
        item = session.get(HubFeedItem, source_message_id)
        if item is None:
            return 0
        document: dict[str, Any] = {"withdraws": item.batch_message_id, "items": [item.report_id]}
        if reason:
            document["reason"] = f"withdrawn by its originator: {reason}"
        decision = self._outbound.decide_release(
            recipient=self._hub_id,
            message_type="withdrawal",
            document=document,
            now=now,
            automatic=True,
        )
        self._outbound.queue(
            session,
            recipient=self._hub_id,
            message_type="withdrawal",
            body=json.dumps(decision.document, separators=(",", ":")).encode(),
            decision=decision.to_dict(),
            actor="system:hub-feed",
            now=now,
            source_message_id=source_message_id,
            detail={"reason": reason},
        )
        return 1


def _batch_record(decisions: Sequence[Decision], withheld: int) -> dict[str, Any]:
    """The record of a batch's release: each report's own decision, summed up (the reports
    went because each was allowed; what each withheld is named per report)."""
    return {
        "allowed": True,
        "policy_digest": decisions[0].policy_digest,
        "rules": [
            {
                "rule": "hub-feed",
                "outcome": "allow",
                "reason": ", ".join(
                    sorted({f"{r.rule}:{r.outcome}" for d in decisions for r in d.rules})
                ),
            }
        ],
        "redactions": sorted({p for d in decisions for p in d.redactions}),
        "review_required": False,
        "second_officer_required": False,
        "items": len(decisions),
        "withheld": withheld,
        "reports": [
            {"report_id": d.document["report_id"], "withheld": list(d.redactions)}
            for d in decisions
        ],
    }
