"""The attacker's linear programme as HiGHS solves it (:mod:`gateway.rilo.release_audit` writes
its relations): unknowns and rows built up relation by relation, passed to HiGHS once, and
each bound re-solved from the last basis as only the objective changes; the shown figures
and listed labels whose duals hold a bound; and the reach of the solutions found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

#: Slack for the solver's tolerances when comparing bounds.
EPSILON = 1e-6

CellKey = tuple[str, str, str]  # release (its period, or period#id), table, value


@dataclass
class Programme:
    """Unknowns and rows of the LP, built up relation by relation."""

    index: dict[Any, int] = field(default_factory=dict)
    #: rows lo <= row . z <= hi, equalities but for a figure published rounded
    eq: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    ub: list[tuple[dict[int, float], float]] = field(default_factory=list)  # row . z <= b
    counts: Counter[str] = field(default_factory=Counter)
    #: equality row -> the shown cell it publishes
    shown_cells: dict[int, CellKey] = field(default_factory=dict)
    #: inequality row -> the listed cell whose label it is ("at least one seizure")
    listed_cells: dict[int, CellKey] = field(default_factory=dict)
    #: told every optimal solution found (a feasible point of the programme)
    on_solution: Callable[[np.ndarray], None] | None = None
    _highs: Any = None
    _costed: list[int] = field(default_factory=list)

    def var(self, key: Any) -> int:
        return self.index.setdefault(key, len(self.index))

    def equal(
        self, relation: str, terms: Mapping[int, float], value: float, slack: float = 0.0
    ) -> None:
        self.eq.append((dict(terms), value - slack, value + slack))
        self.counts[relation] += 1

    def shown(
        self,
        key: str,
        d: str,
        v: str,
        terms: Mapping[int, float],
        value: float,
        slack: float = 0.0,
    ) -> None:
        self.shown_cells[len(self.eq)] = (key, d, v)
        self.equal("shown", terms, value, slack)

    def listed(self, key: str, d: str, v: str, terms: Mapping[int, float]) -> None:
        self.listed_cells[len(self.ub)] = (key, d, v)
        self.at_most("listed", {j: -c for j, c in terms.items()}, -1.0)

    def at_most(self, relation: str, terms: Mapping[int, float], value: float) -> None:
        self.ub.append((dict(terms), value))
        self.counts[relation] += 1

    def _solver(self) -> Any:
        """HiGHS with the programme passed once: each bound changes only the objective, and
        the simplex starts from the last basis."""
        if self._highs is None:
            width = len(self.index)
            rows = [(terms, 0.0) for terms, _, _ in self.eq] + self.ub
            columns: list[list[tuple[int, float]]] = [[] for _ in range(width)]
            for i, (terms, _) in enumerate(rows):
                for j, coefficient in terms.items():
                    if coefficient:
                        columns[j].append((i, coefficient))
            lp = highspy.HighsLp()
            lp.num_col_ = width
            lp.num_row_ = len(rows)
            lp.col_cost_ = np.zeros(width)
            lp.col_lower_ = np.zeros(width)
            lp.col_upper_ = np.full(width, highspy.kHighsInf)
            lp.row_lower_ = np.array(
                [lo for _, lo, _ in self.eq] + [-highspy.kHighsInf] * len(self.ub), dtype=float
            )
            lp.row_upper_ = np.array(
                [hi for _, _, hi in self.eq] + [b for _, b in self.ub], dtype=float
            )
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            starts, index, value = [0], [], []
            for column in columns:
                index += [i for i, _ in column]
                value += [c for _, c in column]
                starts.append(len(index))
            lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
            lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
            lp.a_matrix_.value_ = np.array(value, dtype=float)
            highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy has no hints
            highs.setOptionValue("output_flag", False)
            # each bound changes only the objective: the last basis stays primal feasible, so
            # the primal simplex goes on from it, and presolve would only throw it away
            # (measured: 3.4x faster than the defaults over a half-year's releases)
            highs.setOptionValue("simplex_strategy", 4)
            highs.setOptionValue("presolve", "off")
            highs.passModel(lp)
            self._highs = highs
        return self._highs

    def bound(
        self, objective: Mapping[int, float], *, most: bool, want_support: bool = False
    ) -> tuple[float, frozenset[CellKey], frozenset[CellKey]]:
        """The least (or ``most``) of ``objective . z`` over the feasible set, and (asked for)
        the shown and the listed cells whose rows' duals are not zero at the optimum: the
        published figures and labels that hold the bound where it is."""
        highs = self._solver()
        wanted = sorted(objective)
        if wanted != self._costed:
            if self._costed:
                highs.changeColsCost(
                    len(self._costed),
                    np.array(self._costed, dtype=np.int32),
                    np.zeros(len(self._costed)),
                )
            self._costed = wanted
            highs.changeColsCost(
                len(wanted),
                np.array(wanted, dtype=np.int32),
                np.array([objective[j] for j in wanted], dtype=float),
            )
        highs.changeObjectiveSense(
            highspy.ObjSense.kMaximize if most else highspy.ObjSense.kMinimize
        )
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise ValueError("the published reports contradict each other (infeasible LP)")
        if status == highspy.HighsModelStatus.kUnbounded:
            return (np.inf if most else -np.inf), frozenset(), frozenset()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"HiGHS did not solve the audit's LP: {highs.modelStatusToString(status)}"
            )
        value = float(highs.getInfo().objective_function_value)
        if self.on_solution is not None:
            self.on_solution(np.asarray(highs.getSolution().col_value))
        if not want_support:
            return value, frozenset(), frozenset()
        duals = highs.getSolution().row_dual
        first = len(self.eq)
        return (
            value,
            frozenset(cell for i, cell in self.shown_cells.items() if abs(duals[i]) > EPSILON),
            frozenset(
                cell for i, cell in self.listed_cells.items() if abs(duals[first + i]) > EPSILON
            ),
        )

    def drop(self, row: int) -> None:
        """Drop equality row ``row`` (a shown figure that is suppressed after all): the
        programme keeps its basis, so the next bound starts from where the last one ended."""
        self.shown_cells.pop(row, None)
        if self._highs is not None:
            self._highs.changeRowBounds(row, -highspy.kHighsInf, highspy.kHighsInf)
        else:
            self.eq[row] = ({}, 0.0, 0.0)

    def bounds(
        self, objective: Mapping[int, float], *, want_support: bool = False
    ) -> tuple[float, float, frozenset[CellKey], frozenset[CellKey]]:
        """Both bounds, and the support of both (:meth:`bound`)."""
        lo, low_shown, low_named = self.bound(objective, most=False, want_support=want_support)
        hi, high_shown, high_named = self.bound(objective, most=True, want_support=want_support)
        return lo, hi, low_shown | high_shown, low_named | high_named


class Reach:
    """The least and the most seizures each target cell took in every solution the programme
    was seen to reach: each is a feasible point, so these lie within the cell's interval."""

    def __init__(self, objectives: Sequence[Mapping[int, float]]) -> None:
        self.columns = np.array([j for o in objectives for j in o], dtype=np.int64)
        self.starts = np.cumsum([0] + [len(o) for o in objectives[:-1]], dtype=np.int64)
        self.low = np.full(len(objectives), np.inf)
        self.high = np.full(len(objectives), -np.inf)

    def see(self, point: np.ndarray) -> None:
        if not len(self.low):
            return
        # every expression's coefficients are 1: a cell is the sum of its months' unknowns
        values = np.add.reduceat(point[self.columns], self.starts)
        np.minimum(self.low, values, out=self.low)
        np.maximum(self.high, values, out=self.high)
