"""The Lagrangian certificate of any plan, and large sessions planned on a coarser grid."""

from __future__ import annotations

import time

import numpy as np
import pytest

from optimizer.planner import PlanningProblem, solve
from optimizer.planner import coarse as coarse_module
from optimizer.planner.certificate import lagrangian, plan_bound
from optimizer.planner.engine import Engine
from optimizer.planner.forecast import Forecast, objective_scale, objective_value
from optimizer.planner.program import Formulation

SETTINGS = [
    {"budget": 6000.0, "paid_roi_min": 2.5},
    {"budget": 9000.0, "objective": "max_profit", "margin": 0.5},
    {"budget": 9000.0, "overall_roi_min": 3.0, "slot_minutes": 3},
]


def program_outcome(problem):
    engine = Engine(Formulation(problem))
    outcome = engine.solve_continuous(time.perf_counter() + 60)
    assert outcome.status == "optimal"
    return engine.formulation, outcome


@pytest.mark.parametrize("settings", SETTINGS)
def test_lagrangian_at_the_programs_prices_is_the_programs_bound(settings, make_response):
    problem = PlanningProblem(response=make_response(3, 60, seed=4, cannibal=True), **settings)
    formulation, outcome = program_outcome(problem)
    assert lagrangian(formulation, outcome.row_duals) == pytest.approx(outcome.bound, rel=1e-9)


@pytest.mark.parametrize("settings", SETTINGS)
def test_a_plans_bound_is_valid_and_tight_at_the_optimum(settings, make_response):
    problem = PlanningProblem(response=make_response(3, 60, seed=4, cannibal=True), **settings)
    formulation, outcome = program_outcome(problem)
    session = {name: outcome.row_duals[row] for name, row in formulation.rows.items()}
    bound, _ = plan_bound(Formulation(problem), outcome.spend, session)
    exact = objective_value(problem, outcome.spend)
    assert bound >= exact  # the plan is feasible: no valid bound is below it
    assert bound <= outcome.bound + 1e-6 * abs(outcome.bound)  # as tight as the program's own
    assert (bound - exact) / objective_scale(problem, outcome.spend) <= problem.tolerance


@pytest.fixture
def small_is_large(monkeypatch):
    """Any program counts as large, and a coarse grid has at most 30 slots."""
    monkeypatch.setattr(coarse_module, "LARGE_ROWS", 0)
    monkeypatch.setattr(coarse_module, "_MAX_SLOTS", 30)


@pytest.mark.parametrize("settings", SETTINGS)
def test_coarse_grid_plan_is_certified_on_minutes(settings, make_response, small_is_large):
    problem = PlanningProblem(response=make_response(4, 120, seed=6, cannibal=True), **settings)
    plan = solve(problem)
    assert "-minute slots, certified per minute" in plan.solver
    assert plan.status == "optimal" and plan.optimality_gap <= problem.tolerance
    _, outcome = program_outcome(problem)
    assert plan.bound >= objective_value(problem, outcome.spend)  # valid for the fine optimum
    assert outcome.bound >= plan.exact_objective_value  # and the plan is a real plan
    forecast = Forecast.of(problem.floor_model, plan.spend)
    assert forecast.total_spend <= problem.budget * (1 + 1e-9)
    for floor, gmv in (
        (problem.paid_roi_min, forecast.paid_total),
        (problem.overall_roi_min, forecast.total_gmv),
    ):
        assert not floor or gmv >= floor * forecast.total_spend * (1 - 1e-9)
    slot = problem.slot_minutes
    assert np.allclose(plan.spend.reshape(-1, slot, 4), plan.spend[::slot, None, :])


def test_coarse_slot_divides_the_session_in_whole_planning_slots(make_response, small_is_large):
    response = make_response(2, 120, seed=1)
    assert coarse_module.coarse_slot(PlanningProblem(response=response, budget=1e5)) == 4
    sevens = PlanningProblem(response=make_response(2, 126, seed=1), budget=1e5, slot_minutes=7)
    assert coarse_module.coarse_slot(sevens) == 7
    integer = PlanningProblem(response=response, budget=1e5, min_spend_when_active=np.full(2, 10.0))
    assert coarse_module.coarse_slot(integer) is None  # integer rules need the full program
