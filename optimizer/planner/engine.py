"""Adaptive solving of the program: solve, certify, add breakpoints, re-solve warm.

Each round solves the continuous program (integer rules relaxed), prices every cell with the
row duals and solves the exact cell problems (`Formulation.cell_gaps`): the program's objective
L is a value the plan surely reaches (chords never overstate), and L + sum(gaps) = U bounds the
exact optimum. When ``U - L <= tolerance x scale`` the plan is within tolerance of the best
possible plan and program and exact values agree; otherwise a breakpoint goes where each
significant cell's exact optimum lies, and the next round starts from the previous basis.
Integer rules are then met by `optimizer.planner.integer` with U as the bound for the gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.planner.backends import BASIC, LOWER, UPPER, Solution, make_backend
from optimizer.planner.forecast import objective_scale, objective_value
from optimizer.planner.program import Formulation, LinearProgram
from optimizer.planner.warm import WarmBackend

MAX_ROUNDS = 20


@dataclass
class Outcome:
    """Result of one adaptive solve (program units: the objective, always maximised).

    status: "optimal", "feasible" (a limit stopped it with a plan in hand), "infeasible", or
        "failed" (no plan: the solver stopped without one; `cause` says why: "time_limit" or
        "error", a numerical failure).
    bound: upper bound on the exact optimum of the continuous problem.
    proven: a branch and bound proved the integer decisions optimal (for the program).
    """

    status: str
    values: np.ndarray | None = None
    spend: np.ndarray | None = None
    program_objective: float | None = None
    bound: float | None = None
    row_duals: np.ndarray | None = None
    rounds: int = 0
    mip_gap: float | None = None
    proven: bool = False
    warnings: list[str] = field(default_factory=list)
    cause: str | None = None


class Engine:
    """The formulation of one problem and a live solver backend, reused across solves.

    adjust: optional edit of every program before it is solved (the re-planner fixes the past
        with it); frozen_cells: cells whose index is fixed (left out of refinement).
    """

    def __init__(self, formulation: Formulation, backend=None) -> None:
        self.formulation = formulation
        self.problem = formulation.problem
        self.backend = backend if backend is not None else make_backend(self.problem.solver)
        self.adjust: Callable[[LinearProgram], None] | None = None
        self.frozen_cells = np.zeros(len(formulation.cell_lo), dtype=bool)
        self._warm = WarmBackend(self.backend)

    def reset(self) -> None:
        """Forget what the backend holds: the next continuous solve loads the program anew."""
        self._warm.forget()

    def pruned(self, merged: np.ndarray) -> None:
        """The formulation's segments were merged (`prune`; `merged`: each old segment's new
        one): the next continuous solve loads the program anew, from the basis held carried
        across (`warm.merged_basis`)."""
        self._warm.pruned(self.formulation.nbase, merged)

    def _load(self, lp: LinearProgram, basis=None) -> None:
        """Load `lp` anew, from `basis` (column and row statuses) or cold."""
        self._warm.forget()
        self._warm.give(lp, basis)

    def program(self, relaxed: bool) -> LinearProgram:
        lp = self.formulation.program()
        if relaxed:
            lp.integer = np.zeros_like(lp.integer)
        if self.adjust is not None:
            self.adjust(lp)
        return lp

    def solve_continuous(self, deadline: float, max_rounds: int = MAX_ROUNDS) -> Outcome:
        """Rounds of solve / certify / refine on the continuous program until accurate.

        A round that stops without a plan (time limit, solver failure) leaves the previous
        round's plan as the answer, status "feasible"; without one the outcome is "failed" with
        its `cause`. After `max_rounds` rounds the last plan is the answer, status "feasible".
        """
        problem, formulation, backend = self.problem, self.formulation, self.backend
        lp = self.program(relaxed=True)
        self._warm.give(lp)
        outcome = Outcome("failed")
        for rounds in range(1, max_rounds + 1):
            solution = backend.solve(deadline - time.perf_counter())
            if solution.values is None and outcome.values is not None:
                return _unfinished(outcome, problem, _CAUSES.get(solution.status, _FAILURE))
            outcome = self.outcome(solution, rounds)
            if outcome.status == "infeasible" and formulation.open_ranges():
                self._load(self.program(relaxed=True))  # infeasible only on whole ranges
                continue
            if outcome.status == "feasible":  # stopped with a plan but without prices
                return _unfinished(outcome, problem, _CAUSES["time_limit"])
            if solution.row_duals is None:
                return outcome
            gaps, best = formulation.cell_gaps(solution.row_duals, self.frozen_cells)
            outcome.bound = solution.objective + float(gaps.sum())
            outcome.row_duals = solution.row_duals
            scale = objective_scale(problem, outcome.spend)
            if gaps.sum() + _overstated(problem, outcome) <= problem.tolerance * scale:
                return outcome
            if time.perf_counter() >= deadline:
                return _unfinished(outcome, problem, _CAUSES["time_limit"])
            cells = np.flatnonzero(gaps > 0.1 * problem.tolerance * scale / len(gaps))
            split, above = formulation.refine(cells, best[cells])
            basis = self._split_basis(solution, split, above)
            self._load(self.program(relaxed=True), basis)
        return _unfinished(outcome, problem, f"the limit of {max_rounds} refinement rounds")

    def _split_basis(self, solution: Solution, split: np.ndarray, above: int):
        """The previous basis for the program after segments `split` were cut in two and
        `above` segments were appended above cells' tops.

        The kept part [a, z] takes the old status; the new part [z, b] sits at its lower bound
        when the old value fits in [a, z], at its upper bound when the old segment was full,
        and becomes basic (the kept part full) when a basic value reached past z. Segments
        above a top start empty (at their lower bound).
        """
        basis = self.backend.basis()
        if basis is None:
            return None
        cols, rows = basis
        f = self.formulation
        index = f.nbase + split
        status, value = cols[index], solution.values[index]
        basic = status == BASIC
        overflow = basic & (value > f.seg_b[split] - f.seg_a[split])
        new = np.where(overflow, BASIC, np.where(status == UPPER, UPPER, LOWER))
        cols = cols.copy()
        cols[index] = np.where(overflow, UPPER, status)
        empty = np.full(above, LOWER, dtype=cols.dtype)
        return np.concatenate([cols, new.astype(cols.dtype), empty]), rows

    def outcome(self, solution: Solution, rounds: int) -> Outcome:
        if solution.status == "infeasible":
            return Outcome("infeasible", rounds=rounds)
        if solution.values is None:
            return Outcome("failed", rounds=rounds, cause=solution.status)
        status = "optimal" if solution.status == "optimal" else "feasible"
        return Outcome(
            status,
            solution.values,
            self.formulation.spend(solution.values),
            solution.objective,
            rounds=rounds,
        )


def _overstated(problem, outcome: Outcome) -> float:
    """Program units: how much the program's value overstates the plan's exact value. 0 when
    the uplift is driven by spend (chords never overstate); when it is driven by paid GMV,
    the chords' paid GMV can overstate an uplift that a package cannibalises
    (`optimizer.planner.program`)."""
    if not problem.response.paid_driven:
        return 0.0
    return max(0.0, outcome.program_objective - objective_value(problem, outcome.spend))


_FAILURE = "a solver failure"
_CAUSES = {"time_limit": "the time limit", "error": _FAILURE}


def _unfinished(outcome: Outcome, problem, stop: str) -> Outcome:
    """`outcome` (a plan in hand, certified or not) marked feasible, with why it stopped."""
    outcome.status = "feasible"
    if outcome.bound is None:
        outcome.warnings.append(f"stopped by {stop} before the plan was certified")
        return outcome
    scale = objective_scale(problem, outcome.spend)
    accuracy = (outcome.bound - outcome.program_objective) / scale
    outcome.warnings.append(
        f"stopped by {stop} at {accuracy:.2%} from the best possible plan (tolerance "
        f"{problem.tolerance:.2%}) after {outcome.rounds} rounds"
    )
    return outcome
