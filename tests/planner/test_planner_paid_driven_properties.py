"""Properties of plans for an uplift driven by paid GMV, on random small sessions (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.planner import PlanningProblem, solve
from optimizer.planner.forecast import objective_scale

FAST = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PAID_ROI = 4.0
"""About the paid ROI of `make_response`'s curves: its leverage per yuan spent, divided by
this, is per paid GMV yuan."""


def paid_driven(response):
    """`response` with its uplift driven by paid GMV, the leverage per paid GMV yuan."""
    uplift = tuple(replace(t, weights=t.weights / PAID_ROI, driver="paid")
                   for t in response.uplift)
    return replace(response, uplift=uplift)


@FAST
@given(seed=st.integers(min_value=0, max_value=10_000),
       budget=st.floats(min_value=500.0, max_value=20_000.0),
       floor=st.sampled_from([None, 2.0, 3.0]))
def test_budget_and_floors_hold_and_the_bound_is_above_the_plan(make_response, seed, budget,
                                                               floor):
    response = paid_driven(make_response(3, 20, seed=seed, cannibal=seed % 2 == 0))
    problem = PlanningProblem(response=response, budget=budget, paid_roi_min=floor,
                              overall_roi_min=floor)
    plan = solve(problem)
    if plan.status == "infeasible":
        assert plan.infeasibility is not None and plan.total_spend == 0
        return
    assert plan.total_spend <= budget * (1 + 1e-9)
    scale = objective_scale(problem, plan.spend)
    assert plan.bound >= plan.exact_objective_value - 1e-9 * scale
    assert plan.bound - plan.exact_objective_value <= problem.tolerance * scale
    if floor is not None and plan.total_spend > 0:
        assert plan.expected_paid_gmv >= floor * plan.total_spend * (1 - 1e-9)
        assert plan.expected_total_gmv >= floor * plan.total_spend * (1 - 1e-9)
