"""The RILO Asia/Pacific hub: members' sanitised seizure reports in, rollups kept at ingest.

Reports arrive in signed batches from RILO A/P members only (pinned keys; the registry's
``rilo_ap_member``). Each report is checked against the spec's schema, must name the calling
member and must carry no personal data (the members' feeds remove it; the hub refuses what
slipped through). Each is kept with its provenance (member, batch message, time) and marked
``member-reported`` until RILO validates it.

Counting (ADR 10, addendum "Counting the world's seizures"): every report is one seizure unless
it is the same report (the same administration's ``report_id``, forwarded by another member as
well: kept, marked ``duplicate_of``, counted once) or an analyst confirmed it as another
administration's report of the same seizure. One administration's reports are never merged: one-
piece seizures of one kind on one day at different offices are common. Across administrations a
report is only a *candidate* duplicate (:func:`may_be_one_seizure`: same day, commodity, mode and
known route, quantities within 5% in the same unit, the same office or port where both carry
one), kept in ``hub_duplicate_candidate`` and counted as its own seizure until an analyst
confirms it (then counted once) or rejects it (it stays distinct).

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

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.documents.schemas import JsonSchemas
from gateway.errors import DocumentError, ForbiddenError, NotFoundError, StateConflictError
from gateway.exchange.received import Received
from gateway.policy.model import TLP_NO_ONWARD
from gateway.policy.release import Tree, release
from gateway.registry import Registry
from gateway.rilo.series import MAX_SERIES, SERIES_TABLES, Series, monthly, top_values
from gateway.rilo.trends import QUANTITIES, Cell, Period, report, size_band
from gateway.store.db import Database
from gateway.store.models import HubDuplicateCandidate, HubReport, HubRollup
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
HUB_CANDIDATE = cast(Table, HubDuplicateCandidate.__table__)
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
#: Two administrations' quantities (normalised, same unit) this close may be one seizure.
QUANTITY_TOLERANCE = 0.05


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
    unit, amount = normalised(document["quantity"])
    office = document.get("office") or {}
    cells += [
        ("direction", document.get("direction") or "??"),
        ("mode-commodity", f"{document['transport']['mode']}|{commodity['type']}"),
        ("office", office.get("locode") or "??"),
        ("port", f"{route.get('departure_port') or '??'}>{route.get('arrival_port') or '??'}"),
        ("size", size_band(unit, amount)),
    ]
    return cells


def seizure_key(document: Mapping[str, Any]) -> str:
    """The match key (``hub_report.seizure_key``): seizure date, commodity type, transport mode,
    normalised unit. Only reports with the same key are compared at all."""
    unit, _ = normalised(document["quantity"])
    return "|".join(
        (
            document["seizure_date"],
            document["commodity"]["type"],
            document["transport"]["mode"],
            unit,
        )
    )


def known_route(document: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(origin, departure, destination) where all three are known; None where any is not."""
    route = document.get("route") or {}
    parts = (route.get("origin"), route.get("departure"), route.get("destination"))
    if any(not p or p == "??" for p in parts):
        return None
    return cast(tuple[str, str, str], parts)


def same_place(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """No port both reports carry differs, and the seizing office (UN/LOCODE) is the same where
    both carry one, unless they share a port (the departure and the destination member report
    one seizure from their own offices)."""
    route_a, route_b = a.get("route") or {}, b.get("route") or {}
    shared = [
        (route_a[p], route_b[p])
        for p in ("departure_port", "arrival_port")
        if route_a.get(p) and route_b.get(p)
    ]
    if any(x != y for x, y in shared):
        return False
    office_a = (a.get("office") or {}).get("locode")
    office_b = (b.get("office") or {}).get("locode")
    return not (office_a and office_b and office_a != office_b) or bool(shared)


def may_be_one_seizure(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two reports are a candidate duplicate: different reporting administrations, the
    same seizure date, commodity type, transport mode and normalised unit, the same route with
    no unknown part, quantities within :data:`QUANTITY_TOLERANCE` of the larger, and
    :func:`same_place`. One administration's reports are never candidates."""
    if a["reporting_administration"] == b["reporting_administration"]:
        return False
    if seizure_key(a) != seizure_key(b):
        return False
    route = known_route(a)
    if route is None or route != known_route(b):
        return False
    _, x = normalised(a["quantity"])
    _, y = normalised(b["quantity"])
    if abs(x - y) > QUANTITY_TOLERANCE * max(x, y):
        return False
    return same_place(a, b)


def same_report(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """The same administration's report (its own ``report_id``), e.g. forwarded by a member and
    sent by its reporter too."""
    return bool(
        a["reporting_administration"] == b["reporting_administration"]
        and a["report_id"] == b["report_id"]
    )


@dataclass
class _Held:
    """A report held and not withdrawn, as the matching of a later one sees it."""

    id: int
    document: Mapping[str, Any]
    duplicate_of: int | None


def match(document: Mapping[str, Any], earlier: Sequence[_Held]) -> tuple[int | None, list[int]]:
    """For a new report and the held reports of its match key (oldest first): the counted report
    it is a copy of (or None), and the counted reports it is a candidate duplicate of."""
    for held in earlier:
        if same_report(held.document, document):
            return (held.duplicate_of or held.id), []
    return None, [
        h.id for h in earlier if h.duplicate_of is None and may_be_one_seizure(h.document, document)
    ]


def rollup_rows(documents: Iterable[Mapping[str, Any]], sign: int = 1) -> list[dict[str, Any]]:
    """The rollup rows (cells) the reports add (``sign`` +1) or remove (-1)."""
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
    return [
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


def rederive(connection: Any, *, now: datetime) -> None:
    """Every held report's match key, copy-of and candidates recomputed under the counting rule,
    and the rollups recomputed from the reports counted (migration 0012). Withdrawn reports keep
    no candidates and are not counted."""
    rows = connection.execute(
        select(HUB_REPORT.c.id, HUB_REPORT.c.document, HUB_REPORT.c.withdrawn_at).order_by(
            HUB_REPORT.c.id
        )
    ).all()
    by_key: dict[str, list[_Held]] = defaultdict(list)
    candidates, counted = [], []
    for row_id, document, withdrawn_at in rows:
        key = seizure_key(document)
        copy_of, originals = match(document, by_key[key])
        connection.execute(
            update(HUB_REPORT)
            .where(HUB_REPORT.c.id == row_id)
            .values(seizure_key=key, duplicate_of=copy_of)
        )
        if withdrawn_at is not None:
            continue
        by_key[key].append(_Held(row_id, document, copy_of))
        if copy_of is None:
            counted.append(document)
            candidates += [
                {"report": row_id, "original": o, "state": "open", "found_at": now}
                for o in originals
            ]
    _write_rollups(connection, counted)
    if candidates:
        connection.execute(insert(HUB_CANDIDATE), candidates)


def rebuild_rollups(connection: Any) -> None:
    """The rollups recomputed from the reports counted (neither a copy nor withdrawn), with
    every dimension :func:`cells_of_report` gives today (migration 0015: the analysts' new
    tables over the reports held before them)."""
    counted = (
        connection.execute(
            select(HUB_REPORT.c.document)
            .where(HUB_REPORT.c.duplicate_of.is_(None), HUB_REPORT.c.withdrawn_at.is_(None))
            .order_by(HUB_REPORT.c.id)
        )
        .scalars()
        .all()
    )
    _write_rollups(connection, counted)


def _write_rollups(connection: Any, counted: Iterable[Mapping[str, Any]]) -> None:
    connection.execute(HUB_ROLLUP.delete())
    cells = rollup_rows(counted)
    for start in range(0, len(cells), 10_000):
        connection.execute(insert(HUB_ROLLUP), cells[start : start + 10_000])


def cells_over(session: Session, months: Sequence[int]) -> dict[str, dict[str, Cell]]:
    """dimension -> value -> Cell over ``months``, from the rollups: the database sums each
    member's share of each cell, the cells are put together here."""
    query = (
        select(
            HubRollup.dimension,
            HubRollup.value,
            HubRollup.member,
            func.sum(HubRollup.cases),
            *(func.sum(getattr(HubRollup, q)) for q in QUANTITIES),
        )
        .where(HubRollup.month.in_(list(months)))
        .group_by(HubRollup.dimension, HubRollup.value, HubRollup.member)
        .having(func.sum(HubRollup.cases) > 0)
    )
    cells: dict[str, dict[str, Cell]] = defaultdict(dict)
    for dimension, value, member, cases, *quantities in session.execute(query):
        cell = cells[dimension].get(value)
        if cell is None:
            cell = cells[dimension][value] = Cell()
        cell.cases += int(cases)
        cell.by_member[member] = int(cases)
        for name, amount in zip(QUANTITIES, quantities, strict=True):
            cell.quantities[name] += float(amount)
    for table in cells.values():
        for cell in table.values():
            cell.by_member = dict(sorted(cell.by_member.items()))
            cell.members = len(cell.by_member)
    return cells


def cases_over(session: Session, months: Sequence[int]) -> dict[str, dict[str, Cell]]:
    """dimension -> value -> Cell with its seizures only, over ``months``: what a report needs
    of the periods it compares with (a third of the rows :func:`cells_over` reads and builds)."""
    query = (
        select(HubRollup.dimension, HubRollup.value, func.sum(HubRollup.cases))
        .where(HubRollup.month.in_(list(months)))
        .group_by(HubRollup.dimension, HubRollup.value)
        .having(func.sum(HubRollup.cases) > 0)
    )
    cells: dict[str, dict[str, Cell]] = defaultdict(dict)
    for dimension, value, cases in session.execute(query):
        cells[dimension][value] = Cell(cases=int(cases))
    return cells


def pairs_before(session: Session, period: Period) -> set[str]:
    """The commodity-route pairs with a seizure in the four periods before ``period``."""
    return set(
        session.execute(
            select(HubRollup.value)
            .where(
                HubRollup.month.in_(sorted(period.months_before)),
                HubRollup.dimension == "commodity-route",
                HubRollup.cases > 0,
            )
            .distinct()
        ).scalars()
    )


def open_candidates_of(session: Session, period: Period) -> int:
    """The period's candidate duplicates no analyst has decided (by the later report's month)."""
    found = session.scalar(
        select(func.count())
        .select_from(HubDuplicateCandidate)
        .join(HubReport, HubReport.id == HubDuplicateCandidate.report)
        .where(
            HubDuplicateCandidate.state == "open",
            HubReport.month.in_(list(period.months)),
        )
    )
    return int(found or 0)


@dataclass(frozen=True)
class Ingested:
    accepted: int
    #: Copies of a report already held (the same administration's report id).
    duplicates: int
    already_held: int
    #: Candidate duplicates found (counted as distinct seizures until an analyst confirms).
    candidates: int = 0


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
        fresh: list[Mapping[str, Any]] = []  # not held, once each (the first of a report_id)
        for document in reports:
            if document["report_id"] not in held:
                held.add(document["report_id"])
                fresh.append(document)
        by_key = self._held_for(session, fresh, dialect)
        rows = []
        for document in fresh:
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
                    "seizure_key": seizure_key(document),
                    "duplicate_of": None,
                    "document": dict(document),
                    "received_at": now,
                }
            )
        row_ids: list[int] = []
        if rows:  # Core: no ORM bookkeeping; the ids in the order of the rows
            row_ids = list(
                session.execute(
                    insert(HUB_REPORT).returning(HUB_REPORT.c.id, sort_by_parameter_order=True),
                    rows,
                ).scalars()
            )
        counted, copies, candidates = [], [], []
        for row_id, document in zip(row_ids, fresh, strict=True):
            key = seizure_key(document)
            copy_of, originals = match(document, by_key[key])
            by_key[key].append(_Held(row_id, document, copy_of))
            if copy_of is not None:
                copies.append({"row_id": row_id, "copy_of": copy_of})
                continue
            counted.append(document)
            candidates += [
                {"report": row_id, "original": o, "state": "open", "found_at": now}
                for o in originals
            ]
        if copies:
            session.execute(
                update(HUB_REPORT)
                .where(HUB_REPORT.c.id == bindparam("row_id"))
                .values(duplicate_of=bindparam("copy_of")),
                copies,
                execution_options={"synchronize_session": False},
            )
        if candidates:
            session.execute(insert(HUB_CANDIDATE), candidates)
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
                    "candidates": len(candidates),
                    "already_held": len(reports) - len(rows),
                },
            ),
        )
        return Ingested(
            len(rows), len(rows) - len(counted), len(reports) - len(rows), len(candidates)
        )

    @staticmethod
    def _held_for(
        session: Session, fresh: Sequence[Mapping[str, Any]], dialect: str
    ) -> dict[str, list[_Held]]:
        """The held reports (not withdrawn, oldest first, by match key) that :func:`match` could
        take for any of ``fresh``: the same report, or one of the same key and fully known
        route. Only those documents are read: a key (a day, a commodity, a mode, a unit) holds
        more and more reports as the hub fills, and reading every one of them made ingest
        slow down with the size of the hub."""
        same: dict[str, set[tuple[str, str]]] = defaultdict(set)
        routes: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        for document in fresh:
            key = seizure_key(document)
            same[key].add((document["reporting_administration"], document["report_id"]))
            route = known_route(document)
            if route is not None:
                routes[key].add(route)
        rows = session.execute(
            select(
                HubReport.id,
                HubReport.seizure_key,
                HubReport.reported_by,
                HubReport.report_id,
                HubReport.origin,
                HubReport.departure,
                HubReport.destination,
                HubReport.duplicate_of,
            ).where(
                one_of(HubReport.seizure_key, set(same), dialect=dialect),
                HubReport.withdrawn_at.is_(None),
            )
        )
        wanted = []
        for row_id, key, reported_by, report_id, origin, departure, destination, copy_of in rows:
            if (reported_by, report_id) in same[key] or (
                copy_of is None and (origin, departure, destination) in routes[key]
            ):
                wanted.append((row_id, key, copy_of))
        by_key: dict[str, list[_Held]] = defaultdict(list)
        if not wanted:
            return by_key
        documents: dict[int, Mapping[str, Any]] = dict(
            session.execute(
                select(HubReport.id, HubReport.document).where(
                    one_of(HubReport.id, [w[0] for w in wanted], dialect=dialect)
                )
            ).all()
        )
        for row_id, key, duplicate_of in sorted(wanted):
            by_key[key].append(_Held(row_id, documents[row_id], duplicate_of))
        return by_key

    def _roll(self, session: Session, documents: Iterable[Mapping[str, Any]], sign: int) -> None:
        """Add (``sign`` +1) or remove (-1) reports from the rollups, one upsert per cell."""
        values = rollup_rows(documents, sign)
        if not values:
            return
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
        gone = [r.id for r in found]
        if gone:
            for column in (HubDuplicateCandidate.report, HubDuplicateCandidate.original):
                session.execute(
                    update(HubDuplicateCandidate)
                    .where(column.in_(gone), HubDuplicateCandidate.state == "open")
                    .values(state="withdrawn", decided_at=now, decided_by="system:withdrawal")
                )
        return len(found)

    # --- candidate duplicates (RILO analysts) -------------------------------------------------

    def candidates(self, *, only_open: bool = False, limit: int = 500) -> list[dict[str, Any]]:
        """Candidate duplicates, newest first, with both reports as the hub holds them."""
        with self._db.transaction() as session:
            query = select(HubDuplicateCandidate).order_by(HubDuplicateCandidate.id.desc())
            if only_open:
                query = query.where(HubDuplicateCandidate.state == "open")
            found = session.execute(query.limit(limit)).scalars().all()
            ids = {c.report for c in found} | {c.original for c in found}
            reports = {
                r.id: r
                for r in session.execute(
                    select(HubReport).where(HubReport.id.in_(sorted(ids)))
                ).scalars()
            }

            def side(row_id: int) -> dict[str, Any]:
                r = reports[row_id]
                _, amount = normalised(r.document["quantity"])
                return {
                    "member": r.member,
                    "reported_by": r.reported_by,
                    "report_id": r.report_id,
                    "seizure_date": r.seizure_date.isoformat(),
                    "commodity": f"{r.category}/{r.commodity_type}",
                    "route": route_of(r.document),
                    "mode": r.mode,
                    "office": (r.document.get("office") or {}).get("locode"),
                    "amount": amount,
                    "unit": r.unit,
                }

            return [
                {
                    "id": c.id,
                    "state": c.state,
                    "found_at": c.found_at.isoformat(),
                    "decided_at": c.decided_at.isoformat() if c.decided_at else None,
                    "decided_by": c.decided_by,
                    "report": side(c.report),
                    "original": side(c.original),
                }
                for c in found
            ]

    def decide_duplicate(
        self, candidate_id: int, *, confirmed: bool, actor: str, now: datetime
    ) -> str:
        """An analyst's answer on an open candidate. Confirmed: the later report is counted no
        more (it points at the counted report of the seizure); rejected: both stay counted.
        Returns the new state; NotFoundError or StateConflictError (already decided)."""
        with self._db.transaction() as session:
            candidate = session.execute(
                select(HubDuplicateCandidate)
                .where(HubDuplicateCandidate.id == candidate_id)
                .with_for_update()
            ).scalar_one_or_none()
            if candidate is None:
                raise NotFoundError(f"no candidate duplicate {candidate_id}")
            if candidate.state != "open":
                raise StateConflictError(
                    f"candidate duplicate {candidate_id} is {candidate.state}, not open"
                )
            candidate.state = "confirmed" if confirmed else "rejected"
            candidate.decided_at, candidate.decided_by = now, actor
            later = session.execute(
                select(HubReport).where(HubReport.id == candidate.report).with_for_update()
            ).scalar_one()
            if confirmed and later.withdrawn_at is None and later.duplicate_of is None:
                root = session.get(HubReport, candidate.original)
                while root is not None and root.duplicate_of is not None:
                    root = session.get(HubReport, root.duplicate_of)
                if root is not None and root.withdrawn_at is None and root.id != later.id:
                    later.duplicate_of = root.id
                    session.execute(
                        update(HubReport)
                        .where(
                            HubReport.seizure_key == later.seizure_key,
                            HubReport.duplicate_of == later.id,
                        )
                        .values(duplicate_of=root.id)
                    )
                    self._roll(session, [later.document], -1)
            audit_log.append(
                session,
                audit_log.Event(
                    tag=f"analyst:hub-duplicate:{candidate.state}",
                    occurred_at=now,
                    actor=actor,
                    partner=later.member,
                    detail={"candidate": candidate_id, "report_id": later.report_id},
                ),
            )
            return candidate.state

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
        database sums each cell over the months of the period (per member), and the seizures of
        each over the period before and the one a year earlier."""
        with self._db.transaction() as session:
            cells = [cells_over(session, period.months)] + [
                cases_over(session, p.months) for p in (period.shifted(-1), period.year_earlier)
            ]
            seen = pairs_before(session, period)
            open_candidates = open_candidates_of(session, period)
        return report(period, *cells, seen_before=seen, open_candidates=open_candidates)

    def series(
        self, table: str, months: Sequence[int], values: Sequence[str] = (), *, limit: int = 5
    ) -> list[Series]:
        """The monthly series (:mod:`gateway.rilo.series`) of ``values`` of ``table`` over
        ``months``, or of its ``limit`` values with the most seizures over them."""
        if table not in SERIES_TABLES:
            raise DocumentError(f"{table!r} has no series; one of {', '.join(SERIES_TABLES)}")
        if not 1 <= (len(values) or limit) <= MAX_SERIES:
            raise DocumentError(f"from 1 to {MAX_SERIES} series at a time")
        with self._db.transaction() as session:
            chosen = list(values) or top_values(session, table, months, limit)
            return monthly(session, table, chosen, months)

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
