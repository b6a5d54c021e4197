"""The hub's release ledger: every trend report released to a disclosure-controlled audience,
kept as sent, and the next release planned against all of them (:mod:`gateway.rilo.disclosure`).

A release reads the hub's figures in one transaction (the period's cells from the rollups, the
largest seizures of each cell for the dominance rule, a fingerprint of each month's figures,
and the ledger), is planned outside it (the LP can take seconds), and is written in a second
one, refused if another release went into the ledger meanwhile (it was not planned against it).

A month whose figures changed since an earlier release (a late report, a withdrawal, a
confirmed duplicate) gets a new *revision*: the release says so (``revisions``), and the audit
treats the two versions as different figures.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import DocumentError, StateConflictError
from gateway.rilo.disclosure import (
    CONTROLLED,
    DisclosurePolicy,
    Held,
    Largest,
    plan,
    truths_of,
)
from gateway.rilo.hub import (
    cells_of_report,
    cells_over,
    normalised,
    open_candidates_of,
)
from gateway.rilo.release_audit import CUT_AT, Audit, audit
from gateway.rilo.trends import QUANTITIES, Period, month_label
from gateway.store.db import Database
from gateway.store.models import HubRelease, HubReport, HubRollup

T = TypeVar("T")


@dataclass(frozen=True)
class Released:
    id: int
    audience: str
    period: str
    released_at: datetime
    released_by: str
    body: dict[str, Any]
    suppressed: int
    withheld: int
    #: the planner's rounds of secondary suppression
    rounds: int
    inherited: tuple[str, ...]


def _ledger(session: Session) -> list[HubRelease]:
    """Every release to a disclosure-controlled audience, oldest first."""
    return list(
        session.execute(
            select(HubRelease).where(HubRelease.audience.in_(CONTROLLED)).order_by(HubRelease.id)
        ).scalars()
    )


def _truth_to_json(truth: Mapping[tuple[str, str], T]) -> dict[str, dict[str, T]]:
    nested: dict[str, dict[str, T]] = defaultdict(dict)
    for (d, v), n in sorted(truth.items()):
        nested[d][v] = n
    return dict(nested)


def _truth_of(row: HubRelease) -> dict[tuple[str, str], int]:
    return {(d, v): int(n) for d, values in row.truth.items() for v, n in values.items()}


def _amounts_to_json(
    amounts: dict[str, dict[tuple[str, str], float]],
) -> dict[str, dict[str, dict[str, float]]]:
    return {unit: _truth_to_json(cells) for unit, cells in sorted(amounts.items())}


def _held(row: HubRelease) -> Held:
    """A ledger row as the planner and the audit take it (no amounts: a release made before
    quantities were audited)."""
    amounts = {
        unit: {(d, v): float(a) for d, values in cells.items() for v, a in values.items()}
        for unit, cells in (row.amounts or {}).items()
    }
    return Held(row.body, _truth_of(row), amounts)


class Releases:
    def __init__(self, database: Database, policy: DisclosurePolicy | None = None) -> None:
        self._db = database
        self.policy = policy or DisclosurePolicy()

    def release(self, period: Period, audience: str, *, actor: str, now: datetime) -> Released:
        """Plan and record the release of ``period`` to ``audience`` (``members`` or
        ``public``), audited as ``actor``."""
        if audience not in CONTROLLED:
            raise DocumentError(f"{audience!r} is not an audience releases go to ({CONTROLLED})")
        before = period.months_before
        with self._db.transaction() as session:
            cells = cells_over(session, period.months)
            largest = self._largest(session, period.months)
            prints = self._fingerprints(session, sorted({*period.months, *before}))
            ledger = _ledger(session)
            last_id = ledger[-1].id if ledger else 0
            open_candidates = open_candidates_of(session, period)
        held = [_held(row) for row in ledger]
        earlier: dict[str, dict[str, Any]] = {}
        for row in ledger:  # the audience's latest of each period (for changes and totals)
            if row.audience == audience:
                earlier[row.period] = row.body
        planned = plan(
            period,
            cells,
            largest,
            audience=audience,
            release={"id": last_id + 1, "released_at": now.isoformat()},
            held=held,
            revisions=self._revisions(ledger, prints),
            earlier=earlier,
            open_candidates=open_candidates,
            policy=self.policy,
        )
        with self._db.transaction() as session:
            newest = session.scalar(select(func.max(HubRelease.id))) or 0
            if newest != last_id:
                raise StateConflictError(
                    "another release went into the ledger while this one was planned; release again"
                )
            row = HubRelease(
                id=last_id + 1,
                audience=audience,
                period=period.label,
                released_at=now,
                released_by=actor,
                body=planned.body,
                truth=_truth_to_json(planned.truth),
                amounts=_amounts_to_json(planned.amounts),
                fingerprints=prints,
            )
            session.add(row)
            released = Released(
                id=row.id,
                audience=audience,
                period=period.label,
                released_at=now,
                released_by=actor,
                body=planned.body,
                suppressed=len(planned.primary | planned.secondary),
                withheld=len(planned.withheld),
                rounds=planned.rounds,
                inherited=planned.inherited,
            )
            audit_log.append(
                session,
                audit_log.Event(
                    tag="analyst:trend-report:released",
                    occurred_at=now,
                    actor=actor,
                    detail={
                        "release": released.id,
                        "audience": audience,
                        "period": period.label,
                        "suppressed": released.suppressed,
                        "withheld": released.withheld,
                        "rounds": released.rounds,
                        "unprotectable": list(planned.inherited),
                    },
                ),
            )
        return released

    def latest(self, period: Period, audiences: Sequence[str] = CONTROLLED) -> dict[str, Any]:
        """The newest release of ``period`` to any of ``audiences``, as it was sent."""
        with self._db.transaction() as session:
            row = session.scalar(
                select(HubRelease)
                .where(HubRelease.period == period.label, HubRelease.audience.in_(audiences))
                .order_by(HubRelease.id.desc())
                .limit(1)
            )
            if row is None:
                raise LookupError(period.label)
            return dict(row.body)

    def listing(self) -> list[dict[str, Any]]:
        """Every release: id, audience, period, when, by whom, how much it suppressed."""
        with self._db.transaction() as session:
            return [
                {
                    "id": row.id,
                    "audience": row.audience,
                    "period": row.period,
                    "released_at": row.released_at.isoformat(),
                    "released_by": row.released_by,
                    "suppressed": sum(
                        1 for t in row.body["tables"].values() for e in t if e["suppressed"]
                    )
                    + sum(row.body.get("withheld", {}).values()),
                    "withheld": sum(row.body.get("withheld", {}).values()),
                }
                for row in session.execute(select(HubRelease).order_by(HubRelease.id)).scalars()
            ]

    def audit(self, *, protection: float | None = None) -> Audit:
        """The attacker's audit over everything the controlled audiences hold (members hold
        what is published too), judged against the ledger's truth: the seizures of every
        sensitive cell (within ``protection``), then each of its quantities (within the
        policy's p% of the amount)."""
        with self._db.transaction() as session:
            held = [_held(row) for row in _ledger(session)]
        bodies = [h.body for h in held]
        truths = truths_of(held)
        chosen = self.policy.protection if protection is None else protection
        found = audit(bodies, protection=chosen, truth=truths["cases"])
        findings = list(found.findings)
        for unit in QUANTITIES:  # as the planner requires (DisclosurePolicy.requirement)
            if truths[unit]:
                unit_protection, relative = self.policy.requirement(unit)
                findings += audit(
                    bodies,
                    protection=unit_protection,
                    relative=relative,
                    truth=truths[unit],
                    measure=unit,
                ).findings
        return Audit(tuple(findings), found.relations, found.protection, found.relative)

    # --- what a release is planned from -------------------------------------------------------

    @staticmethod
    def _largest(session: Session, months: Sequence[int]) -> Largest:
        """(table, value) -> unit -> the two largest seizures counted in the cell."""
        top: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
        documents = session.execute(
            select(HubReport.document).where(
                HubReport.month.in_(list(months)),
                HubReport.duplicate_of.is_(None),
                HubReport.withdrawn_at.is_(None),
            )
        ).scalars()
        for document in documents:
            unit, amount = normalised(document["quantity"])
            for d, v in cells_of_report(document):
                two = top[(d, v[:CUT_AT])].setdefault(unit, [])
                two.append(amount)
                if len(two) > 2:
                    two.sort(reverse=True)
                    del two[2:]
        return top

    @staticmethod
    def _fingerprints(session: Session, months: Sequence[int]) -> dict[str, str]:
        """Month label -> SHA-256 of that month's rollup rows (what its figures are made of)."""
        rows: dict[int, list[list[Any]]] = defaultdict(list)
        for r in session.execute(
            select(HubRollup)
            .where(HubRollup.month.in_(list(months)), HubRollup.cases != 0)
            .order_by(HubRollup.month, HubRollup.dimension, HubRollup.value, HubRollup.member)
        ).scalars():
            rows[r.month].append(
                [r.dimension, r.value, r.member, r.cases]
                + [round(getattr(r, q), 6) for q in ("kg", "litres", "tablets", "pieces")]
            )
        return {
            month_label(m): hashlib.sha256(
                json.dumps(rows.get(m, []), separators=(",", ":")).encode()
            ).hexdigest()
            for m in months
        }

    @staticmethod
    def _revisions(ledger: Sequence[HubRelease], prints: dict[str, str]) -> dict[str, int]:
        """Month label -> revision: how many other versions of its figures the ledger's
        releases were made from before (0: the figures every earlier release saw)."""
        versions: dict[str, list[str]] = defaultdict(list)
        for row in ledger:
            for label, fingerprint in row.fingerprints.items():
                if fingerprint not in versions[label]:
                    versions[label].append(fingerprint)
        found = {}
        for label, fingerprint in prints.items():
            known = versions[label]
            found[label] = known.index(fingerprint) if fingerprint in known else len(known)
        return found
