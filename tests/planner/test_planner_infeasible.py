"""Infeasible requirements are named in plain words with the best reachable value."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover, Hill
from optimizer.planner import Pacing, PlanningProblem, solve
from optimizer.planner.diagnose import LEAST_SPEND


def test_unreachable_target_names_the_target_and_the_most_reachable(make_response):
    response = make_response(3, 30, seed=1)
    problem = PlanningProblem(
        response=response, budget=3000.0, objective="min_spend", gmv_target=10_000_000.0
    )
    plan = solve(problem)
    assert plan.status == "infeasible"
    message = plan.infeasibility.message
    assert "GMV target 10,000,000 is out of reach" in message
    most = plan.infeasibility.best["total_gmv"]
    assert 0 < most < 10_000_000
    assert f"{most:,.0f}" in message


def test_target_out_of_reach_under_a_floor_says_so(make_response):
    response = make_response(3, 30, seed=1)
    free = solve(PlanningProblem(response=response, budget=20_000.0))
    target = free.expected_total_gmv * 0.999
    plan = solve(
        PlanningProblem(response=response, budget=20_000.0, gmv_target=target, paid_roi_min=4.5)
    )
    assert plan.status == "infeasible"
    assert "under paid ROI >= 4.5" in plan.infeasibility.message
    assert plan.infeasibility.best["total_gmv"] < target


def test_paid_roi_floor_above_any_reachable_roi(make_response):
    response = make_response(3, 30, seed=2)
    plan = solve(PlanningProblem(response=response, budget=5000.0, paid_roi_min=50.0))
    assert plan.status == "infeasible"
    message = plan.infeasibility.message
    assert message.startswith("paid ROI >= 50 cannot be met at any spend")
    best = float(re.search(r"highest reachable is ([0-9.]+)", message).group(1))
    assert 0 < best < 50
    summary = plan.summary()
    assert summary["status"] == "infeasible"
    assert summary["infeasibility"]["best"]["paid_roi"] < 50


def test_floor_reached_only_toward_zero_spend_is_reported_at_a_yuan_or_more():
    # a Hill curve of shape < 1 is infinitely steep at 0: its paid ROI grows without bound as
    # spend vanishes, so any floor is "met" by some fraction of a yuan; the diagnosis says what
    # a plan of at least LEAST_SPEND yuan can reach instead
    minutes = 30
    hill = ResponseTerm(np.full(minutes, 500.0), Hill(k=200.0, shape=0.6), Carryover(),
                        np.ones(1))
    response = SessionResponse(("p",), np.full(minutes, 100.0), (hill,))
    plan = solve(PlanningProblem(response=response, budget=5000.0, paid_roi_min=1e4))
    assert plan.status == "infeasible"
    message = plan.infeasibility.message
    assert message.startswith(f"paid ROI >= 10000 cannot be met at any spend of {LEAST_SPEND:g} "
                              "yuan or more")
    best = plan.infeasibility.best
    # the best GMV of s yuan is concave in s, so GMV / s is highest at the least spend allowed
    assert best["spend"] == pytest.approx(LEAST_SPEND, rel=1e-6)
    # equal scales and a concave curve: an even spread is the best schedule of any total, so
    # the reported ratio is at most (and, found exactly, equal to) the even spread's
    per_minute = best["spend"] / minutes
    even = 500.0 * float(Hill(k=200.0, shape=0.6)(per_minute)) / per_minute
    assert best["paid_roi"] == pytest.approx(even, rel=1e-3)
    assert best["paid_roi"] <= even * (1 + 1e-9)


def test_forced_pacing_and_a_floor_report_roi_at_the_forced_spend(make_response):
    response = make_response(3, 30, seed=3)
    pacing = Pacing(lower=np.linspace(0.03, 0.9, 30))
    plan = solve(
        PlanningProblem(response=response, budget=30_000.0, pacing=pacing, paid_roi_min=4.0)
    )
    assert plan.status == "infeasible"
    assert "paid ROI >= 4" in plan.infeasibility.requirement
    assert plan.infeasibility.best["spend"] >= 0.9 * 30_000.0 * (1 - 1e-6)


def test_pacing_beyond_the_caps(make_response):
    response = make_response(2, 10, seed=3)
    pacing = Pacing(lower=np.full(10, 0.5))
    plan = solve(
        PlanningProblem(
            response=response,
            budget=10_000.0,
            pacing=pacing,
            max_spend_per_minute=np.full(2, 100.0),
        )
    )
    assert plan.status == "infeasible"
    assert "pacing needs 5,000 yuan spent by minute 1" in plan.infeasibility.message


@pytest.mark.parametrize("share", [0.97, 0.999])
def test_a_target_within_reach_under_a_floor_is_planned_not_called_infeasible(make_response,
                                                                              share):
    """Chords understate GMV between breakpoints: near the most GMV a paid floor allows, the
    first program found no plan and `min_spend` was reported infeasible ("each one alone can"),
    or the solver failed on the opened ranges. The best plan for GMV under the floor is a plan
    of the target's problem: the target's plan reaches the target, holds the floor and spends
    no more than it."""
    response = make_response(6, 240, seed=1)
    floor = PlanningProblem(response=response, budget=1e7, paid_roi_min=2.0)
    most = solve(floor)
    target = share * most.expected_total_gmv
    plan = solve(replace(floor, objective="min_spend", gmv_target=target))
    assert plan.status == "optimal", plan.warnings
    assert plan.expected_total_gmv >= target * (1 - 1e-9)
    assert plan.paid_roi >= 2.0 * (1 - 1e-9)
    assert plan.total_spend <= most.total_spend * (1 + 1e-9)
