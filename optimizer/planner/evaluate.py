"""Forecast of a given spend schedule (the `evaluate` command), with the rules it breaks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.curves.response import SessionResponse
from optimizer.data.checks import boolean_cells
from optimizer.errors import InputError
from optimizer.planner.forecast import Forecast, objective_value
from optimizer.planner.plan import Plan
from optimizer.planner.problem import PlanningProblem

_TOL = 1e-9


def yuan_values(values, where: str, columns: Sequence[str] | None = None) -> np.ndarray:
    """`values` (minutes on axis 0) as a float array whose every entry is a finite number >= 0
    (yuan, or yuan per minute), not True or False; bad input (`InputError` naming `where`)
    otherwise, with the first bad entry: its minute, and its package from `columns` (axis 1)."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError("is not a table of numbers", where=where,
                         fix="give yuan per minute, one row per minute") from None
    bad = ~np.isfinite(array) | (array < 0) | boolean_cells(values)
    if bad.any():
        first = np.argwhere(bad)[0]
        cell = f"minute {first[0]}" + (f", {columns[first[1]]}" if columns is not None
                                       and len(first) > 1 else "")
        raise InputError(f"{bad.sum()} value(s) not a number >= 0, the first at {cell}: "
                         f"{np.asarray(values)[tuple(first)]}", where=where,
                         fix="give yuan per minute >= 0 in every cell (0 for none)")
    return array


def evaluate_schedule(
    response: SessionResponse, spend: np.ndarray, problem: PlanningProblem | None = None
) -> Plan:
    """Exact model values of `spend` (T, P yuan/min), status "evaluated".

    With a `problem`, the rules the schedule breaks (budget, caps, min_spend_when_active, the
    slot length and platform rules, floors, GMV target) are listed in `Plan.broken_rules` and
    as warnings.
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
    out += _platform_breaks(problem, spend)
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


def _platform_breaks(problem: PlanningProblem, spend: np.ndarray) -> list[str]:
    """The slot length and the platform's rules (`PlatformRules`) that `spend` breaks, per
    package: levels that change inside a slot, levels not in whole units, more level changes
    than allowed, changes smaller than the step."""
    rules, slot, out = problem.rules, problem.slot_minutes, []
    moved = 1e-6 * max(float(np.abs(spend).max(initial=0.0)), 1.0)  # yuan/min that count
    levels = spend[::slot]  # (slots, P) the level each slot starts at
    within = np.abs(spend - np.repeat(levels, slot, axis=0)[: len(spend)]) > moved
    moves = np.abs(np.diff(levels, axis=0))
    for k, name in enumerate(problem.packages):
        uneven = len(np.unique(np.flatnonzero(within[:, k]) // slot))
        if uneven:
            out.append(f"slot length of {name}: the level changes inside {uneven} slot(s) of "
                       f"{slot} minutes")
        if rules.spend_unit:
            units = levels[:, k] / rules.spend_unit
            off = int(np.count_nonzero(np.abs(units - np.round(units)) * rules.spend_unit > moved))
            if off:
                out.append(f"spend_unit of {name}: {off} level(s) not a whole multiple of "
                           f"{rules.spend_unit:g} yuan/min")
        changes = moves[:, k] > moved
        if rules.max_changes is not None and changes.sum() > rules.max_changes:
            out.append(f"max_changes of {name}: {int(changes.sum())} level changes, "
                       f"{rules.max_changes} allowed")
        small = int(np.count_nonzero(changes & (moves[:, k] < (rules.change_step or 0) - moved)))
        if small:
            out.append(f"change_step of {name}: {small} change(s) smaller than "
                       f"{rules.change_step:g} yuan/min")
    return out
