"""The attacker's audit of published trend reports (pure: no I/O, no database).

Given the trend reports one audience receives (the dicts :meth:`gateway.rilo.hub.Hub.trend_report`
returns, for any mix of months, quarters and years), the audit writes down every linear relation
that holds between the published figures, and for every suppressed cell asks a linear programme
(HiGHS, through ``scipy.optimize.linprog(method="highs")``) for the least and the most seizures
the cell can hold while every relation holds. Its feasible interval ``[lo, hi]`` is what an
attacker with the published reports, and nothing else, can know of it. Every relation is true of
the hub's real figures, so the true value always lies in the interval (the tests check this
against a recomputation from the stored reports); the attack is sound, not complete: an attacker
who also reasons on whole numbers and on the suppression rule's "either/or" can do better still.

The measure audited is the number of seizures (``cases``). Counts are whole numbers, relaxed to
real numbers (the LP is continuous); the one place integrality is used is a strict inequality of
the table order (below), written as ``>= 1 more``, which holds for whole numbers.

**Unknowns.** One per month x dimension x value (``y[m, d, v] >= 0``: the seizures of month ``m``
in cell ``v`` of table ``d``) for every month any report covers, and one per month for the
seizures counted that month (``N[m]``). A report's cell is the sum of its months' unknowns; a
value missing from a report's table has no seizure in any of its months (a table lists every
value with at least one seizure, suppressed or not), so those unknowns are zero.

**Relations** (the names are the keys of :attr:`Audit.relations`):

``cell``
    A report's cell = the sum of its months' cells: this ties month, quarter and year (and any
    other periods) together, whichever of them are published.
``shown``
    A shown cell equals its published ``cases``.
``listed``
    A listed cell (shown or suppressed) has at least one seizure.
``order``
    A table is listed by seizures, most first, ties by value: each cell has at least as many as
    the next one, and one more when its value sorts after the next one's. Suppressed cells keep
    their place in the list, so their neighbours bound them.
``partition``
    In every partition table (commodity, category, route, corridor, mode, reporting member,
    commodity x corridor: each seizure in exactly one cell) a month's cells sum to ``N[m]``.
``total``
    A report's months' ``N[m]`` sum to its ``total_cases``; also its ``total_cases_previous`` and
    ``total_cases_year_earlier``, where every month of those periods is covered by the set.
``multi``
    A seizure has one to nine detection methods and up to ten concealment methods: a month's
    detection cells sum to at least ``N[m]``; each detection or concealment cell is at most
    ``N[m]``.
``category``
    A month's category cell = the sum of its commodities (``category/type``).
``commodity-corridor``
    A month's corridor cell = the sum of its commodity x corridor cells (``type|origin>dest``);
    the commodities of a type (over categories) sum to that type's commodity x corridor cells.
``route``
    A month's corridor cell (``origin>destination``) = the sum of its routes
    (``origin>departure>…>destination``).
``new-pair``
    A commodity x corridor pair listed as new had no seizure in the four periods before.

Values are cut to 200 characters in the rollups: where any commodity, route or commodity x
corridor value is that long, the relations that parse it are left out (the audit stays sound).

Not used: the changes (shown only between two shown cells, they add nothing to what both reports
say), the reporting-member counts and the suppression rule itself (not linear: either too few
seizures or too few members), and the quantities (kg, litres, tablets, pieces), which follow the
same sums but are not audited here.

**Verdict.** A suppressed cell is disclosed when its interval is narrower than the required
protection: ``hi - lo < max(protection, relative * reference)`` (``reference``: the true value
when the auditor is given it, else ``hi``), or ``lo == hi``. The default, ``protection = 1`` and
``relative = 0``, calls disclosed a cell the attacker can narrow to less than one seizure's width:
with whole numbers, one value at most.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from gateway.rilo.trends import PARTITIONS, Period

#: Measured in whole seizures; an interval narrower than this is a disclosure by default.
DEFAULT_PROTECTION = 1.0
#: Values as long as this may have been cut in the rollups (gateway.rilo.hub._roll).
CUT_AT = 200
#: Slack for the solver's tolerances when comparing bounds.
EPSILON = 1e-6

CellKey = tuple[str, str, str]  # period, table, value


@dataclass(frozen=True)
class Finding:
    """One suppressed cell: what the attacker can know of its seizures."""

    period: str
    table: str
    label: str
    lo: float
    hi: float
    true_value: float | None
    required: float
    disclosed: bool

    @property
    def width(self) -> float:
        return self.hi - self.lo

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "table": self.table,
            "label": self.label,
            "interval": [round(self.lo, 6), round(self.hi, 6)],
            "true_value": self.true_value,
            "required_width": self.required,
            "verdict": "disclosed" if self.disclosed else "protected",
        }


@dataclass(frozen=True)
class Audit:
    findings: tuple[Finding, ...]
    #: relation name -> how many constraints of it were written
    relations: Mapping[str, int]
    protection: float
    relative: float

    @property
    def disclosed(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.disclosed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suppressed": len(self.findings),
            "disclosed": len(self.disclosed),
            "protection": self.protection,
            "relative": self.relative,
            "relations": dict(self.relations),
            "cells": [f.as_dict() for f in self.findings],
        }


@dataclass
class _Programme:
    """Unknowns and rows of the LP, built up relation by relation."""

    index: dict[Any, int] = field(default_factory=dict)
    eq: list[tuple[dict[int, float], float]] = field(default_factory=list)
    ub: list[tuple[dict[int, float], float]] = field(default_factory=list)  # row . z <= b
    counts: Counter[str] = field(default_factory=Counter)
    _built: tuple[Any, Any, Any, Any] | None = None

    def var(self, key: Any) -> int:
        return self.index.setdefault(key, len(self.index))

    def equal(self, relation: str, terms: Mapping[int, float], value: float) -> None:
        self.eq.append((dict(terms), value))
        self.counts[relation] += 1

    def at_most(self, relation: str, terms: Mapping[int, float], value: float) -> None:
        self.ub.append((dict(terms), value))
        self.counts[relation] += 1

    @staticmethod
    def _matrix(rows: list[tuple[dict[int, float], float]], width: int) -> tuple[Any, Any]:
        if not rows:
            return None, None
        r, c, v = [], [], []
        for i, (terms, _) in enumerate(rows):
            for j, coefficient in terms.items():
                if coefficient:
                    r.append(i)
                    c.append(j)
                    v.append(coefficient)
        matrix = coo_matrix((v, (r, c)), shape=(len(rows), width)).tocsr()
        return matrix, np.array([b for _, b in rows], dtype=float)

    def bounds(self, objective: Mapping[int, float]) -> tuple[float, float]:
        """The least and the most of ``objective . z`` over the feasible set."""
        width = len(self.index)
        if self._built is None:
            self._built = (*self._matrix(self.eq, width), *self._matrix(self.ub, width))
        a_eq, b_eq, a_ub, b_ub = self._built
        found = []
        for sign in (1.0, -1.0):
            c = np.zeros(width)
            for j, coefficient in objective.items():
                c[j] = sign * coefficient
            result = linprog(
                c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs"
            )
            if result.status == 2:
                raise ValueError("the published reports contradict each other (infeasible LP)")
            if result.status == 3:
                found.append(sign * np.inf)
                continue
            if result.status != 0:
                raise RuntimeError(f"HiGHS did not solve the audit's LP: {result.message}")
            found.append(sign * float(result.fun))
        return found[0], found[1]


def _add(terms: dict[int, float], more: Mapping[int, float], factor: float = 1.0) -> None:
    for j, coefficient in more.items():
        terms[j] = terms.get(j, 0.0) + factor * coefficient


def audit(
    reports: Iterable[Mapping[str, Any]],
    *,
    protection: float = DEFAULT_PROTECTION,
    relative: float = 0.0,
    truth: Mapping[CellKey, float] | None = None,
) -> Audit:
    """Attack ``reports`` (one audience's published trend reports) and judge every suppressed
    cell. ``truth``, when given, maps (period, table, value) to the cell's real seizures: it is
    shown beside each interval and used as the reference of ``relative``."""
    published = {r["period"]: r for r in reports}
    periods = {label: Period.parse(label) for label in published}
    months = sorted({m for p in periods.values() for m in p.months})
    covering: dict[int, list[str]] = defaultdict(list)
    for label, period in periods.items():
        for m in period.months:
            covering[m].append(label)
    listed: dict[str, dict[str, set[str]]] = {
        label: {d: {e["value"] for e in table} for d, table in r["tables"].items()}
        for label, r in published.items()
    }
    dimensions = sorted({d for r in published.values() for d in r["tables"]})
    zero: set[tuple[int, str, str]] = set()
    for label, r in published.items():  # new pairs: nothing in the four periods before
        before = {m for i in range(1, 5) for m in periods[label].shifted(-i).months}
        for entry in r.get("new_commodity_routes", ()):
            zero.update((m, "commodity-route", entry["value"]) for m in before)

    lp = _Programme()
    # y[m, d, v] exists where every report covering m lists v in table d
    cells_of_month: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for m in months:
        for d in dimensions:
            values = set.intersection(*(listed[p].get(d, set()) for p in covering[m]))
            for v in sorted(values):
                if (m, d, v) not in zero:
                    cells_of_month[(m, d)][v] = lp.var(("y", m, d, v))
    count = {m: lp.var(("N", m)) for m in months}

    def expression(period: str, d: str, v: str) -> dict[int, float]:
        terms = {}
        for m in periods[period].months:
            j = cells_of_month[(m, d)].get(v)
            if j is not None:
                terms[j] = 1.0
        return terms

    suppressed: list[CellKey] = []
    for label, r in sorted(published.items()):
        for d, table in r["tables"].items():
            previous: tuple[dict[int, float], str] | None = None
            for entry in table:
                terms = expression(label, d, entry["value"])
                if not terms:
                    raise ValueError(f"{label} {d} {entry['value']!r}: listed but never possible")
                lp.counts["cell"] += 1
                if entry["suppressed"]:
                    suppressed.append((label, d, entry["value"]))
                else:
                    lp.equal("shown", terms, float(entry["cases"]))
                lp.at_most("listed", {j: -c for j, c in terms.items()}, -1.0)
                if previous is not None:
                    # next - previous <= 0, or <= -1 where the previous value sorts after
                    row = dict(terms)
                    _add(row, previous[0], -1.0)
                    lp.at_most("order", row, -1.0 if previous[1] > entry["value"] else 0.0)
                previous = (terms, entry["value"])
        lp.equal("total", {count[m]: 1.0 for m in periods[label].months}, float(r["total_cases"]))
        for name, other in (
            ("total_cases_previous", periods[label].shifted(-1)),
            ("total_cases_year_earlier", periods[label].year_earlier),
        ):
            if name in r and all(m in count for m in other.months):
                lp.equal("total", {count[m]: 1.0 for m in other.months}, float(r[name]))

    labels = {d: {v for p in listed.values() for v in p.get(d, ())} for d in dimensions}
    present = set(dimensions)
    long = {d for d, vs in labels.items() if any(len(v) >= CUT_AT for v in vs)}
    for m in months:
        n = count[m]
        for d in dimensions:
            cells = cells_of_month[(m, d)]
            if d in PARTITIONS:
                lp.equal("partition", {**{j: 1.0 for j in cells.values()}, n: -1.0}, 0.0)
            elif d in ("detection", "concealment"):
                for j in cells.values():
                    lp.at_most("multi", {j: 1.0, n: -1.0}, 0.0)
                if d == "detection":
                    lp.at_most("multi", {**{j: -1.0 for j in cells.values()}, n: 1.0}, 0.0)
        commodity = cells_of_month[(m, "commodity")]
        pairs = cells_of_month[(m, "commodity-route")]
        corridors = cells_of_month[(m, "corridor")]
        if {"commodity", "category"} <= present and not long & {"commodity", "category"}:
            by_category: dict[str, list[int]] = defaultdict(list)
            for v, j in commodity.items():
                by_category[v.split("/", 1)[0]].append(j)
            for c in labels.get("category", set()) | set(by_category):
                row = {j: 1.0 for j in by_category.get(c, [])}
                k = cells_of_month[(m, "category")].get(c)
                if k is not None:
                    row[k] = -1.0
                if row:
                    lp.equal("category", row, 0.0)
        trio = {"commodity", "commodity-route", "corridor"}
        if trio <= present and not long & trio:
            by_corridor: dict[str, dict[int, float]] = defaultdict(dict)
            by_type: dict[str, dict[int, float]] = defaultdict(dict)
            for v, j in pairs.items():
                kind, corridor = v.rsplit("|", 1)
                by_corridor[corridor][j] = 1.0
                by_type[kind][j] = 1.0
            for v, j in commodity.items():
                by_type[v.split("/", 1)[1]][j] = -1.0
            for v, j in corridors.items():
                by_corridor[v][j] = -1.0
            for row in (*by_corridor.values(), *by_type.values()):
                lp.equal("commodity-corridor", row, 0.0)
        if {"route", "corridor"} <= present and not long & {"route", "corridor"}:
            by_ends: dict[str, dict[int, float]] = defaultdict(dict)
            for v, j in cells_of_month[(m, "route")].items():
                chain = v.split(">")
                by_ends[f"{chain[0]}>{chain[-1]}"][j] = 1.0
            for v, j in corridors.items():
                by_ends[v][j] = -1.0
            for row in by_ends.values():
                lp.equal("route", row, 0.0)
    if zero:
        lp.counts["new-pair"] += len(zero)

    findings = []
    solved: dict[frozenset[int], tuple[float, float]] = {}  # a quarter's cell seen in one month
    for cell in suppressed:
        objective = expression(*cell)
        same = frozenset(objective)
        if same not in solved:
            solved[same] = lp.bounds(objective)
        lo, hi = solved[same]
        true_value = None if truth is None else truth.get(cell)
        reference = true_value if true_value is not None else hi
        required = max(protection, relative * reference)
        disclosed = hi - lo < required - EPSILON or abs(hi - lo) <= EPSILON
        findings.append(Finding(*cell, lo, hi, true_value, required, disclosed))
    return Audit(tuple(findings), dict(lp.counts), protection, relative)


def periods_between(first: str, last: str) -> list[Period]:
    """Every month, quarter and year that lies wholly within ``first`` … ``last`` (``YYYY-MM``),
    in that order."""
    start, end = Period.parse(first), Period.parse(last)
    if len(start.months) != 1 or len(end.months) != 1:
        raise ValueError("the range is given in months (YYYY-MM)")
    lo, hi = start.months[0], end.months[0]
    if lo > hi:
        raise ValueError(f"{first} is after {last}")
    found: list[Period] = []
    for step in (1, 3, 12):
        year = lo // 100
        while year <= hi // 100:
            for first_month in range(1, 13, step):
                label = (
                    f"{year}-{first_month:02d}"
                    if step == 1
                    else f"{year}-Q{(first_month - 1) // 3 + 1}"
                    if step == 3
                    else str(year)
                )
                period = Period.parse(label)
                if lo <= period.months[0] and period.months[-1] <= hi:
                    found.append(period)
                if step == 12:
                    break
            year += 1
    return found


def describe(findings: Sequence[Finding]) -> list[str]:
    """One line per cell: period, table, value, interval (and the truth where known)."""
    lines = []
    for f in findings:
        line = f"{f.period}\t{f.table}\t{f.label}\t[{f.lo:g}, {f.hi:g}]"
        if f.true_value is not None:
            line += f"\ttrue {f.true_value:g}"
        lines.append(line)
    return lines
