"""Forecast of a given spend schedule (the `evaluate` command), with the rules it breaks."""

from __future__ import annotations

import numpy as np

from optimizer.curves.response import SessionResponse
from optimizer.planner.forecast import Forecast, objective_value
from optimizer.planner.plan import Plan
from optimizer.planner.problem import PlanningProblem

_TOL = 1e-9


def evaluate_schedule(
    response: SessionResponse, spend: np.ndarray, problem: PlanningProblem | None = None
) -> Plan:
    """Exact model values of `spend` (T, P yuan/min), status "evaluated".

    With a `problem`, the rules the schedule breaks (budget, caps, min_spend_when_active,
    floors, GMV target) are listed in `Plan.broken_rules` and as warnings.
    """
    spend = np.asarray(spend, dtype=float)
    if problem is None:
        problem = PlanningProblem(response=response, budget=float(max(spend.sum(), 0.0)))
    broken = broken_rules(problem, spend)
    return Plan(
        problem,
        spend,
        "evaluated",
        exact_objective_value=objective_value(problem, spend),
        warnings=[f"the schedule breaks: {rule}" for rule in broken],
        broken_rules=broken,
    )


def broken_rules(problem: PlanningProblem, spend: np.ndarray) -> list[str]:
    """Plain-words list of the problem's rules that `spend` breaks."""
    out = []
    total = float(spend.sum())
    if (spend < 0).any():
        out.append(f"negative spend in {int((spend < 0).sum())} minute(s)")
    if total > problem.budget * (1 + _TOL):
        out.append(f"budget: {total:,.0f} yuan planned, {problem.budget:,.0f} allowed")
    for k, name in enumerate(problem.packages):
        cap, low = problem.max_spend_per_minute[k], problem.min_spend_when_active[k]
        over = int((spend[:, k] > cap * (1 + _TOL) + _TOL).sum())
        if over:
            out.append(f"cap of {name}: above {cap:,.0f} yuan/min in {over} minute(s)")
        under = int(((spend[:, k] > 0) & (spend[:, k] < low * (1 - _TOL))).sum())
        if under:
            out.append(
                f"min_spend_when_active of {name}: between 0 and {low:,.0f} yuan/min in "
                f"{under} minute(s)"
            )
    floor = Forecast.of(problem.floor_model, spend)
    checks = (
        ("paid ROI", problem.paid_roi_min, floor.roi(floor.paid_total)),
        ("overall ROI", problem.overall_roi_min, floor.roi(floor.total_gmv)),
    )
    for name, minimum, value in checks:
        if minimum and value is not None and value < minimum * (1 - _TOL):
            out.append(f"{name} >= {minimum:g}: {value:.2f} expected")
    target = problem.gmv_target
    if target is not None and floor.total_gmv < target * (1 - _TOL):
        out.append(f"GMV target {target:,.0f}: {floor.total_gmv:,.0f} expected")
    return out
