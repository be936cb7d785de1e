"""Re-planning mid-session: fix what happened, re-solve the rest warm.

A `Replanner` builds the program once. `replan(minute, ...)` fixes minutes [0, minute) to what
was actually spent (so the carryover into the rest comes from actual spend), lets the past's
slot and integer rules go, counts the GMV actually earned in the floors and the GMV target
(`Past`), holds them with the rest of the session at the level the day has shown so far
(`calibrate`), and re-solves minutes [minute, T) within the budget left, starting from the last
basis. The objective keeps the model's average day. When no rest of the session brings it to
its floors (and a min_spend objective's GMV target) at that level, the rest brings as much of
what the session still owes as it can (`shortfall`; with another objective the target goes):
the session misses them, and the plan says so. Planned instead with the model's average day,
a day at 40% of the model raised spend 36-fold, to dilute the past with GMV the day had not
shown.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from optimizer.errors import InputError
from optimizer.planner.calibrate import DayRatio
from optimizer.planner.engine import Engine
from optimizer.planner.evaluate import yuan_values
from optimizer.planner.forecast import Forecast
from optimizer.planner.past import Past
from optimizer.planner.plan import Infeasibility, Plan
from optimizer.planner.problem import PlanningProblem
from optimizer.planner.program import Formulation
from optimizer.planner.prune import prune
from optimizer.planner.shortfall import SHARE_MARGIN, ReachableShare
from optimizer.planner.solve import plan_with

SEGMENT_GROWTH = 1.5
"""Segments past this multiple of the first plan's are pruned at the next re-plan (`prune`)."""


class Replanner:
    """Plans a session, then re-plans its rest from any minute (see module docstring).

    problem: the session; its `time_limit` bounds the plan made at construction.
    calibrate: hold floors and target with the rest of the session at the day's level so far
        (`DayRatio`); False holds them with the model's average day.
    replan_time_limit: seconds each `replan` may take (default: the problem's `time_limit`).
        A live service re-plans within a short budget but must not build with one: the
        first solve of a long session takes longer than a warm re-solve.
    plan: the plan made at construction (minute 0).
    reachable_share: the LP of the share of a shortfall the rest can make up (`shortfall`),
        kept loaded between re-plans.
    settings: (T, P) yuan/min, the levels planned for each minute by the plan in force when it
        was played (the platform's level-change rules count these, not delivered spend); a
        re-plan from an earlier minute than the last starts a new session from `plan`.
    """

    def __init__(self, problem: PlanningProblem, replan_time_limit: float | None = None,
                 calibrate: bool = True) -> None:
        if replan_time_limit is not None and not replan_time_limit > 0:
            raise ValueError(f"replan_time_limit must be > 0 seconds, got {replan_time_limit}")
        self.problem = problem
        self.replan_time_limit = replan_time_limit
        self.calibrate = calibrate
        self.engine = Engine(Formulation(problem))
        self.reachable_share = ReachableShare(problem.solver)
        self.plan = plan_with(self.engine, time.perf_counter())
        self.settings = self.plan.spend.copy()
        self._most_segments = SEGMENT_GROWTH * len(self.engine.formulation.seg_cell)
        self._last_minute = 0
        self._short = False  # the last re-plan fell short of the floors (`_closest`)

    def replan(
        self,
        minute: int,
        actual_spend: np.ndarray,
        actual_paid_gmv: np.ndarray,
        actual_organic_gmv: np.ndarray,
        stop_at: float | None = None,
    ) -> Plan:
        """The whole session's plan: actual spend before `minute`, a new plan from it on.

        actual_spend, actual_paid_gmv: (minute, P) yuan/min; actual_organic_gmv: (minute,)
        yuan/min (baseline included). Past minutes of the returned plan report the realised
        paid and organic GMV; later minutes the model's expectation for an average day.
        stop_at: wall clock (time.perf_counter) when the caller stops waiting: no solver runs
            past it (the time limit is a target the integer rules' refills overran by a second
            each), so a re-plan cut short there ends soon after, with the plan it has or
            without one (`NoPlanInTime`).
        """
        backend = self.engine.backend
        backend.stop_at = math.inf if stop_at is None else stop_at
        try:
            return self._replan(minute, actual_spend, actual_paid_gmv, actual_organic_gmv)
        finally:
            backend.stop_at = math.inf

    def _replan(self, minute: int, actual_spend: np.ndarray, actual_paid_gmv: np.ndarray,
                actual_organic_gmv: np.ndarray) -> Plan:
        start = time.perf_counter()
        P, T = len(self.problem.packages), self.problem.minutes
        if not 0 <= minute <= T:
            raise InputError(f"must be a minute of the session, 0 to {T}; got {minute}",
                             where="minute", fix="give the first minute without actuals")
        actual_spend = _actuals(actual_spend, (minute, P), "actual_spend")
        paid = _actuals(actual_paid_gmv, (minute, P), "actual_paid_gmv")
        organic = _actuals(actual_organic_gmv, (minute,), "actual_organic_gmv")
        engine, f = self.engine, self.engine.formulation
        engine.frozen_cells = f.cell_minute < minute
        day = None
        if self.calibrate and minute > 0:
            day = DayRatio.of(self.problem, minute, actual_spend, paid, organic)
        if minute < self._last_minute:  # an earlier minute: a new session of the same plan
            self.settings = self.plan.spend.copy()
            self._short = False
        self._last_minute = minute
        levels = self.settings[:minute]
        if len(f.seg_cell) > self._most_segments:
            self._prune(minute, actual_spend)
        usual = Past(f, minute, actual_spend, paid, organic, day, levels)
        engine.adjust = usual
        if usual.widen():
            engine.reset()
        within = 0 < minute and not usual.overspent
        closest = None
        if self._short and within:  # the last re-plan fell short: this one likely does too
            closest = self._closest(start, minute, actual_spend, paid, organic, day, levels,
                                    recovered=True)
        plan = closest
        if plan is None:
            engine.adjust = usual
            plan = plan_with(engine, start, past=minute, time_limit=self.replan_time_limit)
            plan.warnings += engine.adjust.warnings
            if plan.status == "infeasible" and within:
                self._short = True  # the next re-plan starts from the shortfall LP, even if
                # this one stops before its plan (the LP then goes on from where it stopped)
                closest = self._closest(start, minute, actual_spend, paid, organic, day,
                                        levels)
                plan = closest or plan
        self._short = closest is not None
        if plan.status == "infeasible":
            return self._stopped(plan, minute, actual_spend, paid, organic)
        self.settings[minute:] = plan.spend[minute:]
        spend = plan.spend.copy()
        spend[:minute] = actual_spend
        same = np.array_equal(spend, plan.spend)
        plan.spend = spend
        plan.forecast = _realised(plan.forecast if same else None, self.problem, spend, paid,
                                  organic)
        target = self.problem.gmv_target
        if day is not None and target is not None and closest is None and \
                plan.forecast.total_gmv < target * 0.9999:
            plan.warnings.append(
                f"the GMV target ({target:,.0f}) is held with the rest of the session at the "
                f"day's level so far; at the model's average day the rest brings the session "
                f"to {plan.forecast.total_gmv:,.0f}")
        plan.solve_seconds = time.perf_counter() - start
        return plan

    def _prune(self, minute: int, spend: np.ndarray) -> None:
        """Merge the segments that the plan in force no longer needs (`prune`), the past's
        at the actual spend (minute, P), yuan/min."""
        f = self.engine.formulation
        planned = np.vstack([spend, self.settings[minute:]])
        merged = prune(f, f.cell_index(planned), f.cell_minute < minute)
        self.engine.pruned(merged)
        self.reachable_share.pruned(f, merged)

    def _closest(self, start: float, minute: int, spend: np.ndarray, paid: np.ndarray,
                 organic: np.ndarray, day: DayRatio | None, levels: np.ndarray,
                 recovered: bool = False) -> Plan | None:
        """The rest of the session as close to its floors as it gets (`shortfall`), when no
        rest brings the session to them; None when even meeting them alone is out of reach,
        or, with `recovered`, when the rest can bring all the session owes (plan it as usual).

        A re-plan after one that fell short starts here: its warm basis then comes from the
        last plan, not from an infeasible solve, which took 2.2 s once (demo, paid GMV at 40%).
        The first shortfall LP is solved cold: on the pruned program (`prune`), which made
        that re-plan 40-90 ms shorter on the demo (305 ms).
        """
        engine, f = self.engine, self.engine.formulation
        if not self.reachable_share.warm:
            self._prune(minute, spend)

        def past(forgiven: float) -> Past:
            return Past(f, minute, spend, paid, organic, day, levels, forgiven=forgiven)

        limit = self.replan_time_limit or self.problem.time_limit
        share = self.reachable_share(engine, past(0.0), past(1.0),
                                     start + limit - time.perf_counter())
        if recovered and share >= 1.0 - 2 * SHARE_MARGIN:
            return None
        for forgiven in dict.fromkeys((1.0 - share, 1.0)):
            engine.adjust = past(forgiven)
            plan = plan_with(engine, start, past=minute, time_limit=self.replan_time_limit)
            if plan.status != "infeasible":
                plan.warnings += [*engine.adjust.warnings, _closest_words(engine.adjust)]
                return plan
        return None

    def _stopped(self, plan: Plan, minute: int, spend: np.ndarray, paid: np.ndarray,
                 organic: np.ndarray) -> Plan:
        """An infeasible re-plan as the session stands: the realised minutes (spend, GMV)
        and no spend after; when the budget is already overspent, that is the reason, with
        the spend so far (yuan) as the best value."""
        whole = np.zeros((self.problem.minutes, len(self.problem.packages)))
        whole[:minute] = spend
        plan.spend = whole
        plan.forecast = _realised(None, self.problem, whole, paid, organic)
        spent, budget = float(spend.sum()), self.problem.budget
        if self.engine.adjust.overspent:
            words = (f"the budget is already overspent ({spent:,.0f} of {budget:,.0f} yuan by "
                     f"minute {minute}): nothing is left to plan, and the session as it stands "
                     "misses the floors or the GMV target")
            plan.infeasibility = Infeasibility("budget", words, {"spend": spent})
            plan.warnings = [words, *plan.warnings[1:]]
        elif plan.infeasibility is not None and not plan.infeasibility.best:
            plan.infeasibility = replace(plan.infeasibility, best={
                "spend": spent, "total_gmv": plan.forecast.total_gmv})
        return plan


def _closest_words(past: Past) -> str:
    """What a re-plan with `Past(forgiven=...)` did, for the plan's warnings."""
    p = past.f.problem
    level = "at the day's level so far" if past.day else "as the model expects"
    words = (f"no plan for the rest of the session brings the whole session to its floors "
             f"and GMV target {level}: the session misses them")
    named = {name: f"{'paid' if name == 'paid_floor' else 'overall'} ROI >= {roi:.2f}"
             for name, roi in past.floors.items()}
    if p.gmv_target is not None:  # owed under min_spend
        named["gmv_target"] = f"the GMV target of {p.gmv_target:,.0f}"
    short = [named[name] for name, owed in past.owed.items() if owed > 0]
    if short and past.forgiven >= 1.0:
        words += "; the rest is planned to meet the floors on its own"
    elif short:
        words += (f"; the rest brings as much as it can of what the session still owes "
                  f"({', '.join(short)}): {1 - past.forgiven:.0%} of it")
    if past.drop_target and p.gmv_target is not None:
        words += f", for the most GMV it can bring without the target ({p.gmv_target:,.0f})"
    return words


def _realised(expected: Forecast | None, problem: PlanningProblem, spend: np.ndarray,
              paid: np.ndarray, organic: np.ndarray) -> Forecast:
    """The forecast of `spend` (T, P) with the realised paid (m, P) and organic (m,) GMV in its
    first m minutes (`expected`: the forecast of `spend` when already made)."""
    expected = expected or Forecast.of(problem.response, spend)
    realised_paid, realised_organic = expected.paid_gmv.copy(), expected.organic_gmv.copy()
    realised_paid[:len(organic)], realised_organic[:len(organic)] = paid, organic
    return Forecast(spend, realised_paid, expected.organic_uplift_by_package, realised_organic)


def _actuals(values, shape: tuple[int, ...], name: str) -> np.ndarray:
    """`values` as a float array of `shape` (yuan), every one a finite number >= 0
    (`yuan_values`); bad input (`InputError`, naming `name`) otherwise."""
    array = yuan_values(values, name)
    if array.size != int(np.prod(shape)):
        raise InputError(f"has {array.size} values, the minutes so far need {shape} "
                         "(minutes x packages)", where=name,
                         fix="give one row per minute before `minute`, one column per package")
    return array.reshape(shape)
