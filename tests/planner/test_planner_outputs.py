"""plan.csv, summary.json and plan.png as the contract describes them; evaluate; CBC."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from optimizer.planner import (
    PlanningProblem,
    PlatformRules,
    evaluate_schedule,
    solve,
    write_plan_outputs,
)
from optimizer.planner.backends import HighsBackend, PulpBackend
from optimizer.planner.forecast import marginal_gmv
from optimizer.planner.program import Formulation
from optimizer.planner.sensitivity import describe

CONTRACT_KEYS = {
    "status",
    "total_spend",
    "expected_paid_gmv",
    "expected_organic_gmv",
    "expected_total_gmv",
    "paid_roi",
    "overall_roi",
    "solve_seconds",
}


def test_files_follow_the_contract(make_response, tmp_path):
    response = make_response(2, 15, seed=1)
    plan = solve(PlanningProblem(response=response, budget=2000.0, paid_roi_min=2.0))
    paths = write_plan_outputs(plan, pd.Timestamp("2026-12-01 19:00"), tmp_path / "out")
    table = pd.read_csv(paths["table"])
    assert list(table.columns) == [
        "ts",
        "package",
        "spend",
        "expected_paid_gmv",
        "expected_organic_uplift",
    ]
    assert len(table) == 15 * 2
    assert table["ts"].iloc[0] == "2026-12-01 19:00:00"
    assert table["ts"].iloc[-1] == "2026-12-01 19:14:00"
    assert table["spend"].sum() == pytest.approx(plan.total_spend)
    uplift = table.groupby("ts")["expected_organic_uplift"].sum().to_numpy()
    assert np.allclose(uplift, response.organic_uplift(plan.spend))
    summary = json.loads(paths["summary"].read_text())
    assert CONTRACT_KEYS <= set(summary)
    assert summary["status"] == "optimal"
    assert paths["chart"].stat().st_size > 10_000


def test_the_chart_s_legends_sit_beside_its_panels(make_response):
    """Inside, the spend panel's legend covered the peak's spend."""
    from optimizer.planner.outputs import plan_figure

    plan = solve(PlanningProblem(response=make_response(6, 30, seed=1), budget=9000.0))
    figure = plan_figure(plan, pd.Timestamp("2026-12-01 19:00"))
    figure.canvas.draw()
    for ax in figure.axes:
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 > ax.get_window_extent().x1
        assert legend.x1 <= figure.bbox.x1  # and within the picture


def test_infeasible_plans_still_write_a_summary(make_response, tmp_path):
    response = make_response(2, 15, seed=1)
    caps = np.array([np.inf, 0.0])  # the exponential package only (finite ROI at zero spend)
    problem = PlanningProblem(
        response=response, budget=2000.0, paid_roi_min=80.0, max_spend_per_minute=caps
    )
    plan = solve(problem)
    paths = write_plan_outputs(plan, pd.Timestamp("2026-12-01 19:00"), tmp_path)
    summary = json.loads(paths["summary"].read_text())
    assert summary["status"] == "infeasible"
    assert "paid ROI >= 80" in summary["infeasibility"]["message"]
    assert "table" not in paths


def test_evaluate_lists_broken_rules(make_response):
    response = make_response(2, 10, seed=1)
    problem = PlanningProblem(
        response=response,
        budget=500.0,
        max_spend_per_minute=np.array([50.0, np.inf]),
        min_spend_when_active=np.array([0.0, 30.0]),
    )
    spend = np.column_stack([np.full(10, 60.0), np.full(10, 10.0)])
    forecast = evaluate_schedule(response, spend, problem)
    assert forecast.status == "evaluated"
    broken = " | ".join(forecast.broken_rules)
    assert "budget" in broken and "cap of pkg0" in broken
    assert "min_spend_when_active of pkg1" in broken
    assert forecast.expected_paid_gmv == pytest.approx(response.paid_gmv(spend).sum())


def test_evaluate_lists_the_slot_length_and_platform_rules_a_schedule_breaks(make_response):
    """Evaluate listed only budget, caps and least spends: a schedule breaking the config's
    platform rules was forecast as if it could be set."""
    response = make_response(2, 20, seed=1)
    rules = PlatformRules(max_changes=1, change_step=30.0, spend_unit=10.0)
    problem = PlanningProblem(response=response, budget=5000.0, slot_minutes=5, rules=rules)
    planned = solve(problem)
    assert evaluate_schedule(response, planned.spend, problem).broken_rules == []
    pkg0 = np.repeat([40.0, 80.0, 40.0, 60.0], 5)  # 3 changes, one of 20 < 30
    pkg1 = np.repeat([25.0, 25.0, 30.0, 30.0], 5)  # 25 is no whole unit; a change of 5
    pkg1[7] = 35.0  # a move inside the second slot
    broken = " | ".join(evaluate_schedule(response, np.column_stack([pkg0, pkg1]),
                                          problem).broken_rules)
    assert "max_changes of pkg0: 3 level changes, 1 allowed" in broken
    assert "change_step of pkg0: 1 change(s) smaller than 30" in broken
    assert "spend_unit of pkg1: 2 level(s) not a whole multiple of 10" in broken
    assert "change_step of pkg1: 1 change(s)" in broken
    assert "slot length of pkg1: the level changes inside 1 slot(s) of 5 minutes" in broken
    assert "slot length of pkg0" not in broken and "spend_unit of pkg0" not in broken
    assert "max_changes of pkg1" not in broken


def test_cbc_through_pulp_matches_highs(make_response):
    response = make_response(2, 10, seed=2)
    problem = PlanningProblem(response=response, budget=1500.0, paid_roi_min=2.5)
    lp = Formulation(problem).program()
    answers = []
    for backend in (HighsBackend(), PulpBackend()):
        backend.load(lp)
        solution = backend.solve(30.0)
        assert solution.status == "optimal"
        assert solution.row_duals is not None
        answers.append(solution.objective)
    assert answers[0] == pytest.approx(answers[1], rel=1e-6)


def test_cbc_plan_meets_min_active(make_response):
    response = make_response(2, 10, seed=3)
    problem = PlanningProblem(
        response=response,
        budget=1500.0,
        min_spend_when_active=np.full(2, 80.0),
        solver="cbc",
        time_limit=30.0,
    )
    start = time.perf_counter()
    plan = solve(problem)
    assert time.perf_counter() - start < 30
    assert plan.solver == "cbc"
    assert ((plan.spend == 0) | (plan.spend >= 80.0 - 1e-7)).all()


def test_highs_prints_nothing_on_stdout(make_response, capfd):
    """HiGHS's banner must not land in the CLI's output or a notebook (fd-level capture)."""
    solve(PlanningProblem(response=make_response(), budget=2_000.0, solver="highs"))
    assert "HiGHS" not in capfd.readouterr().out


def test_a_floor_that_leaves_most_of_the_budget_unspent_says_so(make_response):
    """A truth the fit did not assume had a plan spend 942 of 148,900 yuan under a paid floor,
    status optimal and not a word why."""
    response = make_response(3, 30, seed=1, uplift=False)
    tight = solve(PlanningProblem(response=response, budget=20_000.0, paid_roi_min=5.0))
    assert tight.total_spend < 0.5 * 20_000
    assert any(w.startswith("paid ROI >= 5 holds only up to") and "of the budget" in w
               for w in tight.warnings)
    loose = solve(PlanningProblem(response=response, budget=20_000.0, paid_roi_min=4.0))
    assert loose.total_spend >= 0.5 * 20_000 and not loose.warnings


@pytest.mark.parametrize("rules, minimum, step", [
    (PlatformRules(), 0.0, 1.0),
    (PlatformRules(), 35.0, 35.0),
    (PlatformRules(change_step=20.0, spend_unit=15.0), 0.0, 30.0),
], ids=["no rules", "least spend when active", "step in whole units"])
def test_an_unspent_package_s_marginal_roi_is_its_first_step_s_return(make_response, rules,
                                                                      minimum, step):
    """A Hill curve of shape below 1 is vertical at zero: its derivative there is no guide
    (96.96 for a package a plan under platform rules left out). The report gives the GMV per
    yuan of the least step the rules allow, in the slot where the package's marginal GMV is
    highest; the step is measured here by hand from the same response."""
    response = make_response(3, 30, seed=2)
    assert response.paid[1].saturation.shape < 1
    problem = PlanningProblem(response=response, budget=4000.0, slot_minutes=5, rules=rules,
                              min_spend_when_active=np.array([0.0, minimum, 0.0]))
    spend = np.zeros((30, 3))
    spend[:, 0], spend[:, 2] = 60.0, 40.0

    def gmv(s):
        return float(response.paid_gmv(s).sum() + response.organic_uplift(s).sum())

    returns = []
    for slot in range(6):
        tried = spend.copy()
        tried[slot * 5:(slot + 1) * 5, 1] = step
        returns.append((gmv(tried) - gmv(spend)) / (5 * step))
    _, prices = describe(problem, spend, {})
    reported = prices["packages"]["pkg1"]["marginal_roi"]
    assert reported == pytest.approx(max(returns), rel=0.02)  # the best slot, or nearly
    assert reported < 0.2 * marginal_gmv(response, spend)[:, 1].max()
    assert prices["packages"]["pkg0"]["marginal_roi"] == pytest.approx(
        np.average(marginal_gmv(response, spend)[:, 0], weights=spend[:, 0]))


@pytest.mark.parametrize("carryover", [False, True])
@pytest.mark.parametrize("cannibal", [False, True])
def test_a_minute_left_empty_gets_the_gmv_per_yuan_of_its_first_step(make_response, carryover,
                                                                      cannibal):
    """The bidder's threshold where a package spends nothing: the GMV per yuan of the least
    step, not the derivative (vertical at zero for Hill shapes below 1). Without carryover
    each minute's step is measured exactly; with it, each later minute's curve is taken over
    the step's first-minute index, which for concave curves never overstates the gain."""
    response = make_response(3, 30, seed=2, carryover=carryover, cannibal=cannibal)
    spend = np.zeros((30, 3))
    spend[:, 0], spend[::3, 1], spend[:, 2] = 60.0, 80.0, 40.0  # pkg1 (Hill) empty 2 in 3
    steps = np.array([1.0, 80.0, 1.0])
    stepped = marginal_gmv(response, spend, first_steps=steps)

    def gmv(s):
        return float(response.paid_gmv(s).sum() + response.organic_uplift(s).sum())

    empty = np.flatnonzero(spend[:, 1] == 0)
    exact = []
    for t in empty:
        tried = spend.copy()
        tried[t, 1] = steps[1]
        exact.append((gmv(tried) - gmv(spend)) / steps[1])
    if carryover:
        assert np.all(stepped[empty, 1] <= np.array(exact) + 1e-9)
        assert np.all(stepped[empty, 1] >= 0.8 * np.array(exact))
    else:
        assert stepped[empty, 1] == pytest.approx(exact, rel=1e-9)
    spent = spend > 0
    assert stepped[spent] == pytest.approx(marginal_gmv(response, spend)[spent], rel=1e-12)
