"""The planner adapter: problems from the pipeline, plans in the service's terms, fallbacks."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from api_support import demo_config, replanned_overspent

from optimizer.api.campaign import from_model, model_file, parse_config
from optimizer.api.planning import Actuals, Limits, Planner, fallback
from optimizer.api.runner import TimedOut
from optimizer.planner.forecast import marginal_gmv


@pytest.fixture(scope="module")
def campaign(data_dir):
    config = parse_config(demo_config(packages={
        "retarget": {"max_spend_per_minute": 150},
        "fans": {"max_spend_per_minute": 400, "min_spend_when_active": 30}}),
        data_dir, history=False)
    return from_model(config, model_file("models/sim.json", data_dir), "models/sim.json")


def test_problem_comes_from_the_pipeline_with_the_time_limit_capped(campaign):
    planner = Planner()
    problem = planner.problem(campaign, campaign.response(), 0.3)
    assert problem.time_limit == 0.3 and problem.budget == 80000
    fans = campaign.packages.index("fans")
    assert problem.max_spend_per_minute[fans] == 400
    assert problem.min_spend_when_active[fans] == 30


def test_replan_keeps_the_actuals_and_the_budget(campaign):
    planner = Planner()
    response = campaign.response()
    first = planner.solve(planner.problem(campaign, response, 60))
    assert first.status in ("optimal", "feasible") and first.from_minute == 0
    assert first.spend.sum() <= 80000 * (1 + 1e-9)
    assert first.marginal_roi.shape == first.spend.shape
    fans = campaign.packages.index("fans")  # spends 0 or at least 30 yuan/min
    empty = first.spend[:, fans] == 0
    assert empty.any()
    steps = Limits.of(campaign.config, campaign.packages).first_steps
    assert steps[fans] == 30
    np.testing.assert_allclose(  # at its least step there, not the derivative
        first.marginal_roi[empty, fans],
        marginal_gmv(response, first.spend, first_steps=steps)[empty, fans])
    m = 10
    actuals, again = replanned_overspent(planner, campaign, response, first.spend, m)
    np.testing.assert_array_equal(again.spend[:m], actuals.spend)
    np.testing.assert_array_equal(again.organic_gmv[:m], actuals.organic_gmv)
    assert again.spend.sum() <= 80000 * (1 + 1e-9) and again.from_minute == m


@pytest.mark.parametrize("unit", [None, 10.0])
def test_fallback_scales_to_what_is_left_and_drops_spend_below_the_minimum(campaign, unit):
    """With the platform's spend unit the scaled levels are whole units (rounded down): the
    bidding service got 19.99 and 89.94 yuan/min where the unit was 10."""
    planner = Planner()
    response = campaign.response()
    first = planner.solve(planner.problem(campaign, response, 60))
    limits = replace(Limits.of(campaign.config, campaign.packages), unit=unit)
    m = 30
    spent = np.full((m, len(campaign.packages)), 200.0)  # far above plan: little is left
    actuals = Actuals(spent, np.zeros_like(spent), np.zeros(m))
    scaled = fallback(first, actuals, 80000, limits, response, "timeout", "slow")
    left = 80000 - spent.sum()
    assert scaled.status == "fallback" and scaled.fallback == "timeout"
    assert scaled.spend[m:].sum() <= left * (1 + 1e-12)
    rest = scaled.spend[m:]
    assert ((rest == 0) | (rest >= limits.min_active)).all()
    assert (rest <= limits.max_spend).all()
    if unit:
        np.testing.assert_allclose(rest / unit, np.round(rest / unit), atol=1e-9)
        assert rest.sum() > 0
    np.testing.assert_allclose(scaled.paid_gmv[m:], response.paid_gmv(scaled.spend)[m:])


def test_a_replan_told_to_stop_ends_without_solving_and_the_next_one_plans(data_dir):
    """A re-plan the service stopped waiting for ran on: its integer refills each took a
    second past the time limit (13.9 s on a 10 s limit), using the CPU the answer needed."""
    config = parse_config(demo_config(
        session={"start": "2026-11-16 19:00", "end": "2026-11-16 20:00", "slot_minutes": 5},
        platform={"max_changes": 4, "change_step": 50, "spend_unit": 10}),
        data_dir, history=False)
    campaign = from_model(config, model_file("models/sim.json", data_dir), "models/sim.json")
    planner, response = Planner(), campaign.response()
    replanner = planner.replanner(planner.problem(campaign, response, 5), 5)
    first = replanner.plan
    m = 10
    actuals = Actuals(first.spend[:m] * 1.3, response.paid_gmv(first.spend)[:m],
                      response.organic_gmv(first.spend)[:m])
    asked = time.perf_counter()
    with pytest.raises(TimedOut):
        planner.replan(replanner, actuals, stop_at=asked)
    assert time.perf_counter() - asked < 1.0  # no solver ran: only building the program
    again = planner.replan(replanner, actuals)
    assert again.valid and again.spend.sum() <= 80000 * (1 + 1e-9)
