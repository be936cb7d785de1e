"""The one place the service calls `optimizer.planner`: build a problem, solve, re-plan, fall back.

Every array the service keeps is for the whole session: spend and expected paid GMV (T, P) in
yuan per minute, organic GMV (T,) yuan per minute, with the realised actuals in the minutes
before `from_minute`. `Planner` turns the planner's own `Plan` into that form (`Solved`);
`fallback` scales the last valid plan to the remaining budget when a re-plan cannot finish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.api.runner import TimedOut
from optimizer.curves import SessionResponse
from optimizer.data import CampaignConfig

if TYPE_CHECKING:
    from optimizer.api.campaign import Campaign


@dataclass(frozen=True)
class Actuals:
    """What happened in minutes [0, minute): spend, paid_gmv (minute, P) and organic_gmv
    (minute,), yuan."""

    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: np.ndarray

    @property
    def minute(self) -> int:
        """The first minute without actuals."""
        return len(self.organic_gmv)

    @classmethod
    def empty(cls, packages: int) -> Actuals:
        return cls(np.zeros((0, packages)), np.zeros((0, packages)), np.zeros(0))


@dataclass(frozen=True)
class Limits:
    """Per-package limits (P,), yuan per minute: max_spend (inf: none), min_active (0: none);
    unit: the platform's spend unit, change_step: its least change of a package's level, yuan
    per minute (None: any amount)."""

    max_spend: np.ndarray
    min_active: np.ndarray
    unit: float | None = None
    change_step: float | None = None

    @property
    def first_steps(self) -> np.ndarray:
        """(P,) yuan/min: the least spend a package may start with in a minute
        (`optimizer.planner.sensitivity.least_steps`)."""
        from optimizer.planner.sensitivity import least_steps

        return least_steps(self.min_active, self.change_step, self.unit)

    @classmethod
    def of(cls, config: CampaignConfig, packages: tuple[str, ...]) -> Limits:
        given = [config.packages.get(p) for p in packages]
        high = [np.inf if g is None or g.max_spend_per_minute is None
                else g.max_spend_per_minute for g in given]
        low = [0.0 if g is None or g.min_spend_when_active is None
               else g.min_spend_when_active for g in given]
        return cls(np.array(high, dtype=float), np.array(low, dtype=float),
                   config.platform.spend_unit, config.platform.change_step)


@dataclass(frozen=True)
class Solved:
    """A plan for the whole session in the service's terms.

    status: optimal | feasible (a time limit stopped the solver with a plan) | infeasible |
        fallback (the last plan scaled, see `fallback`) | complete (every minute is past).
    spend, paid_gmv: (T, P) yuan/min; organic_gmv: (T,) yuan/min, baseline included; rows
        before `from_minute` hold the actuals, the rest what the plan expects.
    marginal_roi, marginal_paid_roi: (T, P) session GMV (total, or paid only) that one more
        yuan of a package's spend in that minute brings, at the plan (yuan per yuan, carryover
        included): the threshold a bidder compares traffic against; in a minute the package
        does not spend, per yuan of the least spend the rules allow it there.
    budget_price: shadow price of the budget (objective yuan per extra yuan), None if unknown.
    fallback: why the last plan was scaled instead of re-planned (timeout | infeasible | error).
    """

    status: str
    from_minute: int
    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: np.ndarray
    marginal_roi: np.ndarray
    marginal_paid_roi: np.ndarray
    budget_price: float | None
    solve_seconds: float
    message: str | None = None
    fallback: str | None = None

    @property
    def valid(self) -> bool:
        """Whether the bidder can follow this plan."""
        return self.status != "infeasible"


PROBLEM_FIELDS = {
    "budget": "config.budget", "objective": "config.objective",
    "slot_minutes": "config.session.slot_minutes", "gmv_target": "config.gmv_target",
    "paid_roi_min": "config.roi.paid_min", "overall_roi_min": "config.roi.overall_min",
    "margin": "config.margin", "max_spend_per_minute": "config.packages",
    "min_spend_when_active": "config.packages",
}


def config_field(where: str | None) -> str:
    """The request field a planner's `InputError.where` is about."""
    if not where:
        return "config"
    return PROBLEM_FIELDS.get(where, where if where.startswith("config") else f"config.{where}")


class Planner:
    """Calls into `optimizer.planner` (the real solver). Tests may pass a subclass."""

    def problem(self, campaign: Campaign, response: SessionResponse,
                time_limit: float) -> Any:
        """The planning problem of the campaign's session (`pipeline.planning_problem`), its
        solver time limit no more than `time_limit` seconds (the solve at expectation that
        `planner.confidence` measures its bound at as well)."""
        from optimizer import pipeline

        config = campaign.config
        limited = config.planner.model_copy(
            update={"time_limit": min(config.planner.time_limit, time_limit)})
        session = replace(campaign.as_pipeline(),
                          config=config.model_copy(update={"planner": limited}))
        return pipeline.planning_problem(session, campaign.model, response)

    def solve(self, problem: Any) -> Solved:
        """The plan made before the session starts (as `spendplan plan` makes it)."""
        from optimizer.planner import solve

        started = time.perf_counter()
        plan = solve(problem)
        return from_plan(plan, Actuals.empty(len(problem.response.packages)),
                         problem, time.perf_counter() - started)

    def replanner(self, problem: Any, replan_time_limit: float) -> Any:
        """A re-planner of `problem`, built once per plan and kept: building it solves the
        session once within the problem's time limit, each re-plan then takes at most
        `replan_time_limit` seconds."""
        from optimizer.planner import Replanner

        return Replanner(problem, replan_time_limit)

    def replan(self, replanner: Any, actuals: Actuals, stop_at: float | None = None
               ) -> Solved:
        """Re-solve minutes [actuals.minute, T) for the remaining budget and session floors;
        `TimedOut` when the solver stops at its time limit (or at `stop_at`, time.perf_counter
        seconds, when the caller stops waiting) without a plan."""
        from optimizer.planner import NoPlanInTime

        started = time.perf_counter()
        try:
            plan = replanner.replan(actuals.minute, actuals.spend, actuals.paid_gmv,
                                    actuals.organic_gmv, stop_at=stop_at)
        except NoPlanInTime:  # its words name planner.time_limit, which the server overrides
            raise TimedOut("the solver found no plan within the re-plan's share of the time "
                           "budget") from None
        return from_plan(plan, actuals, replanner.problem, time.perf_counter() - started)


def from_plan(plan: Any, actuals: Actuals, problem: Any, seconds: float) -> Solved:
    """The planner's `Plan` of `problem` (a `PlanningProblem`) in the service's terms, the
    actuals in its first rows."""
    from optimizer.planner.sensitivity import problem_steps

    response = problem.response
    m, T = actuals.minute, response.minutes
    status = str(plan.status)
    if status == "infeasible":
        reason = plan.infeasibility
        empty = np.zeros((T, len(response.packages)))
        return Solved(status="infeasible", from_minute=m, spend=empty, paid_gmv=empty,
                      organic_gmv=np.zeros(T), marginal_roi=empty, marginal_paid_roi=empty,
                      budget_price=None, solve_seconds=seconds,
                      message=reason.message if reason else "no plan meets every requirement",
                      fallback="timeout" if reason and reason.requirement == "time limit"
                      else None)
    spend = np.vstack([actuals.spend, np.asarray(plan.spend, dtype=float)[m:]])
    paid = np.vstack([actuals.paid_gmv, np.asarray(plan.paid_gmv, dtype=float)[m:]])
    organic = np.concatenate([actuals.organic_gmv, np.asarray(plan.organic_gmv)[m:]])
    price = (plan.shadow_prices or {}).get("budget")
    total, paid_only = marginals(response, spend, problem_steps(problem))
    return Solved(status=status, from_minute=m, spend=spend, paid_gmv=paid,
                  organic_gmv=organic, marginal_roi=total, marginal_paid_roi=paid_only,
                  budget_price=float(price) if price is not None else None,
                  solve_seconds=seconds, message="; ".join(getattr(plan, "warnings", ()))
                  or None)


def marginals(response: SessionResponse, spend: np.ndarray, first_steps: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(T, P) marginal session GMV per yuan at `spend`: total, and paid only; where a package
    spends nothing, per yuan of its first step (`first_steps`, (P,) yuan/min)."""
    from optimizer.planner.forecast import marginal_gmv

    return (marginal_gmv(response, spend, first_steps=first_steps),
            marginal_gmv(response, spend, paid_only=True, first_steps=first_steps))


def fallback(previous: Solved, actuals: Actuals, budget: float, limits: Limits,
             response: SessionResponse, reason: str, message: str) -> Solved:
    """The previous plan's remaining spend, fitted to the remaining budget.

    Minutes [m, T) keep the previous plan's spend, capped per package; when that is more
    than the budget left (`budget` minus the actual spend), every minute is scaled down by the
    same factor, rounded down to whole spend units when the platform has them, and a package
    whose scaled spend drops below its `min_active` gets 0 in that minute (so the plan never
    spends more than what is left). Scaled moves can fall under the platform's change step.
    Expected GMV comes from `response` on the whole schedule (actual spend first). No budget
    shadow price: the last plan's (2.36 after a 90,000 yuan overspend) is not this schedule's.
    """
    started = time.perf_counter()
    m = actuals.minute
    rest = np.minimum(previous.spend[m:], limits.max_spend)
    left = max(budget - float(actuals.spend.sum()), 0.0)
    total = float(rest.sum())
    if total > left:
        rest = rest * (left / total)
        if limits.unit:
            rest = np.floor(rest / limits.unit + 1e-9) * limits.unit
        rest[(rest > 0) & (rest < limits.min_active)] = 0.0
    spend = np.vstack([actuals.spend, rest])
    paid = np.vstack([actuals.paid_gmv, response.paid_gmv(spend)[m:]])
    organic = np.concatenate([actuals.organic_gmv, response.organic_gmv(spend)[m:]])
    total, paid_only = marginals(response, spend, limits.first_steps)
    return Solved(status="fallback", from_minute=m, spend=spend, paid_gmv=paid,
                  organic_gmv=organic, marginal_roi=total, marginal_paid_roi=paid_only,
                  budget_price=None,  # the last plan's price is not this schedule's
                  solve_seconds=time.perf_counter() - started, message=message, fallback=reason)


def complete(actuals: Actuals, previous: Solved) -> Solved:
    """The record of a session whose every minute has actuals."""
    return Solved(status="complete", from_minute=actuals.minute, spend=actuals.spend,
                  paid_gmv=actuals.paid_gmv, organic_gmv=actuals.organic_gmv,
                  marginal_roi=previous.marginal_roi,
                  marginal_paid_roi=previous.marginal_paid_roi,
                  budget_price=previous.budget_price, solve_seconds=0.0)
