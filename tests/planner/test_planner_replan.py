"""Re-planning from mid-session with what was actually spent and earned."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.planner import PlanningProblem, Replanner


@pytest.fixture
def replanner(make_response):
    response = make_response(3, 40, seed=7, cannibal=True)
    return Replanner(PlanningProblem(response=response, budget=6000.0, paid_roi_min=2.5))


def past(plan, minute, spend_factor=1.0, paid_factor=1.0):
    return (
        plan.spend[:minute] * spend_factor,
        plan.paid_gmv[:minute] * paid_factor,
        plan.organic_gmv[:minute],
    )


@pytest.mark.parametrize("minute", [0, 13, 39])
def test_actuals_equal_to_the_plan_give_the_same_plan(replanner, minute):
    first = replanner.plan
    again = replanner.replan(minute, *past(first, minute))
    assert again.status == "optimal"
    scale = first.expected_total_gmv
    assert again.expected_total_gmv == pytest.approx(scale, rel=first.problem.tolerance)
    assert again.total_spend <= first.problem.budget * (1 + 1e-9)


def test_overspending_so_far_leaves_the_total_within_budget(replanner):
    first = replanner.plan
    again = replanner.replan(20, *past(first, 20, spend_factor=1.03, paid_factor=1.03))
    assert again.status == "optimal"
    assert np.allclose(again.spend[:20], first.spend[:20] * 1.03)
    assert again.total_spend <= first.problem.budget * (1 + 1e-9)
    assert again.spend[20:].sum() < first.spend[20:].sum()


def test_spend_over_budget_already_stops_the_rest(replanner):
    first = replanner.plan
    again = replanner.replan(20, *past(first, 20, spend_factor=1.4, paid_factor=1.4))
    assert again.status == "optimal"
    assert again.spend[20:].sum() == pytest.approx(0.0, abs=1e-6)
    assert any("over the budget" in w for w in again.warnings)


def test_realised_gmv_counts_in_the_floor(replanner):
    first = replanner.plan
    floor = first.problem.paid_roi_min
    weak = replanner.replan(20, *past(first, 20, paid_factor=0.4))
    assert weak.status == "optimal"
    # realised paid GMV so far plus the expected rest keeps the whole session's floor
    assert weak.expected_paid_gmv >= floor * weak.total_spend * (1 - 1e-9)
    assert np.allclose(weak.paid_gmv[:20], first.paid_gmv[:20] * 0.4)
    hopeless = replanner.replan(20, *past(first, 20, paid_factor=0.2))
    assert hopeless.status == "infeasible"  # what was earned cannot be made up for
    assert hopeless.infeasibility.requirement == "the rest of the session"
    strong = replanner.replan(20, *past(first, 20, paid_factor=1.5))
    assert strong.expected_paid_gmv >= floor * strong.total_spend * (1 - 1e-9)
    assert np.allclose(strong.paid_gmv[:20], first.paid_gmv[:20] * 1.5)


def test_replans_take_their_own_time_limit_and_the_build_the_problems(make_response,
                                                                      monkeypatch):
    """A service re-plans within a short budget; the first solve of the session keeps the
    problem's (longer) limit."""
    from optimizer.planner import replan as module

    limits = []
    real = module.plan_with

    def spy(engine, start, past=0, time_limit=None):
        limits.append(engine.problem.time_limit if time_limit is None else time_limit)
        return real(engine, start, past=past, time_limit=time_limit)

    monkeypatch.setattr(module, "plan_with", spy)
    problem = PlanningProblem(response=make_response(3, 40, seed=7), budget=6000.0,
                              time_limit=30.0)
    replanner = Replanner(problem, replan_time_limit=0.25)
    again = replanner.replan(5, *past(replanner.plan, 5))
    assert again.status == "optimal"
    assert limits == [30.0, 0.25]
    with pytest.raises(ValueError, match="replan_time_limit"):
        Replanner(problem, replan_time_limit=0)
