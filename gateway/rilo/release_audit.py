"""The attacker's audit of published trend reports (pure: no I/O, no database).

Given the trend reports one audience receives (the releases of the ledger,
:mod:`gateway.rilo.releases`, or any report of the same shape, for any mix of months, quarters
and years), the audit writes down every linear relation that holds between the published
figures, and for every suppressed cell asks a linear programme (HiGHS, through ``highspy``,
:mod:`gateway.rilo.programme`: the model is passed once and each bound re-solved from the last
basis) for the least and the most
seizures the cell can hold while every relation holds. Its feasible interval ``[lo, hi]`` is what an
attacker with the published reports, and nothing else, can know of it. Every relation is true of
the hub's real figures, so the true value always lies in the interval (the tests check this
against a recomputation from the stored reports); the attack is sound, not complete: an attacker
who also reasons on whole numbers and on the suppression rule's "either/or" can do better still.

The measure audited is the number of seizures (``cases``), or one of the quantities (``kg``,
``litres``, ``tablets``, ``pieces``: ``Attack(reports, measure=...)``). Counts are whole numbers,
relaxed to real numbers (the LP is continuous); the one place integrality is used is a strict
inequality of the table order (below), written as ``>= 1 more``, which holds for whole numbers.
A quantity follows the same sums and links, but only these relations hold of it: ``cell``,
``shown`` (within the rounding of the published amount, 0.0005), ``partition`` (to the month's
unpublished total), ``multi``, the links and ``new-pair``; the order, the listing, the withheld
counts and the totals are of seizures.

**Unknowns.** One per month x dimension x value (``y[m, d, v] >= 0``: the seizures of month ``m``
in cell ``v`` of table ``d``) for every month any report covers, and one per month for the
seizures counted that month (``N[m]``). A month is taken at the revision each report gives for
it (``revisions``, 0 where absent): two revisions of one month are different unknowns. A
report's cell is the sum of its months' unknowns. A value missing from a report's table has no
seizure in any of its months, unless the table withholds labels (``withheld``: how many cells
it does not list); a month every covering report withholds labels of has one more unknown, the
*pool* of values never named anywhere. A report without a table says nothing of it.

**Relations** (the names are the keys of :attr:`Audit.relations`):

``cell``
    A report's cell = the sum of its months' cells: this ties month, quarter and year (and any
    other periods) together, whichever of them are published.
``shown``
    A shown cell equals its published ``cases``.
``listed``
    A listed cell (shown or suppressed) has at least one seizure.
``order``
    Where a report's ``order`` is ``cases`` (or absent), its tables are listed by seizures, most
    first, ties by value: each cell has at least as many as the next one, and one more when its
    value sorts after the next one's. Suppressed cells keep their place in the list, so their
    neighbours bound them. (Releases list suppressed cells after the shown ones, by label:
    ``shown-by-cases``, no relation.)
``withheld``
    A report's values not listed in a table that withholds ``k`` labels, with its pool, hold at
    least ``k`` seizures.
``partition``
    In every partition table (commodity, category, route, corridor, mode, reporting member,
    commodity x corridor: each seizure in exactly one cell) a month's cells sum to ``N[m]``.
``total``
    A report's months' ``N[m]`` sum to its ``total_cases``; also its ``total_cases_previous`` and
    ``total_cases_year_earlier``, where every month of those periods is covered by the set
    (not for a release of the ledger: it quotes the audience's own earlier releases).
``multi``
    A seizure has one to nine detection methods and up to ten concealment methods: a month's
    detection cells sum to at least ``N[m]``; each detection or concealment cell is at most
    ``N[m]``.
``category``
    A month's category cell = the sum of its commodities (``category/type``).
``commodity-corridor``
    A month's corridor cell = the sum of its commodity x corridor cells (``type|origin>dest``).
``commodity-type``
    The commodities of a type (over categories) sum to that type's commodity x corridor cells.
``route``
    A month's corridor cell (``origin>destination``) = the sum of its routes
    (``origin>departure>…>destination``).

In each of these four links, where a table has a pool, a share of it goes to each group (but
where a table's values are their own groups, as categories and corridors are, a value never
named is in no named value's group), and what no named group takes balances between the two
tables.
``new-pair``
    A commodity x corridor pair listed as new had no seizure in the four periods before (not
    for a release of the ledger: there "new" means no earlier release to the audience listed
    it, which the audience can see for itself).

Values are cut to 200 characters in the rollups: where any commodity, route or commodity x
corridor value is that long, the relations that parse it are left out (the audit stays sound).

Not used: the changes (shown only between two shown cells, they add nothing to what both reports
say), the reporting-member counts, the suppression rule itself (not linear: either too few
seizures or too few members), and any tie between a cell's seizures and its quantities (an
amount per seizure has no bound the attacker knows).

**Verdict.** Without the truth, every suppressed cell is judged. With it (the hub's ledger),
only the sensitive cells it names, suppressed or withheld: a withheld cell is disclosed only
where the attacker can also tell it is there (``lo >= 1``; of a quantity, ``lo`` beyond the
rounding, 0.005). A suppressed cell is disclosed when
its interval is narrower than the required
protection: ``hi - lo < max(protection, relative * reference)`` (``reference``: the true value
when the auditor is given it, else ``hi``), or ``lo == hi``. The default, ``protection = 1`` and
``relative = 0``, calls disclosed a cell the attacker can narrow to less than one seizure's width:
with whole numbers, one value at most. The hub judges quantities with ``protection = 0`` and
``relative`` = the p of its dominance rule: an amount must stay uncertain by p% of itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.rilo.programme import EPSILON, CellKey, Programme, Reach
from gateway.rilo.trends import PARTITIONS, QUANTITIES, Period, month_label

#: Measured in whole seizures; an interval narrower than this is a disclosure by default.
DEFAULT_PROTECTION = 1.0
#: Values as long as this may have been cut in the rollups (gateway.rilo.hub._roll).
CUT_AT = 200
#: Quantities are published rounded to three decimals: a shown amount is exact within this.
ROUNDING = 0.0005

MonthKey = tuple[int, int]  # month (yyyymm), revision of its figures


def release_key(report: Mapping[str, Any]) -> str:
    """How the audit names a report: its period, or ``period#id`` for a release of the ledger
    (one audience may hold several releases of one period, each of its own data)."""
    release = report.get("release")
    return f"{report['period']}#{release['id']}" if release else str(report["period"])


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
    #: the cell's label is not published in that release (a rare value), only its count
    withheld: bool = False
    #: the release the cell is in (:func:`release_key`)
    release: str = ""
    #: the shown cells (release, table, value) whose published figures bound it (from the
    #: LP's duals; filled when asked for, for choosing complementary suppressions)
    support: tuple[CellKey, ...] = ()
    #: the listed cells whose labels bound it (a listed label says "at least one seizure";
    #: from the duals too): what withholding a label would loosen
    named: tuple[CellKey, ...] = ()
    #: what the interval is of: ``cases`` (seizures) or a quantity's unit
    measure: str = "cases"

    @property
    def width(self) -> float:
        return self.hi - self.lo

    @property
    def interval(self) -> str:
        """``[lo, hi]``, with the unit of a quantity."""
        unit = "" if self.measure == "cases" else f" {self.measure}"
        return f"[{self.lo:g}, {self.hi:g}]{unit}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "table": self.table,
            "label": self.label,
            "interval": [round(self.lo, 6), round(self.hi, 6)],
            "true_value": self.true_value,
            "required_width": self.required,
            "verdict": "disclosed" if self.disclosed else "protected",
            "withheld": self.withheld,
            "measure": self.measure,
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


def _add(terms: dict[int, float], more: Mapping[int, float], factor: float = 1.0) -> None:
    for j, coefficient in more.items():
        terms[j] = terms.get(j, 0.0) + factor * coefficient


def audit(
    reports: Iterable[Mapping[str, Any]],
    *,
    protection: float = DEFAULT_PROTECTION,
    relative: float = 0.0,
    truth: Mapping[CellKey, float] | None = None,
    measure: str = "cases",
) -> Audit:
    """Attack ``reports`` (everything one audience holds) and judge every suppressed cell; or,
    where ``truth`` is given, the sensitive cells it names (suppressed, or withheld where the
    attacker can name them; complements suppressed only to protect them are not judged).
    ``truth`` maps (release, table, value) to the cell's real seizures: it is shown beside each
    interval and used as the reference of ``relative``."""
    return Attack(list(reports), measure).judge(
        protection=protection, relative=relative, truth=truth
    )


class Attack:
    """The linear programme of one set of published reports (see the module's docstring)."""

    def __init__(self, reports: Sequence[Mapping[str, Any]], measure: str = "cases") -> None:
        if measure != "cases" and measure not in QUANTITIES:
            raise ValueError(f"{measure!r} is not a measure of the reports")
        self.measure = measure
        #: the least a cell must hold for the attacker to know it is there: one seizure, or an
        #: amount beyond the rounding of published quantities
        self.evidence = 1.0 if measure == "cases" else 10 * ROUNDING
        published: dict[str, Mapping[str, Any]] = {}
        for r in reports:
            published[release_key(r)] = r
        self.published = published
        self.periods = {key: Period.parse(r["period"]) for key, r in published.items()}
        self.lp = Programme()
        self._build()

    # --- unknowns ---------------------------------------------------------------------------

    def _version(self, key: str, month: int) -> MonthKey:
        """Month ``month`` as release ``key`` saw it: (month, revision)."""
        revisions = self.published[key].get("revisions") or {}
        return month, int(revisions.get(month_label(month), 0))

    def _build(self) -> None:
        lp, published = self.lp, self.published
        self.listed = {
            key: {d: {e["value"] for e in table} for d, table in r["tables"].items()}
            for key, r in published.items()
        }
        self.withholds = {
            key: {d: int(k) for d, k in (r.get("withheld") or {}).items() if int(k) > 0}
            for key, r in published.items()
        }
        self.dimensions = sorted({d for r in published.values() for d in r["tables"]})
        self.labels = {
            d: {v for listed in self.listed.values() for v in listed.get(d, ())}
            for d in self.dimensions
        }
        covering: dict[MonthKey, list[str]] = defaultdict(list)
        for key, period in self.periods.items():
            for m in period.months:
                covering[self._version(key, m)].append(key)
        self.covering = covering
        zero: set[tuple[MonthKey, str, str]] = set()
        for key, r in published.items():  # new pairs: nothing in the four periods before
            if _restates(r):
                continue
            before = self.periods[key].months_before
            for entry in r.get("new_commodity_routes", ()):
                zero.update(
                    (self._version(key, m), "commodity-route", entry["value"]) for m in before
                )
        self.cells: dict[tuple[MonthKey, str], dict[str, int]] = defaultdict(dict)
        self.pool: dict[tuple[MonthKey, str], int] = {}
        self.present: set[tuple[MonthKey, str]] = set()
        for mk in sorted(covering):
            for d in self.dimensions:
                holders = [k for k in covering[mk] if d in self.listed[k]]
                if not holders:
                    continue  # no report of this month has the table: it says nothing of it
                self.present.add((mk, d))
                for v in sorted(self.labels[d]):
                    if (mk, d, v) in zero:
                        continue
                    if all(v in self.listed[k][d] or d in self.withholds[k] for k in holders):
                        self.cells[(mk, d)][v] = lp.var(("y", mk, d, v))
                if all(d in self.withholds[k] for k in holders):
                    # values never named anywhere: one unknown for all of them
                    self.pool[(mk, d)] = lp.var(("u", mk, d))
        self.count = {mk: lp.var(("N", mk)) for mk in covering}
        if zero:
            lp.counts["new-pair"] += len(zero)
        self._published_relations()
        self._month_relations()

    def expression(self, key: str, d: str, v: str) -> dict[int, float]:
        terms = {}
        for m in self.periods[key].months:
            j = self.cells[(self._version(key, m), d)].get(v)
            if j is not None:
                terms[j] = 1.0
        return terms

    # --- relations ----------------------------------------------------------------------------

    def _published_relations(self) -> None:
        lp = self.lp
        counting = self.measure == "cases"
        self.suppressed: list[tuple[str, str, str]] = []
        for key, r in sorted(self.published.items()):
            by_cases = counting and r.get("order", "cases") == "cases"
            for d, table in r["tables"].items():
                previous: tuple[dict[int, float], str] | None = None
                for entry in table:
                    terms = self.expression(key, d, entry["value"])
                    if not terms:
                        raise ValueError(f"{key} {d} {entry['value']!r}: listed but never possible")
                    lp.counts["cell"] += 1
                    if entry["suppressed"]:
                        self.suppressed.append((key, d, entry["value"]))
                    elif counting:
                        lp.shown(key, d, entry["value"], terms, float(entry["cases"]))
                    else:  # published rounded to three decimals
                        amount = float(entry.get(self.measure, 0.0))
                        lp.shown(key, d, entry["value"], terms, amount, ROUNDING)
                    if counting:
                        lp.listed(key, d, entry["value"], terms)
                    if by_cases and previous is not None:
                        # next - previous <= 0, or <= -1 where the previous value sorts after
                        row = dict(terms)
                        _add(row, previous[0], -1.0)
                        lp.at_most("order", row, -1.0 if previous[1] > entry["value"] else 0.0)
                    previous = (terms, entry["value"])
            if not counting:
                continue  # withheld counts and totals are of seizures
            for d, k in self.withholds[key].items():
                # the values not listed, with those never named, hold at least k seizures
                unlisted: dict[int, float] = {}
                for m in self.periods[key].months:
                    mk = self._version(key, m)
                    for v, j in self.cells[(mk, d)].items():
                        if v not in self.listed[key].get(d, ()):
                            unlisted[j] = -1.0
                    if (mk, d) in self.pool:
                        unlisted[self.pool[(mk, d)]] = -1.0
                lp.at_most("withheld", unlisted, -float(k))
            months = [self._version(key, m) for m in self.periods[key].months]
            lp.equal("total", {self.count[mk]: 1.0 for mk in months}, float(r["total_cases"]))
            for name, other in (
                ("total_cases_previous", self.periods[key].shifted(-1)),
                ("total_cases_year_earlier", self.periods[key].year_earlier),
            ):
                versions = [self._version(key, m) for m in other.months]
                if name in r and not _restates(r) and all(mk in self.count for mk in versions):
                    lp.equal("total", {self.count[mk]: 1.0 for mk in versions}, float(r[name]))

    def _month_relations(self) -> None:
        lp = self.lp
        long = {d for d, vs in self.labels.items() if any(len(v) >= CUT_AT for v in vs)}
        for mk, n in self.count.items():
            for d in self.dimensions:
                if (mk, d) not in self.present:
                    continue
                cells = self.cells[(mk, d)]
                pool = self.pool.get((mk, d))
                everything = {j: 1.0 for j in cells.values()}
                if pool is not None:
                    everything[pool] = 1.0
                if d in PARTITIONS:
                    lp.equal("partition", {**everything, n: -1.0}, 0.0)
                elif d in ("detection", "concealment"):
                    for j in cells.values():
                        lp.at_most("multi", {j: 1.0, n: -1.0}, 0.0)
                    if d == "detection":
                        lp.at_most("multi", {**{j: -c for j, c in everything.items()}, n: 1.0}, 0.0)
            for name, a, key_a, b, key_b in _LINKS:
                if {a, b} & long or not {(mk, a), (mk, b)} <= self.present:
                    continue
                self._link(name, mk, a, key_a, b, key_b)

    def _link(
        self,
        name: str,
        mk: MonthKey,
        a: str,
        key_a: Callable[[str], str],
        b: str,
        key_b: Callable[[str], str],
    ) -> None:
        """Table ``a``'s cells of a group equal table ``b``'s cells of the same group (both sum
        the same seizures). Values never named (each table's pool) belong to some group: a
        share of the pool per group, and what no named group takes balances on both sides."""
        lp = self.lp
        rows: dict[str, dict[int, float]] = defaultdict(dict)
        for v, j in self.cells[(mk, a)].items():
            _add(rows[key_a(v)], {j: 1.0})
        for v, j in self.cells[(mk, b)].items():
            _add(rows[key_b(v)], {j: -1.0})
        rest: dict[int, float] = {}
        for table, sign, key in ((a, 1.0, key_a), (b, -1.0, key_b)):
            pool = self.pool.get((mk, table))
            if pool is None:
                continue
            shares = {}
            for group, row in rows.items():
                if key is _itself and group in self.labels[table]:
                    continue  # a value never named is in no group that is a named value
                share = lp.var(("share", mk, name, table, group))
                row[share] = sign
                shares[share] = 1.0
            lp.at_most(name, {**shares, pool: -1.0}, 0.0)
            _add(rest, {pool: sign})
            _add(rest, shares, -sign)
        for row in rows.values():
            lp.equal(name, row, 0.0)
        if rest:
            lp.equal(name, rest, 0.0)

    def hide(self, cells: Iterable[CellKey]) -> None:
        """Suppress shown ``cells`` in place: what the programme would be had they been
        published suppressed, less nothing (a hidden cell's other relations, being listed, stay
        as they are), so its bounds are never wider than a rebuilt programme's."""
        rows = {cell: row for row, cell in self.lp.shown_cells.items()}
        for cell in cells:
            if cell in rows:
                self.lp.drop(rows[cell])
                self.suppressed.append(cell)

    # --- verdicts -----------------------------------------------------------------------------

    def judge(
        self,
        *,
        protection: float,
        relative: float,
        truth: Mapping[CellKey, float] | None,
        want_support: bool = False,
        quick: bool = False,
        only: set[CellKey] | None = None,
    ) -> Audit:
        """Judge the suppressed cells; with ``truth``, the sensitive ones it gives (the others
        were suppressed only to protect them) and the withheld ones the attacker can name.
        ``quick``: only the disclosed cells are returned, and a cell one bound settles is not
        solved for the other. ``only``: judge just these cells."""
        targets: list[tuple[CellKey, bool]] = [
            (cell, False) for cell in self.suppressed if truth is None or cell in truth
        ]
        if truth is not None:
            for key, withholds in self.withholds.items():
                for d in withholds:
                    for v in sorted(self.labels.get(d, ())):
                        if v not in self.listed[key][d] and truth.get((key, d, v), 0) > 0:
                            targets.append(((key, d, v), True))
        if only is not None:
            targets = [t for t in targets if t[0] in only]
        # a cell never possible is not judged: the attacker knows it is not there
        objectives = {cell: self.expression(*cell) for cell, _ in targets}
        targets = [t for t in targets if objectives[t[0]]]
        reach = Reach([objectives[cell] for cell, _ in targets])
        if quick:
            self.lp.on_solution = reach.see
        try:
            return self._verdicts(
                targets,
                objectives,
                reach,
                protection,
                relative,
                truth,
                want_support=want_support,
                quick=quick,
            )
        finally:
            self.lp.on_solution = None

    def _verdicts(
        self,
        targets: Sequence[tuple[CellKey, bool]],
        objectives: Mapping[CellKey, dict[int, float]],
        reach: Reach,
        protection: float,
        relative: float,
        truth: Mapping[CellKey, float] | None,
        *,
        want_support: bool,
        quick: bool,
    ) -> Audit:
        findings = []
        solved: dict[
            frozenset[int], tuple[float, float, frozenset[CellKey], frozenset[CellKey]]
        ] = {}
        for index, (cell, withheld) in enumerate(targets):
            objective = objectives[cell]
            true_value = None if truth is None else truth.get(cell)
            required = max(protection, relative * (true_value or 0.0))
            same = frozenset(objective)
            if quick and true_value is not None and same not in solved:
                # the solutions found so far are feasible points: where the cell's values in
                # them (and the truth) already span the protection, no LP is needed
                least = min(reach.low[index], true_value)
                most = max(reach.high[index], true_value)
                if withheld and least < self.evidence - EPSILON:
                    continue
                if not withheld and most - least >= required - EPSILON and most - least > EPSILON:
                    continue
                # one bound often settles it: the truth lies inside the interval
                if withheld:
                    lo, _, _ = self.lp.bound(objective, most=False)
                    if lo < self.evidence - EPSILON:
                        continue
                else:
                    hi, _, _ = self.lp.bound(objective, most=True)
                    if hi - true_value >= required - EPSILON and hi - true_value > EPSILON:
                        continue
            if same not in solved:
                solved[same] = self.lp.bounds(objective, want_support=want_support)
            lo, hi, support, named = solved[same]
            if true_value is None:
                required = max(protection, relative * hi)
            narrow = hi - lo < required - EPSILON or abs(hi - lo) <= EPSILON
            # a withheld value is given away only where the attacker can tell it is there
            disclosed = narrow and (not withheld or lo >= self.evidence - EPSILON)
            if quick and not disclosed:
                continue
            findings.append(
                Finding(
                    self.published[cell[0]]["period"],
                    cell[1],
                    cell[2],
                    lo,
                    hi,
                    true_value,
                    required,
                    disclosed,
                    withheld=withheld,
                    release=cell[0],
                    support=tuple(sorted(support)),
                    named=tuple(sorted(named)),
                    measure=self.measure,
                )
            )
        return Audit(tuple(findings), dict(self.lp.counts), protection, relative)


def _itself(value: str) -> str:
    """The group of a value that is its own group (a category, a corridor)."""
    return value


def _after(text: str, separator: str) -> str:
    return text.split(separator, 1)[1] if separator in text else text


#: The tables that sum the same seizures in groups: name, table a and its group of a value,
#: table b and its.
_LINKS: tuple[tuple[str, str, Callable[[str], str], str, Callable[[str], str]], ...] = (
    ("category", "category", _itself, "commodity", lambda v: v.split("/", 1)[0]),
    (
        "commodity-corridor",
        "corridor",
        _itself,
        "commodity-route",
        lambda v: v.rsplit("|", 1)[-1],
    ),
    (
        "commodity-type",
        "commodity",
        lambda v: _after(v, "/"),
        "commodity-route",
        lambda v: v.rsplit("|", 1)[0],
    ),
    ("route", "corridor", _itself, "route", lambda v: f"{v.split('>')[0]}>{v.split('>')[-1]}"),
)


def _restates(report: Mapping[str, Any]) -> bool:
    """A release of the ledger quotes earlier totals from the audience's own earlier releases
    and calls new the pairs those did not list: it restates what the audience holds, which
    the audit has (and would mis-date, were a month revised since), so neither is taken."""
    return bool(report.get("release"))


def touched_months(report: Mapping[str, Any]) -> set[int]:
    """The months a report's figures constrain: its own, those of the earlier totals it
    quotes, and those of the four periods before it where it lists new pairs."""
    period = Period.parse(report["period"])
    months = set(period.months)
    if _restates(report):
        return months
    if "total_cases_previous" in report:
        months.update(period.shifted(-1).months)
    if "total_cases_year_earlier" in report:
        months.update(period.year_earlier.months)
    if report.get("new_commodity_routes"):
        months.update(period.months_before)
    return months


def linked(reports: Sequence[Mapping[str, Any]], to: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The reports linked to ``to`` by a chain of shared months, ``to`` last. The attacker's
    programme has unknowns per month and relations only between the months one report
    touches, so it falls apart into independent blocks: no report outside ``to``'s block can
    narrow a cell of it, nor be narrowed by it."""
    touched = [touched_months(r) for r in reports]
    block = touched_months(to)
    grown = True
    while grown:
        grown = False
        for months in touched:
            if months & block and not months <= block:
                block |= months
                grown = True
    return [r for r, months in zip(reports, touched, strict=True) if months & block] + [to]


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


def in_release_order(periods: Iterable[Period]) -> list[Period]:
    """``periods`` in the order a hub releases them: each as soon as its last month is over,
    a month before the quarter and the year it closes."""
    return sorted(periods, key=lambda p: (p.months[-1], len(p.months)))


def describe(findings: Sequence[Finding]) -> list[str]:
    """One line per cell: period, table, value, interval (with its unit, for a quantity) and
    the truth where known."""
    lines = []
    for f in findings:
        line = f"{f.period}\t{f.table}\t{f.label}\t{f.interval}"
        if f.true_value is not None:
            line += f"\ttrue {f.true_value:g}"
        lines.append(line)
    return lines
