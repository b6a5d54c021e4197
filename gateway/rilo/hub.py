"""The RILO Asia/Pacific hub: members' sanitised seizure reports in, rollups kept at ingest.

Reports arrive in signed batches from RILO A/P members only (pinned keys; the registry's
``rilo_ap_member``). Each report is checked against the spec's schema, must name the calling
member and must carry no personal data (the members' feeds remove it; the hub refuses what
slipped through). Each is kept with its provenance (member, batch message, time) and marked
``member-reported`` until RILO validates it.

The same seizure reported by two members (departure and destination), or forwarded by a member
besides its own administration's report, has the same seizure key (date, commodity type,
departure, destination, normalised quantity): the later report is kept on record as a duplicate
of the first and counted once.

Rollups (month x dimension x value x member → cases and quantities) are maintained in the
transaction of the ingest, so a trend report reads a few thousand rows however many reports
are held.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.documents.schemas import JsonSchemas
from gateway.errors import DocumentError, ForbiddenError, NotFoundError
from gateway.exchange.received import Received
from gateway.policy.model import TLP_NO_ONWARD
from gateway.policy.release import Tree, release
from gateway.registry import Registry
from gateway.rilo.trends import QUANTITIES, Cell, Period, report
from gateway.store.db import Database
from gateway.store.models import HubReport, HubRollup
from gateway.store.predicates import one_of

#: unit → (normalised quantity, factor)
UNITS = {
    "kg": ("kg", 1.0),
    "g": ("kg", 0.001),
    "l": ("litres", 1.0),
    "ml": ("litres", 0.001),
    "tablets": ("tablets", 1.0),
    "pieces": ("pieces", 1.0),
    "sticks": ("pieces", 1.0),
    "items": ("pieces", 1.0),
    "ampoules": ("pieces", 1.0),
}
HUB_REPORT = cast(Table, HubReport.__table__)
HUB_ROLLUP = cast(Table, HubRollup.__table__)
_PG_ROLLUP_UPSERT = text(
    "INSERT INTO hub_rollup (month, dimension, value, member, cases, kg, litres, tablets, pieces) "
    "SELECT * FROM unnest(CAST(:month AS integer[]), CAST(:dimension AS varchar[]), "
    "CAST(:value AS varchar[]), CAST(:member AS varchar[]), CAST(:cases AS integer[]), "
    "CAST(:kg AS double precision[]), CAST(:litres AS double precision[]), "
    "CAST(:tablets AS double precision[]), CAST(:pieces AS double precision[])) "
    "ON CONFLICT (month, dimension, value, member) DO UPDATE SET "
    "cases = hub_rollup.cases + EXCLUDED.cases, kg = hub_rollup.kg + EXCLUDED.kg, "
    "litres = hub_rollup.litres + EXCLUDED.litres, "
    "tablets = hub_rollup.tablets + EXCLUDED.tablets, pieces = hub_rollup.pieces + EXCLUDED.pieces"
)
#: Marks, until the batch is inserted, a duplicate of a report earlier in the same batch.
IN_THIS_BATCH = -1


def normalised(quantity: Mapping[str, Any]) -> tuple[str, float]:
    name, factor = UNITS[quantity["unit"]]
    return name, round(float(quantity["amount"]) * factor, 6)


def route_of(document: Mapping[str, Any]) -> str:
    route = document.get("route") or {}
    chain = [route.get("origin", "??"), route.get("departure", "??")]
    chain += list(route.get("transit") or [])
    chain.append(route.get("destination", "??"))
    return ">".join(chain)


def cells_of_report(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(dimension, value) of every cell one report counts in."""
    commodity, route = document["commodity"], document.get("route") or {}
    cells = [
        ("commodity", f"{commodity['category']}/{commodity['type']}"),
        ("category", commodity["category"]),
        ("route", route_of(document)),
        ("corridor", f"{route.get('origin', '??')}>{route.get('destination', '??')}"),
        ("mode", document["transport"]["mode"]),
        ("member", document["reporting_administration"]),
        (
            "commodity-route",
            f"{commodity['type']}|{route.get('origin', '??')}>{route.get('destination', '??')}",
        ),
    ]
    cells += [("concealment", c) for c in sorted(set(document.get("concealment_methods") or []))]
    cells += [("detection", d) for d in sorted(set(document["detection_methods"]))]
    return cells


def seizure_key(document: Mapping[str, Any]) -> str:
    unit, amount = normalised(document["quantity"])
    route = document.get("route") or {}
    return "|".join(
        (
            document["seizure_date"],
            document["commodity"]["type"],
            route.get("departure", "??"),
            route.get("destination", "??"),
            f"{amount:.3f}{unit}",
        )
    )


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int
    already_held: int


class Hub:
    def __init__(
        self,
        *,
        hub_id: str,
        registry: Registry,
        database: Database,
        json_schemas: JsonSchemas,
        max_batch: int,
        accepted: Tree,
    ) -> None:
        """``accepted`` is the hub's allow-list of a report (hub.yaml, compiled): a report
        with anything beyond it is refused, as is one marked TLP:RED or TLP:AMBER+STRICT."""
        self._accepted = accepted
        self._id = hub_id
        self._registry = registry
        self._db = database
        self._schemas = json_schemas
        self._max_batch = max_batch

    # --- ingest -------------------------------------------------------------------------------

    def batch_received(self, session: Session, received: Received) -> None:
        """Inbound link of a signed batch (msgtype ``seizure-report-batch``)."""
        self.ingest(
            session,
            received.caller,
            received.document["reports"],
            message_id=received.message_id,
            now=received.now,
        )

    def check(self, member: str, reports: Sequence[Mapping[str, Any]]) -> None:
        """Refuse the whole batch (DocumentError naming the report) unless every report is
        valid, carries only what the hub's allow-list names (no personal data, no free text)
        and is marked for sharing beyond its recipient (not TLP:RED or TLP:AMBER+STRICT: a
        member gateway that let one through is refused, and nothing of it is counted in any
        figure). A member may forward reports another
        administration made (its feed respects their originator's control); the batch's
        member is kept as the provenance, the report's administration as who reported it."""
        partner = self._registry.partners.get(member)
        if partner is None or not partner.rilo_ap_member or partner.kind == "hub":
            raise ForbiddenError(f"{member} is not a member of RILO Asia/Pacific")
        if len(reports) > self._max_batch:
            raise DocumentError(f"/reports: at most {self._max_batch} reports per batch")
        for index, document in enumerate(reports):
            try:
                self._schemas.check_compiled_first("SeizureReport", document)
            except DocumentError as error:
                raise DocumentError(f"/reports/{index}{error.detail}") from error
            beyond = release(document, self._accepted).withheld
            if beyond:
                raise DocumentError(
                    f"/reports/{index}: the hub takes no personal data and no free text "
                    f"({', '.join(beyond)})"
                )
            tlp = document["markings"]["tlp"]
            if tlp in TLP_NO_ONWARD:
                raise DocumentError(f"/reports/{index}: marked {tlp}, it may not come to the hub")

    def ingest(
        self,
        session: Session,
        member: str,
        reports: Sequence[Mapping[str, Any]],
        *,
        message_id: str,
        now: datetime,
    ) -> Ingested:
        """Keep a member's reports and count them, in the caller's transaction."""
        self.check(member, reports)
        dialect = session.get_bind().dialect.name
        ids = [r["report_id"] for r in reports]
        held = set(
            session.execute(
                select(HubReport.report_id).where(
                    HubReport.member == member,
                    one_of(HubReport.report_id, ids, dialect=dialect),
                )
            ).scalars()
        )
        keys = {seizure_key(r): r for r in reports if r["report_id"] not in held}
        firsts = {
            key: report_id
            for key, report_id in session.execute(
                select(HubReport.seizure_key, HubReport.id).where(
                    one_of(HubReport.seizure_key, keys, dialect=dialect),
                    HubReport.duplicate_of.is_(None),
                    HubReport.withdrawn_at.is_(None),
                )
            ).all()
        }
        rows, counted = [], []
        seen: set[str] = set()
        for document in reports:
            if document["report_id"] in held or document["report_id"] in seen:
                continue
            seen.add(document["report_id"])
            key = seizure_key(document)
            unit, amount = normalised(document["quantity"])
            day = date.fromisoformat(document["seizure_date"])
            route = document.get("route") or {}
            rows.append(
                {
                    "member": member,
                    "reported_by": document["reporting_administration"],
                    "report_id": document["report_id"],
                    "message_id": message_id,
                    "seizure_date": day,
                    "month": day.year * 100 + day.month,
                    "category": document["commodity"]["category"],
                    "commodity_type": document["commodity"]["type"],
                    "origin": route.get("origin"),
                    "departure": route.get("departure"),
                    "destination": route.get("destination"),
                    "mode": document["transport"]["mode"],
                    "unit": unit,
                    "amount": amount,
                    "validation": "member-reported",
                    "seizure_key": key,
                    "duplicate_of": firsts.get(key),
                    "document": dict(document),
                    "received_at": now,
                }
            )
            if key not in firsts:
                counted.append(document)
                firsts[key] = IN_THIS_BATCH  # later reports of this seizure here: duplicates
        if rows:
            session.execute(insert(HUB_REPORT), rows)  # Core: no ORM bookkeeping
        for key in {r["seizure_key"] for r in rows if r["duplicate_of"] == IN_THIS_BATCH}:
            first = session.execute(
                select(func.min(HubReport.id)).where(
                    HubReport.seizure_key == key,
                    HubReport.duplicate_of.is_(None),
                    HubReport.withdrawn_at.is_(None),
                )
            ).scalar_one()
            session.execute(
                update(HubReport)
                .where(HubReport.seizure_key == key, HubReport.duplicate_of == IN_THIS_BATCH)
                .values(duplicate_of=first)
            )
        self._roll(session, counted, +1)
        audit_log.append(
            session,
            audit_log.Event(
                tag="partner:seizure-report-batch:ingested",
                occurred_at=now,
                actor=member,
                partner=member,
                message_id=message_id,
                detail={
                    "reports": len(reports),
                    "accepted": len(rows),
                    "duplicates": len(rows) - len(counted),
                    "already_held": len(reports) - len(rows),
                },
            ),
        )
        return Ingested(len(rows), len(rows) - len(counted), len(reports) - len(rows))

    def _roll(self, session: Session, documents: Iterable[Mapping[str, Any]], sign: int) -> None:
        """Add (``sign`` +1) or remove (-1) reports from the rollups, one upsert per cell."""
        totals: dict[tuple[int, str, str, str], list[float]] = defaultdict(
            lambda: [0, 0.0, 0.0, 0.0, 0.0]
        )
        for document in documents:
            day = document["seizure_date"]
            month = int(day[:4]) * 100 + int(day[5:7])
            unit, amount = normalised(document["quantity"])
            position = 1 + QUANTITIES.index(unit)
            for dimension, value in cells_of_report(document):
                cell = totals[(month, dimension, value[:200], document["reporting_administration"])]
                cell[0] += sign
                cell[position] += sign * amount
        if not totals:
            return
        values = [
            {
                "month": month,
                "dimension": dimension,
                "value": value,
                "member": member,
                "cases": int(t[0]),
                "kg": t[1],
                "litres": t[2],
                "tablets": t[3],
                "pieces": t[4],
            }
            for (month, dimension, value, member), t in totals.items()
        ]
        if session.get_bind().dialect.name == "postgresql":
            # One set-based statement over arrays: an executemany would cost a round trip and a
            # plan execution per cell.
            columns = ("month", "dimension", "value", "member", "cases", *QUANTITIES)
            session.execute(_PG_ROLLUP_UPSERT, {c: [v[c] for v in values] for c in columns})
            return
        statement = sqlite_insert(HUB_ROLLUP)
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["month", "dimension", "value", "member"],
                set_={
                    "cases": HUB_ROLLUP.c.cases + excluded.cases,
                    **{q: HUB_ROLLUP.c[q] + excluded[q] for q in QUANTITIES},
                },
            ),
            values,
        )

    def withdraw(
        self, session: Session, member: str, report_ids: Iterable[str], *, now: datetime
    ) -> int:
        """The member withdrew these reports: kept on record, no longer counted; a duplicate
        reported by the other member is counted in their place."""
        found = (
            session.execute(
                select(HubReport)
                .where(
                    HubReport.member == member,
                    HubReport.report_id.in_(list(report_ids)),
                    HubReport.withdrawn_at.is_(None),
                )
                .with_for_update()
            )
            .scalars()
            .all()
        )
        uncount = [r.document for r in found if r.duplicate_of is None]
        for row in found:
            row.withdrawn_at = now
        self._roll(session, uncount, -1)
        promoted = []
        for row in (r for r in found if r.duplicate_of is None):
            successor = session.execute(
                select(HubReport)
                .where(
                    HubReport.seizure_key == row.seizure_key,
                    HubReport.duplicate_of == row.id,
                    HubReport.withdrawn_at.is_(None),
                )
                .order_by(HubReport.id)
                .limit(1)
            ).scalar_one_or_none()
            if successor is not None:
                successor.duplicate_of = None
                session.execute(
                    update(HubReport)
                    .where(
                        HubReport.seizure_key == row.seizure_key,
                        HubReport.duplicate_of == row.id,
                        HubReport.id != successor.id,
                    )
                    .values(duplicate_of=successor.id)
                )
                promoted.append(successor.document)
        self._roll(session, promoted, +1)
        return len(found)

    def validate(self, member: str, report_id: str, *, actor: str, now: datetime) -> None:
        """RILO checked this report with the member: ``rilo-validated``."""
        with self._db.transaction() as session:
            row = session.execute(
                select(HubReport).where(
                    HubReport.member == member, HubReport.report_id == report_id
                )
            ).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no report {report_id} from {member}")
            row.validation = "rilo-validated"
            audit_log.append(
                session,
                audit_log.Event(
                    tag="analyst:seizure-report:validated",
                    occurred_at=now,
                    actor=actor,
                    partner=member,
                    detail={"report_id": report_id},
                ),
            )

    # --- reports ------------------------------------------------------------------------------

    def trend_report(self, period: Period) -> dict[str, Any]:
        """The period's report (see :mod:`gateway.rilo.trends`), from the rollups only: the
        database sums each cell over the months of the period, the one before and the one a
        year earlier."""
        earlier = {m for i in range(1, 5) for m in period.shifted(-i).months}
        with self._db.transaction() as session:
            cells = [
                self._cells(session, p.months)
                for p in (period, period.shifted(-1), period.year_earlier)
            ]
            seen = set(
                session.execute(
                    select(HubRollup.value)
                    .where(
                        HubRollup.month.in_(sorted(earlier)),
                        HubRollup.dimension == "commodity-route",
                        HubRollup.cases > 0,
                    )
                    .distinct()
                ).scalars()
            )
        return report(period, *cells, seen_before=seen)

    def _cells(self, session: Session, months: Sequence[int]) -> dict[str, dict[str, Cell]]:
        members = func.count(func.distinct(HubRollup.member)).filter(HubRollup.cases > 0)
        query = (
            select(
                HubRollup.dimension,
                HubRollup.value,
                func.sum(HubRollup.cases),
                members,
                *(func.sum(getattr(HubRollup, q)) for q in QUANTITIES),
            )
            .where(HubRollup.month.in_(list(months)))
            .group_by(HubRollup.dimension, HubRollup.value)
            .having(func.sum(HubRollup.cases) > 0)
        )
        cells: dict[str, dict[str, Cell]] = defaultdict(dict)
        for dimension, value, cases, count, *quantities in session.execute(query):
            cells[dimension][value] = Cell(
                int(cases), int(count), dict(zip(QUANTITIES, map(float, quantities), strict=True))
            )
        return cells

    def notable(self, period: Period, limit: int = 10) -> list[dict[str, Any]]:
        """The largest seizures of the period in each unit (for RILO analysts only: single
        seizures; no personal data is held at the hub)."""
        with self._db.transaction() as session:
            found = []
            for unit in QUANTITIES:
                found += [
                    {
                        "member": r.member,
                        "report_id": r.report_id,
                        "seizure_date": r.seizure_date.isoformat(),
                        "commodity": f"{r.category}/{r.commodity_type}",
                        "route": route_of(r.document),
                        "mode": r.mode,
                        unit: r.amount,
                        "validation": r.validation,
                    }
                    for r in session.execute(
                        select(HubReport)
                        .where(
                            HubReport.month.in_(period.months),
                            HubReport.unit == unit,
                            HubReport.duplicate_of.is_(None),
                            HubReport.withdrawn_at.is_(None),
                        )
                        .order_by(HubReport.amount.desc())
                        .limit(limit)
                    ).scalars()
                ]
            return found
