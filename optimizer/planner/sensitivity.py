"""Binding requirements and shadow prices of a plan, in words and yuan a bidder can use.

Shadow prices of the session requirements come from the program's row duals (objective yuan
per unit); the per-package marginal ROI comes from the exact model at the plan (duals of a
piecewise program are not meaningful per package).
"""

from __future__ import annotations

import numpy as np

from optimizer.planner.forecast import marginal_gmv
from optimizer.planner.problem import PlanningProblem

REQUIREMENTS = {
    "budget": "budget",
    "paid_floor": "paid ROI floor",
    "overall_floor": "overall ROI floor",
    "gmv_target": "GMV target",
}
_AT = 1e-6


def session_prices(problem: PlanningProblem, rows: dict[str, int], duals: np.ndarray, spend):
    """Shadow prices of budget, floors and target from row duals (d = c - A^T y convention).

    budget: objective yuan per extra yuan of budget; paid_roi_min / overall_roi_min: objective
    yuan per +1.0 of the floor; gmv_target: objective yuan per extra yuan of target.
    """
    total = float(np.sum(spend))
    prices = {}
    for name, row in rows.items():
        y = float(duals[row])
        if name == "budget":
            prices["budget"] = y
        elif name == "gmv_target":
            prices["gmv_target"] = y
        else:
            prices[name.replace("_floor", "_roi_min")] = y * total
    return prices


def describe(problem: PlanningProblem, spend: np.ndarray, prices: dict[str, float]):
    """(binding, shadow_prices) for a plan: requirement prices plus per-package marginal ROI."""
    binding = [
        REQUIREMENTS[name]
        for name, key in (
            ("budget", "budget"),
            ("paid_floor", "paid_roi_min"),
            ("overall_floor", "overall_roi_min"),
            ("gmv_target", "gmv_target"),
        )
        if abs(prices.get(key, 0.0)) > 1e-9
    ]
    caps = problem.spend_caps
    for k, name in enumerate(problem.packages):
        at_cap = int(np.sum((spend[:, k] >= caps[k] * (1 - _AT)) & (caps[k] > 0)))
        label = _cap_name(problem, k)
        if label and at_cap:
            binding.append(f"{label} of {name} ({at_cap} minutes)")
    binding += _pacing_binding(problem, spend)
    steps = problem_steps(problem)
    total = marginal_gmv(problem.response, spend, first_steps=steps)
    paid = marginal_gmv(problem.response, spend, paid_only=True)
    packages = {}
    for k, name in enumerate(problem.packages):
        weights = spend[:, k]
        if weights.sum() > 0:
            packages[name] = {
                "marginal_roi": float(np.average(total[:, k], weights=weights)),
                "marginal_paid_roi": float(np.average(paid[:, k], weights=weights)),
            }
        else:
            packages[name] = _first_step(problem, spend, k, float(steps[k]), total[:, k])
    return binding, {**prices, "packages": packages}


FIRST_STEP = 1.0
"""Yuan/min: the least step an unspent package's marginal ROI is measured over."""


def least_steps(min_active: np.ndarray, change_step: float | None, unit: float | None
                ) -> np.ndarray:
    """(P,) yuan/min: the least spend the rules allow a package in a minute it did not spend
    (`min_active` per package, a `change_step` from zero, at least `FIRST_STEP`), rounded up
    to whole spend `unit`s."""
    step = np.maximum(np.maximum(np.asarray(min_active, dtype=float), change_step or 0.0),
                      FIRST_STEP)
    return np.ceil(step / unit - 1e-9) * unit if unit else step


def problem_steps(problem: PlanningProblem) -> np.ndarray:
    """`least_steps` of the problem's packages under its rules, (P,) yuan/min."""
    rules = problem.rules
    return least_steps(problem.min_spend_when_active, rules.change_step, rules.spend_unit)


def _first_step(problem: PlanningProblem, spend: np.ndarray, k: int, step: float,
                marginal: np.ndarray) -> dict[str, float]:
    """GMV per yuan of package k's first `step` (yuan/min, `least_steps`) over a whole slot,
    in the slot where `marginal` (its GMV per yuan of that step in each minute) is highest.
    The derivative at zero spend is no guide: a Hill curve of shape below 1 is vertical
    there, and a package an integer plan left out read "marginal ROI 96.96" (its least step,
    20 yuan/min for a 15-minute slot, returned 3.79 per yuan)."""
    slot = problem.slot_minutes
    best = int(np.argmax(marginal.reshape(-1, slot).sum(axis=1)))
    tried = np.array(spend, dtype=float)
    tried[best * slot:(best + 1) * slot, k] += step
    response, cost = problem.response, step * slot
    paid = float(response.paid_gmv(tried).sum() - response.paid_gmv(spend).sum())
    uplift = float(response.organic_uplift(tried).sum() - response.organic_uplift(spend).sum())
    return {"marginal_roi": (paid + uplift) / cost, "marginal_paid_roi": paid / cost}


UNSPENT_SHARE = 0.5
"""A `max_gmv` plan spending less than this share of its budget because a floor binds says so."""


def floor_warnings(problem: PlanningProblem, spend: np.ndarray, prices: dict[str, float]
                   ) -> list[str]:
    """Words for each ROI floor that binds in a `max_gmv` plan spending less than
    `UNSPENT_SHARE` of the budget: the floor, not the budget, sets the spend (on a truth the
    fit did not assume, a plan spent 942 of 148,900 yuan under a floor, and said nothing)."""
    total = float(np.sum(spend))
    if problem.objective != "max_gmv" or total >= UNSPENT_SHARE * problem.budget:
        return []
    words = []
    for key, label in (("paid_roi_min", "paid ROI"), ("overall_roi_min", "overall ROI")):
        floor = getattr(problem, key)
        if floor and abs(prices.get(key, 0.0)) > 1e-9:
            words.append(
                f"{label} >= {floor:g} holds only up to {total:,.0f} yuan, "
                f"{total / problem.budget:.0%} of the budget: spending more would take the "
                f"plan's {label} below {floor:g} on the fitted curves; a lower floor lets it "
                "spend more")
    return words


def _cap_name(problem: PlanningProblem, k: int) -> str | None:
    """What sets package k's spend cap: the config's cap, the spend history has seen (the
    spend reach), or neither (None: only the budget limits it)."""
    cap, configured = problem.spend_caps[k], problem.max_spend_per_minute[k]
    if cap >= configured * (1 - _AT):
        return "cap"
    reach = problem.spend_reach
    factor = problem.reach_factor
    if reach is None or cap < reach[k] * factor * (1 - _AT):
        return None
    least = problem.min_spend_when_active[k]
    if least > 0 and cap <= least * (1 + _AT):
        return (f"least spend when active ({cap:,.0f} yuan/min, past the spend history saw: "
                "the package runs at it or not at all)")
    if factor > 1:
        return (f"spend reach ({cap:,.0f} yuan/min: history's spend x{factor:.2f}, raised so "
                "that the budget can be spent)")
    multiples = problem.reach_multiples
    if multiples is not None and multiples[k] > 1:
        return (f"spend reach ({cap:,.0f} yuan/min: {multiples[k]:g} x history's, as far as "
                "the curve's lower bound pays)")
    return f"spend reach ({cap:,.0f} yuan/min, from history)"


def _pacing_binding(problem: PlanningProblem, spend: np.ndarray) -> list[str]:
    pacing = problem.pacing
    if pacing is None:
        return []
    cumulative = np.cumsum(spend.sum(axis=1))
    out = []
    tol = _AT * max(problem.budget, 1.0)
    for name, bound, sign in (("lower", pacing.lower, 1), ("upper", pacing.upper, -1)):
        if bound is None:
            continue
        hits = int(np.sum(sign * (cumulative - bound * problem.budget) <= tol))
        if hits:
            out.append(f"pacing {name} bound ({hits} minutes)")
    return out
