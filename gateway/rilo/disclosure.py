"""Disclosure control of the hub's releases to members and the public (pure: no I/O).

A *release* is the trend report of one period as one audience receives it. Analysts (hub staff)
see exact figures (:func:`gateway.rilo.trends.report`); every other audience gets a release
planned here, against everything that audience already holds (the release ledger,
:mod:`gateway.rilo.releases`):

1. **Primary suppression** of a cell: fewer than ``min_seizures`` seizures (its label is
   withheld too: a label such as "grenade, KH to TH" alone tells of a rare seizure; the table
   says how many labels it withholds), fewer than ``min_members`` reporting members, or a
   quantity dominated by one seizure (the p% rule: the cell's total less its two largest
   seizures is under p% of the largest, so the second largest's reporter could estimate the
   largest within p%). A suppressed cell shows no figure at all.
2. **Secondary suppression**, jointly over the linked tables (category ⊃ commodity ⊃
   commodity x corridor ⊂ corridor ⊃ route, detection, concealment, mode, totals) and the
   period hierarchy, with every earlier release to the audience: the attacker's linear
   programme of :mod:`gateway.rilo.release_audit` is solved over the ledger and the candidate
   release; every sensitive (primary) cell, suppressed or withheld, of any release whose
   feasible interval is narrower than ``protection`` seizures, or whose amount of a unit is
   known closer than ``dominance_p`` % of itself (a programme per unit), gets one more cell of the
   candidate suppressed, the smallest among the published figures that hold its bound (the
   LP's duals), or else one more label withheld, the smallest among the listed labels that
   hold it, and the audit runs again until none is. The release is thereby protected against
   that attacker by construction, and ``gateway hub audit-release`` re-runs the same audit on
   what was sent. Only the releases linked to the candidate by shared months enter the
   programme (:func:`~gateway.rilo.release_audit.linked`), and between rounds it is kept,
   the cells hidden dropping their rows in place.

The member table is not released (one member per cell: always suppressed); changes are given
only against the audience's own earlier releases and only between two shown figures; shown
cells are listed by seizures, suppressed ones after them by label (their place in the order
would bound them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.rilo.programme import CellKey
from gateway.rilo.release_audit import Attack, Finding, linked, release_key
from gateway.rilo.trends import (
    QUANTITIES,
    SHARED_TABLES,
    Cell,
    Cells,
    Period,
    changes,
    entry_of,
    total_of,
)

#: The audiences whose releases are disclosure-controlled. Members also receive what is
#: published, so each is planned against the releases of both.
CONTROLLED = ("members", "public")
#: What a cell's interval can be of: seizures, or a quantity's unit.
MEASURES = ("cases", *QUANTITIES)
#: Tables a controlled release carries.
RELEASED_TABLES = SHARED_TABLES
#: A release that still finds a disclosure after this many rounds is refused, not sent.
MAX_ROUNDS = 200

Largest = Mapping[tuple[str, str], Mapping[str, Sequence[float]]]  # (table, value) -> unit -> top 2


@dataclass(frozen=True)
class DisclosurePolicy:
    """What the hub's policy sets for controlled releases."""

    min_seizures: int = 3
    min_members: int = 2
    #: p of the p% dominance rule for quantities; also the least uncertainty, in % of itself,
    #: an attacker must be left on a sensitive cell's amount
    dominance_p: float = 10.0
    #: the narrowest interval (in seizures) an attacker may narrow a suppressed cell to
    protection: float = 2.0

    def requirement(self, measure: str) -> tuple[float, float]:
        """(protection, relative) a sensitive cell's interval of ``measure`` must keep: of
        seizures, ``protection``; of a quantity, ``dominance_p`` % of its amount."""
        if measure == "cases":
            return self.protection, 0.0
        return 0.0, self.dominance_p / 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_seizures": self.min_seizures,
            "min_members": self.min_members,
            "dominance_p": self.dominance_p,
            "protection": self.protection,
            "method": "linked tables and periods, against every earlier release (LP audit)",
        }


class ReleaseRefusedError(Exception):
    """The planner found no safe pattern; nothing is released."""


def dominated(cell: Cell, top: Mapping[str, Sequence[float]], p: float) -> bool:
    """The p% rule on each quantity of the cell: total less the two largest seizures under p%
    of the largest."""
    for unit in QUANTITIES:
        largest = sorted(top.get(unit, ()), reverse=True)[:2]
        total = cell.quantities.get(unit, 0.0)
        if not largest or largest[0] <= 0:
            continue
        rest = total - sum(largest)
        if rest < p / 100 * largest[0] - 1e-9:
            return True
    return False


def primary(
    cells: Cells, largest: Largest, policy: DisclosurePolicy
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(suppressed, withheld): the cells the rules hide, and those of them whose label goes
    too (fewer than ``min_seizures`` seizures)."""
    hidden: set[tuple[str, str]] = set()
    withheld: set[tuple[str, str]] = set()
    for d in RELEASED_TABLES:
        for v, cell in cells.get(d, {}).items():
            if cell.cases < policy.min_seizures:
                hidden.add((d, v))
                withheld.add((d, v))
            elif cell.members < policy.min_members or dominated(
                cell, largest.get((d, v), {}), policy.dominance_p
            ):
                hidden.add((d, v))
    return hidden, withheld


@dataclass(frozen=True)
class Release:
    """A planned release: what the audience gets, and what only the ledger keeps."""

    body: dict[str, Any]
    #: (table, value) -> seizures of every sensitive (primary) cell: the audit's truth
    truth: dict[tuple[str, str], int]
    primary: frozenset[tuple[str, str]]
    withheld: frozenset[tuple[str, str]]
    secondary: frozenset[tuple[str, str]]
    rounds: int
    #: cells no suppression in this release could protect: bound by earlier releases or by
    #: this release's total alone (e.g. a month of one transport mode)
    inherited: tuple[str, ...] = field(default=())
    #: unit -> (table, value) -> amount of every sensitive cell that holds some of it
    amounts: dict[str, dict[tuple[str, str], float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Held:
    """A release the audience holds, with what the ledger keeps of it (:class:`Release`)."""

    body: Mapping[str, Any]
    truth: Mapping[tuple[str, str], int]
    amounts: Mapping[str, Mapping[tuple[str, str], float]] = field(default_factory=dict)


def truths_of(held: Iterable[Held]) -> dict[str, dict[CellKey, float]]:
    """Measure (``cases`` or a unit) -> (release, table, value) -> the true figure of every
    sensitive cell the ledger keeps: the audit's truth."""
    truths: dict[str, dict[CellKey, float]] = {m: {} for m in MEASURES}
    for h in held:
        key = release_key(h.body)
        truths["cases"].update({(key, d, v): n for (d, v), n in h.truth.items()})
        for unit, amounts in h.amounts.items():
            truths[unit].update({(key, d, v): a for (d, v), a in amounts.items()})
    return truths


def published(
    period: Period,
    cells: Cells,
    *,
    audience: str,
    hidden: set[tuple[str, str]],
    withheld: set[tuple[str, str]],
    release: Mapping[str, Any],
    revisions: Mapping[str, int],
    earlier: Mapping[str, Mapping[str, Any]],
    open_candidates: int,
    policy: DisclosurePolicy,
) -> dict[str, Any]:
    """The release's body: shown cells by seizures, then the suppressed ones by label (the
    withheld ones only counted), changes against the audience's own releases of the period
    before and a year earlier (``earlier``, by period label) between shown figures only, and
    the totals of those releases. New pairs are those none of the audience's releases of the
    four periods before listed: like the totals, what the audience already holds, so a
    release adds no relation between its months and earlier ones (the audit takes neither)."""
    previous, year_earlier = period.shifted(-1), period.year_earlier
    shown_before = {
        label: {
            d: {e["value"]: e["cases"] for e in table if not e["suppressed"]}
            for d, table in r["tables"].items()
        }
        for label, r in earlier.items()
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    withheld_counts: dict[str, int] = {}
    for d in RELEASED_TABLES:
        current = cells.get(d, {})
        shown = sorted(
            (v for v in current if (d, v) not in hidden), key=lambda v: (-current[v].cases, v)
        )
        table = []
        for v in shown:
            entry = entry_of(v, current[v])
            for name, other in (("previous", previous), ("year", year_earlier)):
                before = shown_before.get(other.label, {}).get(d, {}).get(v)
                if before is not None:
                    entry.update(changes(current[v].cases, before, name))
            table.append(entry)
        table += [
            {"value": v, "suppressed": True}
            for v in sorted(current)
            if (d, v) in hidden and (d, v) not in withheld
        ]
        tables[d] = table
        count = sum(1 for v in current if (d, v) in withheld)
        if count:
            withheld_counts[d] = count
    before = set(period.months_before)
    seen = {
        e["value"]
        for r in earlier.values()
        if before & set(Period.parse(r["period"]).months)
        for e in r["tables"].get("commodity-route", ())
    }
    body: dict[str, Any] = {
        "period": period.label,
        "previous_period": previous.label,
        "year_earlier_period": year_earlier.label,
        "audience": audience,
        "release": dict(release),
        "revisions": dict(revisions),
        "order": "shown-by-cases",
        "total_cases": total_of(cells),
        "disclosure_control": {"audience": audience, **policy.as_dict()},
        "open_duplicate_candidates": open_candidates,
        "tables": tables,
        "withheld": withheld_counts,
        "top_routes": [e for e in tables["corridor"] if not e["suppressed"]][:10],
        "new_commodity_routes": [
            e for e in tables["commodity-route"] if not e["suppressed"] and e["value"] not in seen
        ],
        "new_means": "not listed in this audience's releases of the four periods before",
    }
    for name, other in (
        ("total_cases_previous", previous),
        ("total_cases_year_earlier", year_earlier),
    ):
        if other.label in earlier:
            body[name] = earlier[other.label]["total_cases"]
    return body


def plan(
    period: Period,
    cells: Cells,
    largest: Largest,
    *,
    audience: str,
    release: Mapping[str, Any],
    held: Sequence[Held],
    revisions: Mapping[str, int],
    earlier: Mapping[str, Mapping[str, Any]],
    open_candidates: int = 0,
    policy: DisclosurePolicy | None = None,
) -> Release:
    """Plan the release of ``period`` to ``audience``. ``held``: every release the audience
    holds, with the ledger's truth of its suppressed and withheld cells. The seizures of every
    sensitive cell must keep an interval of ``protection``, and each quantity it holds one of
    ``dominance_p`` % of its amount (the p of the dominance rule: no closer estimate of a
    seizure's size than the rule allows). Raises :class:`ReleaseRefusedError` if no pattern
    is found."""
    policy = policy or DisclosurePolicy()
    first, withheld = primary(cells, largest, policy)
    hidden = set(first)
    truths = truths_of(held)
    amounts_now = {
        unit: {
            (d, v): cells[d][v].quantities[unit]
            for d, v in sorted(first)
            if cells[d][v].quantities.get(unit, 0.0) > 0
        }
        for unit in QUANTITIES
    }
    measures = ["cases"] + [u for u in QUANTITIES if truths[u] or amounts_now[u]]
    # hiding a figure or withholding a label only takes constraints away (widens intervals):
    # after the first round, only the cells found narrow are judged again
    recheck: dict[str, set[CellKey] | None] = dict.fromkeys(measures)
    attacks: dict[str, Attack] = {}
    for rounds in range(1, MAX_ROUNDS + 1):
        body = published(
            period,
            cells,
            audience=audience,
            hidden=hidden,
            withheld=withheld,
            release=release,
            revisions=revisions,
            earlier=earlier,
            open_candidates=open_candidates,
            policy=policy,
        )
        key = release_key(body)
        # only the releases linked to this one by shared months can bound its cells or have
        # theirs narrowed by it (release_audit.linked)
        bodies = None
        disclosed: list[Finding] = []
        for measure in measures:
            if measure not in attacks:
                bodies = bodies or linked([h.body for h in held], body)
                attacks[measure] = Attack(bodies, measure)
            if measure == "cases":
                mine = {(key, d, v): float(cells[d][v].cases) for d, v in first}
            else:
                mine = {(key, d, v): a for (d, v), a in amounts_now[measure].items()}
            protection, relative = policy.requirement(measure)
            found = attacks[measure].judge(
                protection=protection,
                relative=relative,
                truth={**truths[measure], **mine},
                want_support=True,
                quick=True,
                only=recheck[measure],
            )
            recheck[measure] = {(f.release, f.table, f.label) for f in found.disclosed}
            disclosed += found.disclosed
        more: set[tuple[str, str]] = set()
        inherited = []
        changed = False
        for finding in disclosed:
            move = _complement(finding, key, period, cells, hidden, withheld)
            if move is None:
                # held by what cannot be suppressed: earlier releases, or this one's total
                inherited.append(
                    f"{finding.release} {finding.table} {finding.label} {finding.interval}"
                )
            elif move[0] == "hide":
                more.add(move[1])
            else:
                withheld.add(move[1])
                hidden.add(move[1])
                changed = True
        if not more and not changed:
            return Release(
                body=body,
                truth={(d, v): cells[d][v].cases for d, v in first},
                primary=frozenset(first),
                withheld=frozenset(withheld),
                secondary=frozenset(hidden - first),
                rounds=rounds,
                inherited=tuple(inherited),
                amounts={u: a for u, a in amounts_now.items() if a},
            )
        if changed:
            attacks.clear()  # a label withheld changes the unknowns: build them again
        else:
            for attack in attacks.values():
                attack.hide((key, d, v) for d, v in more)
        hidden |= more
    raise ReleaseRefusedError(f"{period.label}: no safe suppression found in {MAX_ROUNDS} rounds")


def _complement(
    finding: Finding,
    key: str,
    period: Period,
    cells: Cells,
    hidden: set[tuple[str, str]],
    withheld: set[tuple[str, str]],
) -> tuple[str, tuple[str, str]] | None:
    """What to take out of the candidate release ``key`` for ``finding``: ``("hide", cell)``
    (suppress its figure) or ``("withhold", cell)`` (its label too); None where nothing in the
    candidate holds the finding's bound. The LP's duals name the published figures and the
    listed labels that hold it; the smallest of them goes first (the least lost)."""
    table = finding.table

    def smallest(found: Iterable[CellKey], left: set[tuple[str, str]]) -> tuple[str, str] | None:
        mine = sorted(
            (cells[d][v].cases, d, v) for r, d, v in found if r == key and (d, v) not in left
        )
        return (mine[0][1], mine[0][2]) if mine else None

    # the candidate's labels of the finding's table it still lists, fewest seizures first
    listed = sorted(
        (cells[table][v].cases, v) for v in cells.get(table, {}) if (table, v) not in withheld
    )
    figure, label = smallest(finding.support, hidden), smallest(finding.named, withheld)
    if finding.withheld:
        # the attacker tells a withheld value is there: by its label published here (often
        # a longer period's), or by the labels listed beside it
        own = (table, finding.label)
        if finding.release != key and any(v == finding.label for _, v in listed):
            return "withhold", own
        if label is not None:
            return "withhold", label
    if figure is not None:
        return "hide", figure
    if label is not None:
        return "withhold", label
    if not set(period.months) & set(Period.parse(finding.period).months):
        return None
    # the duals named none of this release's figures (a degenerate optimum): hide the smallest
    # shown cell of the finding's table here, else of any; with nothing left to hide, a
    # complete list of labels still tells which values are none: withhold one more
    shown = sorted(
        (cells[d][v].cases, d, v)
        for d in RELEASED_TABLES
        for v in cells.get(d, {})
        if (d, v) not in hidden
    )
    options = [s for s in shown if s[1] == table] or shown
    if options:
        return "hide", (options[0][1], options[0][2])
    if listed:
        return "withhold", (table, listed[0][1])
    return None
