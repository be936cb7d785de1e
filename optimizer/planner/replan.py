"""Re-planning mid-session: fix what happened, re-solve the rest warm.

A `Replanner` builds the program once. `replan(minute, ...)` fixes minutes [0, minute) to what
was actually spent (so the carryover into the rest comes from actual spend), lets the past's
slot and integer rules go, counts the GMV actually earned in the floors and the GMV target,
and re-solves minutes [minute, T) within the budget left, starting from the last basis. The
past cells' segments are fixed at their in-order fill, so the program's value of the past is a
constant that the floor rows trade for the realised GMV.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.planner.engine import Engine
from optimizer.planner.forecast import Forecast
from optimizer.planner.plan import Plan
from optimizer.planner.problem import PlanningProblem
from optimizer.planner.program import Formulation, LinearProgram
from optimizer.planner.solve import plan_with


class Replanner:
    """Plans a session, then re-plans its rest from any minute (see module docstring).

    plan: the plan made at construction (minute 0).
    """

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        self.engine = Engine(Formulation(problem))
        self.plan = plan_with(self.engine, time.perf_counter())

    def replan(
        self,
        minute: int,
        actual_spend: np.ndarray,
        actual_paid_gmv: np.ndarray,
        actual_organic_gmv: np.ndarray,
    ) -> Plan:
        """The whole session's plan: actual spend before `minute`, a new plan from it on.

        actual_spend, actual_paid_gmv: (minute, P) yuan/min; actual_organic_gmv: (minute,)
        yuan/min (baseline included). Past minutes of the returned plan report the realised
        paid and organic GMV; later minutes the exact model's expectation.
        """
        start = time.perf_counter()
        P, T = len(self.problem.packages), self.problem.minutes
        if not 0 <= minute <= T:
            raise ValueError(f"minute must be in [0, {T}], got {minute}")
        actual_spend = np.asarray(actual_spend, dtype=float).reshape(minute, P)
        paid = np.asarray(actual_paid_gmv, dtype=float).reshape(minute, P)
        organic = np.asarray(actual_organic_gmv, dtype=float).reshape(minute)
        engine, f = self.engine, self.engine.formulation
        engine.frozen_cells = f.cell_minute < minute
        engine.adjust = _Past(f, minute, actual_spend, paid, organic)
        plan = plan_with(engine, start, past=minute)
        plan.warnings += engine.adjust.warnings
        if plan.status == "infeasible":
            return plan
        spend = plan.spend.copy()
        spend[:minute] = actual_spend
        expected = Forecast.of(self.problem.response, spend)
        realised_paid, realised_organic = expected.paid_gmv.copy(), expected.organic_gmv.copy()
        realised_paid[:minute], realised_organic[:minute] = paid, organic
        plan.spend = spend
        plan.forecast = Forecast(
            spend, realised_paid, expected.organic_uplift_by_package, realised_organic
        )
        plan.solve_seconds = time.perf_counter() - start
        return plan


class _Past:
    """Edits a program so minutes [0, minute) are what happened (see module docstring)."""

    def __init__(self, f: Formulation, minute: int, spend, paid, organic) -> None:
        self.f, self.minute, self.spend = f, minute, spend
        full = np.zeros((f.problem.minutes, len(f.problem.packages)))
        full[:minute] = spend
        self.index = np.concatenate([term.index(full) for term in f.terms])
        earned = float(paid.sum() + organic.sum())
        self.realised = {
            "paid_floor": float(paid.sum()),
            "overall_floor": earned,
            "gmv_target": earned,
        }
        self.baseline_past = float(f.problem.floor_model.baseline[:minute].sum())
        spent, budget = float(spend.sum()), f.problem.budget
        self.budget = max(budget, spent)
        self.warnings = []
        if spent > budget:
            self.warnings.append(
                f"actual spend so far ({spent:,.0f} yuan) is over the budget ({budget:,.0f}): "
                "the rest of the session spends nothing"
            )

    def __call__(self, lp: LinearProgram) -> None:
        f, m = self.f, self.minute
        lower, upper = lp.col_lower, lp.col_upper
        lower[f.spend_cols[:m]] = upper[f.spend_cols[:m]] = self.spend
        past = np.zeros(len(lower), dtype=bool)
        past[: f.nbase] = (f.base_minute >= 0) & (f.base_minute < m)
        past[f.spend_cols] = False
        rule = np.zeros(len(lower), dtype=bool)
        rule[slice(*f.rule_col_range)] = True
        lower[past & ~rule], upper[past & ~rule] = -np.inf, np.inf  # stages, cumulative spend
        lower[past & rule] = upper[past & rule] = 0.0
        minute = f.row_minute
        drop = (f.tie_rows & (minute >= 0) & (minute <= m)) | (
            f.rule_rows & (minute >= 0) & (minute < m)
        )
        lp.row_lower[drop], lp.row_upper[drop] = -np.inf, np.inf
        seg = np.flatnonzero(f.cell_minute[f.seg_cell] < m)
        fill = self._fill(seg)
        lower[f.nbase + seg] = upper[f.nbase + seg] = fill
        chords = np.zeros(len(f.cell_lo))
        np.add.at(chords, f.seg_cell[seg], fill * f.slopes()[seg])
        cells = f.cell_minute < m
        modelled = f.vmap[:, cells] @ (chords[cells] + f.saturation_at(f.cell_lo)[cells])
        for name, row in f.rows.items():
            if name in self.realised:
                baseline = self.baseline_past if name != "paid_floor" else 0.0
                lp.row_lower[row] -= self.realised[name] - modelled[row] - baseline
        lp.row_upper[f.rows["budget"]] = self.budget
        for k, row in f.change_limits.items():
            lp.row_upper[row] -= self._changes_so_far(k)

    def _fill(self, seg: np.ndarray) -> np.ndarray:
        """In-order fill of the actual index; the first and last segments may overflow."""
        f = self.f
        cell = f.seg_cell[seg]
        a, b = f.seg_a[seg], f.seg_b[seg]
        low = np.where(a <= f.cell_lo[cell], -np.inf, 0.0)
        high = np.where(b >= f.cell_hi[cell], np.inf, b - a)
        return np.clip(self.index[cell] - a, low, high)

    def _changes_so_far(self, package: int) -> int:
        levels = self.spend[:: self.f.problem.slot_minutes, package]
        return int(np.sum(np.abs(np.diff(levels)) > 1e-9))
