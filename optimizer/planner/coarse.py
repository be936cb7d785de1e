"""Large sessions: plan on a coarser time grid, certify the plan on the session's minutes.

The program of 50 packages x 1,440 minutes has ~75,000 rows and ~300,000 columns: an
interior-point solve alone took minutes. Response curves move slowly compared with a minute,
so the session is first planned on slots of L minutes (`coarse_problem`: each slot one step,
its scale the slot's mean per minute, half-lives divided by L, budget divided by L, so spend
stays in yuan/min and every ROI is unchanged), a program ~L times smaller. Its plan, spread
back over the minutes, meets the budget and caps exactly; the ROI floors are checked on the
exact model and the plan is scaled down until they hold (raising the coarse floor by the
shortfall and solving again did no better). The last two slots are then re-planned per minute
(`_polish_end`): an even spend per slot loses most there. `certificate.plan_bound` bounds the
best per-minute plan with the coarse program's session prices, so the plan's distance from the
optimum is known without solving the per-minute program.

Used for continuous programs only (no integer rules, no pacing, no GMV target) whose chains
have more than `LARGE_ROWS` rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover
from optimizer.planner.certificate import plan_bound
from optimizer.planner.engine import Engine, Outcome
from optimizer.planner.forecast import Forecast, objective_scale, objective_value
from optimizer.planner.past import Past
from optimizer.planner.problem import PlanningProblem
from optimizer.planner.program import Formulation

LARGE_ROWS = 8_000
"""Chain rows above which the coarse grid is tried first."""
_MAX_SLOTS = 120
"""Most slots of the coarse grid (its program then solves in about a second)."""
_BISECTIONS = 40
_PRICE_STEPS = 12


@dataclass
class CoarsePlan:
    """A per-minute plan from the coarse grid and its certificate.

    spend: (T, P) yuan/min; value: its exact objective; bound: upper bound on the best
    per-minute objective (program units); row_duals: the per-minute program's row prices that
    give it; outcome: the coarse program's; slot: L, minutes; solver: the backend's name.
    """

    spend: np.ndarray
    value: float
    bound: float
    row_duals: np.ndarray
    formulation: Formulation
    outcome: Outcome
    slot: int
    solver: str

    @property
    def gap(self) -> float:
        """(bound - value) relative to the objective's scale."""
        problem = self.formulation.problem
        return max(0.0, self.bound - self.value) / objective_scale(problem, self.spend)


def coarse_slot(problem: PlanningProblem) -> int | None:
    """L for the coarse grid, or None when the problem is small or needs what it lacks.

    The smallest multiple of the problem's slot that divides the session into at most
    `_MAX_SLOTS` slots (and at least 4: the last two are re-planned per minute).
    """
    terms = problem.response.paid + problem.response.uplift
    rows = problem.minutes * sum(max(len(t.carryover.decays), 1) for t in terms)
    plain = problem.pacing is None and not problem.needs_integers and problem.gmv_target is None
    if not plain or rows <= LARGE_ROWS:
        return None
    T, step = problem.minutes, problem.slot_minutes
    fits = [L for L in range(step, T + 1, step) if T % L == 0 and T // L <= _MAX_SLOTS]
    return fits[0] if fits and fits[0] > 1 and T // fits[0] >= 4 else None


def coarse_problem(problem: PlanningProblem, slot: int) -> PlanningProblem:
    """The problem on slots of `slot` minutes, spend still in yuan per minute (module doc)."""
    floor = problem.floor_response
    return replace(
        problem,
        response=_coarse_response(problem.response, slot),
        floor_response=None if floor is None else _coarse_response(floor, slot),
        budget=problem.budget / slot,
        slot_minutes=1,
    )


def _coarse_response(response: SessionResponse, slot: int) -> SessionResponse:
    def term(t: ResponseTerm) -> ResponseTerm:
        halves = tuple(h / slot for h in t.carryover.half_lives)
        return replace(t, scale=_mean(t.scale, slot), carryover=Carryover(half_lives=halves))

    return SessionResponse(
        response.packages,
        _mean(response.baseline, slot),
        tuple(term(t) for t in response.paid),
        tuple(term(t) for t in response.uplift),
    )


def _mean(values: np.ndarray, slot: int) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, slot).mean(axis=1)


def plan_coarse(problem: PlanningProblem, slot: int, deadline: float) -> CoarsePlan | None:
    """The coarse grid's plan on the session's minutes with its bound; None when the coarse
    program has no plan (the per-minute program then decides)."""
    engine = Engine(Formulation(coarse_problem(problem, slot)))
    outcome = engine.solve_continuous(deadline)
    if outcome.row_duals is None:
        return None
    fine = Formulation(problem)
    spend = _meet_floors(problem, np.repeat(outcome.spend, slot, axis=0))
    spend = _polish_end(fine, spend, 2 * slot, deadline)
    session = {name: outcome.row_duals[row] for name, row in engine.formulation.rows.items()}
    bound, duals = plan_bound(fine, spend, session)
    value = objective_value(problem, spend)
    plan = CoarsePlan(spend, value, bound, duals, fine, outcome, slot, engine.backend.name)
    if plan.gap > problem.tolerance and time.perf_counter() < deadline:
        _lower_bound_by_budget_price(plan, session)
    return plan


def _polish_end(f: Formulation, spend: np.ndarray, minutes: int, deadline: float) -> np.ndarray:
    """`spend` with its last `minutes` re-planned per minute, the earlier ones fixed.

    Carryover past the session's end counts for nothing, so the best plan tapers off in the
    last minutes, which an even spend over a slot cannot do: most of a coarse plan's distance
    from the optimum is there. The program with the earlier minutes fixed (`Past`) is small
    after presolve.
    """
    problem = f.problem
    first = problem.minutes - minutes
    floor = Forecast.of(problem.floor_model, spend)  # a minute's GMV depends on no later spend
    engine = Engine(f)
    engine.frozen_cells = f.cell_minute < first
    engine.adjust = Past(f, first, spend[:first], floor.paid_gmv[:first], floor.organic_gmv[:first])
    outcome = engine.solve_continuous(deadline)
    if outcome.spend is None:
        return spend
    polished = np.vstack([spend[:first], outcome.spend[first:]])
    better = objective_value(problem, polished) > objective_value(problem, spend)
    return polished if better and _floors_hold(problem, polished) else spend


def _meet_floors(problem: PlanningProblem, spend: np.ndarray) -> np.ndarray:
    """`spend` scaled down (bisection) until the ROI floors hold on the exact floor model."""
    if _floors_hold(problem, spend):
        return spend
    low, high = 0.0, 1.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if _floors_hold(problem, mid * spend) else (low, mid)
    return low * spend


def _floors_hold(problem: PlanningProblem, spend: np.ndarray) -> bool:
    forecast = Forecast.of(problem.floor_model, spend)
    total = forecast.total_spend
    return all(
        not floor or gmv >= floor * total
        for floor, gmv in (
            (problem.paid_roi_min, forecast.paid_total),
            (problem.overall_roi_min, forecast.total_gmv),
        )
    )


def _lower_bound_by_budget_price(plan: CoarsePlan, session: dict[str, float]) -> None:
    """Golden-section search of the budget's price within a factor 2 of the coarse one, on its
    logarithm: the bound is convex in the price (the chains' prices are affine in the session's
    prices), so it has one minimum there."""
    price = session.get("budget", 0.0)
    if price <= 0:
        return

    def bound(log_factor: float) -> tuple[float, np.ndarray]:
        tried = dict(session, budget=price * np.exp(log_factor))
        return plan_bound(plan.formulation, plan.spend, tried)

    golden = (np.sqrt(5.0) - 1) / 2
    a, b = np.log(0.5), np.log(2.0)
    c, d = b - golden * (b - a), a + golden * (b - a)
    fc, fd = bound(c), bound(d)
    for _ in range(_PRICE_STEPS):
        if fc[0] < fd[0]:
            b, d, fd = d, c, fc
            c = b - golden * (b - a)
            fc = bound(c)
        else:
            a, c, fc = c, d, fd
            d = a + golden * (b - a)
            fd = bound(d)
    plan.bound, plan.row_duals = min(fc, fd, (plan.bound, plan.row_duals), key=lambda p: p[0])
