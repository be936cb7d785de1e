"""`solve(problem) -> Plan`: the fast exact path when it applies, else the adaptive program.

Order: separable problems go to water-filling (exact, shadow prices by finite differences);
large continuous ones are planned on a coarser time grid and certified per minute (`coarse`),
with the per-minute program only when that plan is not within tolerance; everything else goes
to the program (`Engine`), then the integer rules (`solve_integer`). A plan
that can spend nothing because of an ROI floor, or a program with no feasible point, is
reported as infeasible with `diagnose`'s words and best reachable values. A solver that stops
without any plan is not infeasibility: the time limit raises `NoPlanInTime` (bad input, exit 2:
allow more time), a numerical failure `SolverFailure` (internal error, exit 1).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from optimizer.planner.coarse import CoarsePlan, coarse_slot, plan_coarse
from optimizer.planner.diagnose import LEAST_SPEND, diagnose, floors_block_spend
from optimizer.planner.engine import Engine
from optimizer.planner.forecast import Forecast, forecast_objective, objective_value
from optimizer.planner.integer import solve_integer
from optimizer.planner.plan import Infeasibility, NoPlanInTime, Plan, SolverFailure
from optimizer.planner.problem import PlanningProblem
from optimizer.planner.program import Formulation
from optimizer.planner.sensitivity import describe, floor_warnings, session_prices
from optimizer.planner.waterfill import applies, waterfill


def solve(problem: PlanningProblem) -> Plan:
    """The best plan for `problem` (see `Plan` for what it reports)."""
    start = time.perf_counter()
    if applies(problem):
        spend = waterfill(problem)
        if spend is not None and not _floors_stop_spend(problem, spend):
            return _closed_form_plan(problem, spend, start)
    slot = coarse_slot(problem)
    coarse = None if slot is None else plan_coarse(problem, slot, start + problem.time_limit)
    if coarse is None or _floors_stop_spend(problem, coarse.spend):
        return plan_with(Engine(Formulation(problem)), start)
    if coarse.gap <= problem.tolerance:
        return _coarse_plan(coarse, "optimal", start)
    try:  # the rest of the time on the per-minute program
        fine = plan_with(Engine(coarse.formulation), start)
    except (NoPlanInTime, SolverFailure):
        fine = None
    if (
        fine is not None
        and fine.status != "infeasible"
        and fine.exact_objective_value >= coarse.value
    ):
        return fine
    return _coarse_plan(coarse, "feasible", start)


def plan_with(engine: Engine, start: float, past: int = 0,
              time_limit: float | None = None) -> Plan:
    """Solve `engine`'s program (continuous, then integer rules) into a `Plan`.

    past: minutes already fixed by the re-planner (their spend is in the program's bounds).
    time_limit: seconds from `start` (default: the problem's `time_limit`).
    """
    problem = engine.problem
    limit = problem.time_limit if time_limit is None else time_limit
    deadline = start + limit
    outcome = engine.solve_continuous(deadline)
    if outcome.cause != "time_limit" and outcome.status in ("infeasible", "failed") \
            and not past and problem.gmv_target is not None:
        outcome = _through_reachable_plan(engine, deadline) or outcome
    if outcome.status in ("optimal", "feasible") and problem.needs_integers:
        outcome = solve_integer(engine, outcome, deadline)
    if outcome.status == "infeasible" and past:
        words = (
            f"with the spend and GMV of the first {past} minutes, no plan for the rest of the "
            "session meets the floors and the GMV target over the whole session"
        )
        return infeasible_plan(problem, Infeasibility("the rest of the session", words), start)
    if outcome.status == "infeasible":
        return infeasible_plan(problem, diagnose(problem, deadline), start)
    if outcome.status == "failed":
        raise _no_plan(limit, outcome, engine.backend.name)
    spend = _within_budget(outcome.spend, problem.budget, past)
    if past == 0 and _floors_stop_spend(problem, spend):
        blocked = floors_block_spend(problem, deadline)
        if blocked is not None:
            return infeasible_plan(problem, blocked, start)
    prices = {}
    if outcome.row_duals is not None:
        prices = session_prices(problem, engine.formulation.rows, outcome.row_duals, spend)
    binding, shadow = describe(problem, spend, prices)
    warnings = [*outcome.warnings, *(floor_warnings(problem, spend, prices) if not past else ())]
    forecast = Forecast.of(problem.response, spend)
    return Plan(
        problem,
        spend,
        outcome.status,
        solve_seconds=time.perf_counter() - start,
        objective_value=outcome.program_objective,
        exact_objective_value=forecast_objective(problem, forecast),
        bound=outcome.bound,
        mip_gap=outcome.mip_gap,
        binding=binding,
        shadow_prices=shadow,
        warnings=warnings,
        solver=engine.backend.name,
        rounds=outcome.rounds,
        forecast=forecast,
    )


def _within_budget(spend: np.ndarray, budget: float, past: int) -> np.ndarray:
    """(T, P) yuan/min: `spend` with minutes [past, T) scaled down to the budget left after
    the first `past` minutes (none when those overspent it) if the solver's tolerance left
    them over it (3e-5 yuan planned after a spent budget was seen)."""
    left = max(budget - float(spend[:past].sum()), 0.0)
    total = float(spend[past:].sum())
    if total <= left:
        return spend
    within = spend.copy()
    within[past:] *= left / total
    return within


def _through_reachable_plan(engine: Engine, deadline: float):
    """The continuous program re-solved with breakpoints where the best plan for GMV under the
    same floors sits, when that plan reaches the GMV target; else None.

    Chords understate GMV between breakpoints, so near the most GMV the floors allow, the
    first breakpoints can leave a target that is within reach looking infeasible (650,000 of
    at most 679,443 on the demo with a budget of 10,000,000), and the cells' whole ranges,
    opened then, can be too wide for the solver. At that plan's indexes the program is exact,
    so the plan is feasible for it and the adaptive rounds go on from there.
    """
    problem = engine.problem
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    try:
        best = solve(problem.continuous(objective="max_gmv", gmv_target=None, time_limit=left))
    except (NoPlanInTime, SolverFailure):
        return None  # the diagnosis says what it can
    if best.status == "infeasible" or best.expected_total_gmv < problem.gmv_target:
        return None
    f = engine.formulation
    f.refine(np.arange(len(f.cell_lo)), f.cell_index(best.spend))
    engine.reset()
    outcome = engine.solve_continuous(deadline)
    return outcome if outcome.spend is not None else None


def _no_plan(time_limit: float, outcome, solver: str) -> Exception:
    """What the solver stopping without any plan raises: never an "infeasible" plan."""
    if outcome.cause == "time_limit":
        return NoPlanInTime(time_limit)
    return SolverFailure(
        f"the {solver} solver failed on this program without finding a plan (numerical "
        f"trouble, not infeasibility); {'; '.join(outcome.warnings) or 'no details'}"
    )


def infeasible_plan(problem, reason: Infeasibility, start: float, warnings=()) -> Plan:
    """An all-zero plan with status infeasible and the reason."""
    spend = np.zeros((problem.minutes, len(problem.packages)))
    return Plan(
        problem,
        spend,
        "infeasible",
        solve_seconds=time.perf_counter() - start,
        infeasibility=reason,
        warnings=[reason.message, *warnings],
    )


def _floors_stop_spend(problem: PlanningProblem, spend: np.ndarray) -> bool:
    """Whether ROI floors leave a plan that wants to spend with (next to) nothing: less than
    `LEAST_SPEND` yuan, or half the budget if that is less."""
    floors = problem.paid_roi_min or problem.overall_roi_min
    wants_spend = problem.objective != "min_spend" and problem.budget > 0
    least = min(LEAST_SPEND, 0.5 * problem.budget)
    return bool(floors and wants_spend and spend.sum() < least)


def _coarse_plan(coarse: CoarsePlan, status: str, start: float) -> Plan:
    """A `Plan` of the coarse grid's plan, certified on the session's minutes."""
    problem, spend = coarse.formulation.problem, coarse.spend
    prices = session_prices(problem, coarse.formulation.rows, coarse.row_duals, spend)
    binding, shadow = describe(problem, spend, prices)
    warnings = list(coarse.outcome.warnings)
    if status != "optimal":
        warnings.append(
            f"planned on {coarse.slot}-minute slots; within {coarse.gap:.2%} of the best "
            f"possible plan (tolerance {problem.tolerance:.2%}) when the time limit ended"
        )
    return Plan(
        problem,
        spend,
        status,
        solve_seconds=time.perf_counter() - start,
        objective_value=coarse.value,
        exact_objective_value=coarse.value,
        bound=coarse.bound,
        binding=binding,
        shadow_prices=shadow,
        warnings=warnings,
        solver=f"{coarse.solver} on {coarse.slot}-minute slots, certified per minute",
        rounds=coarse.outcome.rounds,
    )


def _closed_form_plan(problem: PlanningProblem, spend: np.ndarray, start: float) -> Plan:
    value = objective_value(problem, spend)
    prices = {}
    steps = {
        "budget": ("budget", max(1e-3 * problem.budget, 1.0)),
        "paid_roi_min": ("paid_roi_min", 1e-3 * (problem.paid_roi_min or 0)),
        "overall_roi_min": ("overall_roi_min", 1e-3 * (problem.overall_roi_min or 0)),
        "gmv_target": ("gmv_target", 1e-3 * (problem.gmv_target or 0)),
    }
    for key, (name, step) in steps.items():
        current = getattr(problem, name)
        if not current or step <= 0:
            continue
        moved = waterfill(replace(problem, **{name: current + step}))
        change = 0.0 if moved is None else objective_value(problem, moved) - value
        prices[key] = change / step if abs(change) > 1e-9 * max(abs(value), 1.0) else 0.0
    binding, shadow = describe(problem, spend, prices)
    return Plan(
        problem,
        spend,
        "optimal",
        solve_seconds=time.perf_counter() - start,
        objective_value=value,
        exact_objective_value=value,
        bound=value,
        binding=binding,
        shadow_prices=shadow,
        solver="water-filling",
    )
