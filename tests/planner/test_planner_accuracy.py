"""The program against independent answers: the closed form and scipy's SLSQP."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.optimize import minimize

from optimizer.planner import PlanningProblem, solve
from optimizer.planner.engine import Engine
from optimizer.planner.forecast import marginal_gmv, objective_scale, objective_value
from optimizer.planner.program import Formulation

TOL = 0.005


def program_plan(problem):
    """The adaptive program's plan, bypassing the water-filling fast path."""
    engine = Engine(Formulation(problem))
    outcome = engine.solve_continuous(time.perf_counter() + 60)
    assert outcome.status == "optimal"
    return outcome


@pytest.mark.parametrize(
    "settings",
    [
        {"budget": 6000.0},
        {"budget": 20000.0, "paid_roi_min": 3.5},
        {"budget": 1e6, "objective": "max_profit", "margin": 0.4},
        {"budget": 1e6, "objective": "min_spend", "gmv_target": 160_000.0},
    ],
)
def test_closed_form_and_program_agree_in_the_separable_case(settings, make_response):
    response = make_response(4, 40, carryover=False, uplift=False)
    problem = PlanningProblem(response=response, **settings)
    closed = solve(problem)
    assert closed.solver == "water-filling"
    outcome = program_plan(problem)
    exact = objective_value(problem, outcome.spend)
    scale = objective_scale(problem, closed.spend)
    assert abs(exact - closed.exact_objective_value) <= TOL * scale
    assert outcome.bound >= closed.exact_objective_value - 1e-6 * scale  # a valid bound


def test_closed_form_equalises_marginal_roi_where_packages_spend(make_response):
    response = make_response(4, 40, carryover=False, uplift=False)
    plan = solve(PlanningProblem(response=response, budget=8000.0))
    marginal = marginal_gmv(response, plan.spend)
    spending = plan.spend > 1e-6
    assert spending.sum() > 10
    threshold = marginal[spending]
    assert np.ptp(threshold) <= 1e-6 * threshold.mean()
    assert (marginal[~spending] <= threshold.mean() * (1 + 1e-6)).all()
    assert plan.shadow_prices["budget"] == pytest.approx(threshold.mean(), rel=1e-3)


def slsqp_optimum(problem) -> float:
    """Best objective SLSQP finds on the exact smooth model (several starts)."""
    response, T, P = problem.response, problem.minutes, len(problem.packages)
    caps = problem.spend_caps
    value = lambda v: -objective_value(problem, v.reshape(T, P))  # noqa: E731
    constraints = [{"type": "ineq", "fun": lambda v: problem.budget - v.sum()}]
    if problem.paid_roi_min:
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda v: (
                    response.paid_gmv(v.reshape(T, P)).sum() - problem.paid_roi_min * v.sum()
                ),
            }
        )
    best = -np.inf
    for level in (0.2, 0.5, 0.9):
        start = np.full(T * P, level * problem.budget / (T * P))
        result = minimize(
            value,
            start,
            method="SLSQP",
            bounds=[(0, c) for c in np.tile(caps, T)],
            constraints=constraints,
            options={"maxiter": 500, "ftol": 1e-10},
        )
        spend = np.clip(result.x, 0, None)
        feasible = spend.sum() <= problem.budget * (1 + 1e-6)
        if problem.paid_roi_min:
            paid = response.paid_gmv(spend.reshape(T, P)).sum()
            feasible &= paid >= problem.paid_roi_min * spend.sum() * (1 - 1e-6)
        if feasible:
            best = max(best, -result.fun)
    return best


@pytest.mark.parametrize("seed, floor", [(1, None), (2, 3.0), (3, None)])
def test_program_matches_slsqp_with_carryover_and_uplift(seed, floor, make_response):
    response = make_response(2, 12, seed=seed, cannibal=seed == 3)
    problem = PlanningProblem(
        response=response,
        budget=1800.0,
        paid_roi_min=floor,
        max_spend_per_minute=np.full(2, 400.0),
    )
    plan = solve(problem)
    reference = slsqp_optimum(problem)
    scale = objective_scale(problem, plan.spend)
    assert plan.exact_objective_value >= reference - TOL * scale
    assert plan.bound >= reference - 1e-6 * scale  # SLSQP never beats the certified bound


@pytest.mark.parametrize("objective", ["max_gmv", "max_profit", "min_spend"])
def test_program_objective_and_exact_value_agree(objective, make_response):
    response = make_response(3, 60, seed=4, cannibal=True)
    problem = PlanningProblem(
        response=response,
        budget=9000.0,
        objective=objective,
        margin=0.5,
        gmv_target=120_000.0 if objective == "min_spend" else None,
        paid_roi_min=2.5,
    )
    plan = solve(problem)
    assert plan.status == "optimal"
    scale = objective_scale(problem, plan.spend)
    assert abs(plan.objective_value - plan.exact_objective_value) <= TOL * scale
    assert plan.objective_value <= plan.exact_objective_value + 1e-6 * scale  # chords underestimate
    assert plan.optimality_gap <= TOL
