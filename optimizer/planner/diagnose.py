"""Infeasibility in plain words: which requirement fails, and the best value within reach.

Checked in this order, each on the continuous relaxation (so "at most" is an upper bound when
integer rules apply): pacing's minimum spend against the caps; the GMV target against the
budget and caps, then under the ROI floors; each ROI floor, by its highest reachable value:
that of the best plan of `LEAST_SPEND` yuan (GMV / spend falls as the best plan's spend grows),
or with pacing, Dinkelbach's ascent (maximise GMV - lambda x spend, set lambda to the ratio
reached, repeat). A check whose solve stops without a plan claims nothing: the words then say
why the diagnosis stopped (the time limit, or a solver failure).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.curves.response import SessionResponse
from optimizer.planner.engine import MAX_ROUNDS, Engine
from optimizer.planner.forecast import Forecast, marginal_gmv
from optimizer.planner.plan import Infeasibility
from optimizer.planner.problem import PlanningProblem
from optimizer.planner.program import Formulation

_DINKELBACH = 12
_ZERO = 1e-6
_ROUGH_ROUNDS = 8
"""Refinement rounds of Dinkelbach's solves: each ratio is the exact model's at the plan found,
so a plan short of the best only slows the ascent, and plans of a few yuan on curves steep at
zero would take every round the planner allows."""
LEAST_SPEND = 1.0
"""Yuan: a session plan spending less is no plan; the highest ROI is sought at this or more."""


class _Unfinished(Exception):
    """A diagnostic solve stopped without a plan; args[0] is its cause ("time_limit" or
    "error")."""


def diagnose(problem: PlanningProblem, deadline: float) -> Infeasibility:
    """Why `problem` has no plan (or only the empty plan) and what is reachable instead."""
    try:
        for check in (_pacing, _target, _floor("paid"), _floor("overall")):
            found = check(problem, deadline)
            if found is not None:
                return found
    except _Unfinished as stop:
        why = (
            "the time limit ended before the diagnosis found which one; allow more time to see it"
            if stop.args[0] == "time_limit"
            else "the solver failed (numerical trouble) before the diagnosis found which one"
        )
        return Infeasibility("all requirements together", f"no plan meets every requirement; {why}")
    return Infeasibility(
        "all requirements together",
        "the requirements cannot all be met together (each one alone can); relax the pacing "
        "bounds, the integer rules or a floor",
    )


def floors_block_spend(problem: PlanningProblem, deadline: float) -> Infeasibility | None:
    """The ROI floor that leaves only the empty plan, when one does (else None, also when the
    check could not finish)."""
    try:
        for kind in ("paid", "overall"):
            found = _floor(kind)(problem, deadline)
            if found is not None:
                return found
    except _Unfinished:
        pass
    return None


def _pacing(problem: PlanningProblem, deadline: float) -> Infeasibility | None:
    pacing = problem.pacing
    if pacing is None or pacing.lower is None:
        return None
    reachable = np.cumsum(np.full(problem.minutes, problem.spend_caps.sum()))
    need = pacing.lower * problem.budget
    short = np.flatnonzero(need > reachable * (1 + 1e-9))
    if len(short) == 0:
        return None
    t = int(short[0])
    return Infeasibility(
        "pacing lower bound",
        f"pacing needs {need[t]:,.0f} yuan spent by minute {t + 1} but the caps allow at "
        f"most {reachable[t]:,.0f}",
        {"spend": float(reachable[t]), "minute": float(t + 1)},
    )


def _target(problem: PlanningProblem, deadline: float) -> Infeasibility | None:
    if problem.gmv_target is None:
        return None
    target = problem.gmv_target
    free = _variant(problem, paid_roi_min=None, overall_roi_min=None, objective="max_gmv")
    most = _max_gmv(free, deadline)
    words = f"GMV target {target:,.0f}"
    if most < target * (1 - 1e-9):
        return Infeasibility(
            f"GMV target {target:,.0f}",
            f"{words} is out of reach within the budget of {problem.budget:,.0f} yuan and the "
            f"caps: at most {most:,.0f}",
            {"total_gmv": most},
        )
    floors = _floor_words(problem)
    if not floors:
        return None
    most = _max_gmv(_variant(problem, objective="max_gmv"), deadline)
    if most < target * (1 - 1e-9):
        return Infeasibility(
            f"GMV target {target:,.0f}",
            f"{words} is out of reach under {floors}: at most {most:,.0f}",
            {"total_gmv": most},
        )
    return None


def _floor(kind: str):
    def check(problem: PlanningProblem, deadline: float) -> Infeasibility | None:
        floor = problem.paid_roi_min if kind == "paid" else problem.overall_roi_min
        if not floor:
            return None
        ratio, spend, cut = highest_roi(problem, kind, deadline)
        if ratio >= floor * (1 - 1e-9):
            return None
        where = f"at {_yuan(spend)} yuan" if spend > _ZERO else "approached as spend goes to 0"
        requirement = f"{kind} ROI >= {floor:g}"
        spends = f"any spend of {LEAST_SPEND:g} yuan or more" if cut else "any spend"
        return Infeasibility(
            requirement,
            f"{requirement} cannot be met at {spends}; the highest reachable is {ratio:.2f} "
            f"({where})",
            {f"{kind}_roi": ratio, "spend": spend},
        )

    return check


def highest_roi(problem: PlanningProblem, kind: str, deadline: float
                ) -> tuple[float, float, bool]:
    """(highest reachable paid or overall ROI, spend in yuan where it is reached, cut).

    Under the floor model, the budget, caps and pacing (no floors, no target), on the
    continuous relaxation: the best plan of `LEAST_SPEND` yuan when it can be made
    (`_at_least_spend`), else Dinkelbach's method. When the best is at vanishing spend, the
    ratio is the best marginal ROI of the first yuan. cut: the ratio still rose as the session's
    spend fell below `LEAST_SPEND` (a Hill curve of shape < 1 is infinitely steep at 0), or the
    plan of `LEAST_SPEND` yuan answered: the ratio is the highest at that spend or more.
    """
    model = problem.floor_model
    if kind == "paid":
        model = SessionResponse(model.packages, model.baseline, model.paid)
    plain = _variant(
        problem,
        paid_roi_min=None,
        overall_roi_min=None,
        gmv_target=None,
        objective="max_gmv",
        response=model,
        floor_response=None,
    )
    least = _at_least_spend(plain, model, kind, deadline)
    if least is not None:
        return least
    ratio, spend = 0.0, 0.0
    for _ in range(_DINKELBACH):
        step = plain if ratio == 0 else replace(plain, objective="max_profit", margin=1 / ratio)
        outcome = _solved(step, deadline, _ROUGH_ROUNDS)
        if outcome.spend is None:
            break
        forecast = Forecast.of(model, outcome.spend)
        if ratio > 0 and forecast.total_spend < LEAST_SPEND:
            return ratio, spend, True
        if forecast.total_spend <= _ZERO:
            if plain.budget <= 0 or not (plain.spend_caps > 0).any():
                return 0.0, 0.0, False  # nothing can be spent at all
            return (_first_yuan(plain) if kind == "paid" else np.inf), 0.0, False
        gmv = forecast.paid_total if kind == "paid" else forecast.total_gmv
        new = gmv / forecast.total_spend
        if new <= ratio * (1 + 1e-7):
            break
        ratio, spend = new, forecast.total_spend
    return ratio, spend, False


def _at_least_spend(plain: PlanningProblem, model: SessionResponse, kind: str,
                    deadline: float) -> tuple[float, float, bool] | None:
    """(ratio, spend, True) of the best plan of `LEAST_SPEND` yuan: the highest ratio at that
    spend or more, in one solve.

    The best GMV reachable with s yuan, V(s), is concave in s (the value of a concave program as
    its budget grows), and V(0) >= 0, so V(s) / s falls as s grows. Without pacing, whose
    lower bounds are shares of the budget, a plan of `LEAST_SPEND` yuan is allowed whenever a
    larger one is. None when pacing applies or that plan cannot spend the yuan (Dinkelbach's
    ascent then decides).
    """
    if plain.pacing is not None or plain.budget < LEAST_SPEND:
        return None
    outcome = _solved(replace(plain, budget=LEAST_SPEND), deadline, _ROUGH_ROUNDS)
    if outcome.spend is None:
        return None
    forecast = Forecast.of(model, outcome.spend)
    if forecast.total_spend < LEAST_SPEND * (1 - 1e-6):
        return None
    gmv = forecast.paid_total if kind == "paid" else forecast.total_gmv
    return gmv / forecast.total_spend, forecast.total_spend, True


def _first_yuan(problem: PlanningProblem) -> float:
    """Best marginal GMV per yuan at zero spend over the minutes and packages that can spend."""
    marginal = marginal_gmv(problem.response, np.zeros((problem.minutes, len(problem.packages))))
    can = problem.spend_caps > 0
    return float(marginal[:, can].max()) if can.any() else 0.0


def _max_gmv(problem: PlanningProblem, deadline: float) -> float:
    """Largest expected total GMV (floor model) reachable by the continuous relaxation."""
    variant = _variant(problem, gmv_target=None)
    variant = replace(
        variant, objective="max_gmv", response=problem.floor_model, floor_response=None
    )
    outcome = _solved(variant, deadline)
    if outcome.spend is None:
        return float(problem.floor_model.baseline.sum())
    return Forecast.of(problem.floor_model, outcome.spend).total_gmv


def _solved(problem: PlanningProblem, deadline: float, max_rounds: int = MAX_ROUNDS):
    """The continuous relaxation's outcome; raises `_Unfinished` when it stopped without a plan."""
    outcome = Engine(Formulation(problem)).solve_continuous(deadline, max_rounds)
    if outcome.status == "failed":
        raise _Unfinished(outcome.cause)
    return outcome


def _variant(problem: PlanningProblem, **changes) -> PlanningProblem:
    """The problem with changes, integer rules relaxed and a time limit of at least 1 s."""
    return problem.continuous(time_limit=max(problem.time_limit, 1.0), **changes)


def _yuan(value: float) -> str:
    """Yuan with thousands separators, or three significant digits below 100."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _floor_words(problem: PlanningProblem) -> str:
    parts = []
    if problem.paid_roi_min:
        parts.append(f"paid ROI >= {problem.paid_roi_min:g}")
    if problem.overall_roi_min:
        parts.append(f"overall ROI >= {problem.overall_roi_min:g}")
    return " and ".join(parts)
