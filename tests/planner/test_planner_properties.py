"""Properties every plan has, on random small sessions (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.planner import PlanningProblem, PlatformRules, solve
from optimizer.planner.forecast import Forecast, objective_scale

FAST = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
budgets = st.floats(min_value=500.0, max_value=20_000.0)
seeds = st.integers(min_value=0, max_value=10_000)


@FAST
@given(seed=seeds, budget=budgets, floor=st.sampled_from([None, 2.0, 3.0]))
def test_budget_and_floors_hold_under_the_exact_model(make_response, seed, budget, floor):
    response = make_response(3, 20, seed=seed, cannibal=seed % 2 == 0)
    problem = PlanningProblem(
        response=response, budget=budget, paid_roi_min=floor, overall_roi_min=floor
    )
    plan = solve(problem)
    if plan.status == "infeasible":
        assert plan.infeasibility is not None and plan.total_spend == 0
        return
    assert plan.total_spend <= budget * (1 + 1e-9)
    assert (plan.spend >= 0).all()
    if floor is not None and plan.total_spend > 0:
        assert plan.expected_paid_gmv >= floor * plan.total_spend * (1 - 1e-9)
        assert plan.expected_total_gmv >= floor * plan.total_spend * (1 - 1e-9)


@FAST
@given(seed=seeds, budget=budgets, more=st.floats(min_value=1.05, max_value=3.0))
def test_more_budget_never_lowers_the_optimum(make_response, seed, budget, more):
    response = make_response(3, 20, seed=seed)
    small = solve(PlanningProblem(response=response, budget=budget, paid_roi_min=2.0))
    large = solve(PlanningProblem(response=response, budget=budget * more, paid_roi_min=2.0))
    scale = objective_scale(small.problem, small.spend)
    tolerance = small.problem.tolerance * scale
    assert large.exact_objective_value >= small.exact_objective_value - tolerance


@FAST
@given(seed=seeds, off=st.integers(min_value=0, max_value=2))
def test_zero_caps_give_zero_spend(make_response, seed, off):
    response = make_response(3, 20, seed=seed)
    caps = np.full(3, np.inf)
    caps[off] = 0.0
    plan = solve(PlanningProblem(response=response, budget=5000.0, max_spend_per_minute=caps))
    assert plan.spend[:, off].max() == 0.0
    assert plan.total_spend > 0


INTEGER = settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@INTEGER
@given(
    seed=seeds,
    minimum=st.floats(min_value=50.0, max_value=300.0),
    unit=st.sampled_from([None, 25.0]),
    slot=st.sampled_from([1, 5]),
)
def test_min_active_units_and_slots_are_respected_exactly(make_response, seed, minimum, unit, slot):
    response = make_response(2, 20, seed=seed)
    problem = PlanningProblem(
        response=response,
        budget=3000.0,
        slot_minutes=slot,
        min_spend_when_active=np.full(2, minimum),
        rules=PlatformRules(spend_unit=unit),
        time_limit=20.0,
    )
    plan = solve(problem)
    assert plan.status in ("optimal", "feasible")
    spend = plan.spend
    assert ((spend == 0) | (spend >= minimum * (1 - 1e-9))).all()
    slots = spend.reshape(-1, slot, 2)
    assert np.allclose(slots, slots[:, :1, :], rtol=0, atol=1e-7)
    if unit is not None:
        assert np.allclose(spend / unit, np.round(spend / unit), rtol=0, atol=1e-6)
    assert plan.total_spend <= problem.budget * (1 + 1e-9)


@INTEGER
@given(seed=seeds, changes=st.integers(min_value=0, max_value=3))
def test_level_changes_and_steps_are_respected_exactly(make_response, seed, changes):
    response = make_response(2, 20, seed=seed)
    step = 60.0
    problem = PlanningProblem(
        response=response,
        budget=3000.0,
        slot_minutes=5 if seed % 2 else 1,
        rules=PlatformRules(max_changes=changes, change_step=step),
        time_limit=20.0,
    )
    plan = solve(problem)
    assert plan.status in ("optimal", "feasible")
    levels = plan.spend[:: problem.slot_minutes]
    moves = np.abs(np.diff(levels, axis=0))
    changed = moves > 1e-7
    assert (changed.sum(axis=0) <= changes).all()
    assert (moves[changed] >= step * (1 - 1e-9)).all()


def test_floors_hold_under_the_floor_response(make_response):
    response = make_response(3, 30, seed=5)
    pessimistic = make_response(3, 30, seed=5)
    for term in pessimistic.paid:
        object.__setattr__(term, "scale", term.scale * 0.8)
    settings = {"response": response, "budget": 30_000.0, "paid_roi_min": 3.0}
    plan = solve(PlanningProblem(**settings, floor_response=pessimistic))
    floor = Forecast.of(pessimistic, plan.spend)
    assert plan.total_spend > 0
    assert floor.paid_total >= 3.0 * plan.total_spend * (1 - 1e-9)
    assert floor.paid_total <= 3.0 * plan.total_spend * 1.01  # the floor binds there
    assert plan.paid_roi > 3.5  # so the expected ROI keeps a safety margin
    relaxed = solve(PlanningProblem(**settings))
    assert relaxed.total_spend > plan.total_spend * 1.05  # the margin costs spend
