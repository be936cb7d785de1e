"""Closed-loop policies on the planner: budget, the oracle's edge, re-planning, the Done-when.

The demo config (default scenario, 21 simulated sessions, the shipped fitted model) is the
fitted side; the simulator of its `truth.json` is the truth. The slow acceptance test runs the
issue's Done-when over 100 noisy sessions.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from optimizer import pipeline
from optimizer.curves import ResponseModel
from optimizer.data import CampaignConfig, load_history
from optimizer.sim import Scenario, Truth, write_simulation
from optimizer.sim.closed_loop import EvenPacing, StaticSchedule, run_session, simulate_policies
from optimizer.sim.policies import (
    Replanning,
    even_pacing,
    in_order,
    paced,
    planned,
    standard_policies,
    truth_problem,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "demo.yaml"
TIGHT_FLOOR = 3.6
"""A paid ROI floor the fitted plan meets with 2% to spare at the full budget (3.68), and the
truth's expectation of that plan only just (3.61): on days worse than average the static plan
misses it, and re-planning has work to do."""


@pytest.fixture(scope="module")
def demo():
    campaign = pipeline.load_campaign(CONFIG)
    model, _ = pipeline.campaign_model(campaign, CONFIG)
    sim = Truth.load(ROOT / "data" / "demo" / "truth.json").simulator()
    problem = pipeline.planning_problem(campaign, model)
    return campaign, sim, problem


@pytest.fixture(scope="module")
def plans(demo):
    """Static plan, even pacing and oracle of the demo problem (schedules in simulator order)."""
    campaign, sim, problem = demo
    aligned = in_order(problem, sim.packages)
    return {"static plan": planned(aligned, "static plan"),
            "even pacing": even_pacing(aligned, sim, campaign.panel()),
            "oracle": planned(truth_problem(aligned, sim), "oracle")}


def schedule(policy, minutes: int) -> np.ndarray:
    return np.array([policy.spend(t, None) for t in range(minutes)])


def test_in_order_keeps_the_response_and_limits(demo):
    _, sim, problem = demo
    moved = in_order(problem, sim.packages)
    order = [problem.packages.index(p) for p in sim.packages]
    spend = np.random.default_rng(0).uniform(0, 300, (problem.minutes, len(order)))
    original = np.empty_like(spend)
    original[:, order] = spend
    np.testing.assert_allclose(moved.response.paid_gmv(spend),
                               problem.response.paid_gmv(original)[:, order])
    np.testing.assert_allclose(moved.response.organic_gmv(spend),
                               problem.response.organic_gmv(original))
    np.testing.assert_array_equal(moved.max_spend_per_minute,
                                  problem.max_spend_per_minute[order])
    np.testing.assert_array_equal(moved.spend_reach, problem.spend_reach[order])
    with pytest.raises(ValueError, match="simulator has"):
        in_order(problem, sim.packages[:-1])


def test_policies_spend_within_budget_and_caps(demo, plans):
    """The plan within its spend reach too; the oracle (true curves) and even pacing (the
    operator's habit) within the config's caps only."""
    _, sim, problem = demo
    aligned = in_order(problem, sim.packages)
    assert aligned.spend_reach is not None
    for name, policy in plans.items():
        caps = (aligned if name == "static plan" else replace(aligned, spend_reach=None)
                ).spend_caps
        spend = schedule(policy, problem.minutes)
        assert spend.sum() == pytest.approx(problem.budget, rel=1e-6), name
        assert (spend <= caps + 1e-6).all() and (spend >= 0).all(), name


def test_the_oracle_and_even_pacing_ignore_the_spend_reach(demo, plans):
    campaign, sim, problem = demo
    aligned = in_order(problem, sim.packages)
    assert truth_problem(aligned, sim).spend_reach is None
    tight = replace(aligned, spend_reach=np.full(len(sim.packages), 1.0))
    assert even_pacing(tight, sim, campaign.panel()) == plans["even pacing"]


def test_even_pacing_uses_the_history_mix(demo, plans):
    campaign, sim, _ = demo
    panel = campaign.panel()
    shares = panel.spend.sum(axis=0) / panel.spend.sum()
    expected = [shares[panel.packages.index(p)] for p in sim.packages]
    mix = np.asarray(plans["even pacing"].mix)
    np.testing.assert_allclose(mix / mix.sum(), expected)


INF = np.inf


@pytest.mark.parametrize("caps, least, expected", [
    ((INF, INF, INF), (0, 0, 0), (50, 30, 20)),            # the mix as it is
    ((INF, 10, INF), (0, 0, 0), (90 * 5 / 7, 10, 90 * 2 / 7)),  # the rest splits 5:2
    ((INF, INF, INF), (0, 0, 25), (62.5, 37.5, 0)),        # 20 < 25: dropped, 5:3 again
    ((40, 10, INF), (0, 0, 60), (40, 10, 0)),              # capped, the rest cannot be used
    ((INF, INF, 0), (0, 0, 0), (62.5, 37.5, 0)),           # switched off
])
def test_paced_splits_within_caps_and_least_spends(caps, least, expected):
    amount = paced(100.0, np.array([5.0, 3.0, 2.0]), np.array(caps, dtype=float),
                   np.array(least, dtype=float))
    np.testing.assert_allclose(amount, expected)


def test_even_pacing_keeps_the_problems_limits(demo):
    campaign, sim, problem = demo
    caps = np.full(len(problem.packages), np.inf)
    caps[problem.packages.index("retarget")] = 5.0
    least = np.zeros(len(problem.packages))
    least[problem.packages.index("fans")] = 1000.0  # never reachable in an even split
    limited = replace(problem, max_spend_per_minute=caps, min_spend_when_active=least)
    policy = even_pacing(limited, sim, campaign.panel())
    spend = policy.spend(0, None)
    assert spend[sim.packages.index("retarget")] == pytest.approx(5.0)
    assert spend[sim.packages.index("fans")] == 0.0
    assert spend.sum() * problem.minutes == pytest.approx(problem.budget)


def test_oracle_beats_the_others_in_expectation(demo, plans):
    # noise-free: the truth's expectation on an average day; the oracle's plan is optimal for
    # it within the planner's tolerance, and every plan here meets the same budget and floor
    _, sim, problem = demo
    totals = {name: sim.expected(schedule(p, problem.minutes)).totals()
              for name, p in plans.items()}
    best = totals["oracle"]["total_gmv"]
    for name, total in totals.items():
        assert total["paid_roi"] >= problem.paid_roi_min, name
        assert best >= total["total_gmv"] * (1 - problem.tolerance), name


def test_replanning_stays_within_budget_and_reacts_to_actuals(demo, plans):
    _, sim, problem = demo
    tight = replace(problem, paid_roi_min=TIGHT_FLOOR)
    policy = Replanning(tight, every=5)(sim)
    static = planned(in_order(tight, sim.packages), "static plan")
    for seed in (4, 11):  # a day that needs cutting back, and one that does not
        outcome = run_session(sim, policy, seed)
        assert outcome.spend.sum() <= tight.budget * (1 + 1e-9)
        fixed = run_session(sim, static, seed)
        np.testing.assert_allclose(outcome.spend[:5], fixed.spend[:5])  # the plan until minute 5
    assert not np.allclose(outcome.spend, fixed.spend)


def test_factories_pickle_and_results_do_not_depend_on_workers(demo):
    campaign, sim, problem = demo
    factories = standard_policies(problem, sim, campaign.panel(), replan_every=60)
    for factory in factories:
        again = pickle.loads(pickle.dumps(factory))
        assert again(sim).name == factory(sim).name
    assert [f(sim).name for f in factories] == ["static plan", "re-plan every 60 min",
                                                "even pacing", "oracle"]
    assert isinstance(factories[0], StaticSchedule) and isinstance(factories[2], EvenPacing)
    one, two = (simulate_policies(sim, factories[:2], [0, 1], problem.budget,
                                  problem.paid_roi_min, workers=w) for w in (1, 2))
    np.testing.assert_allclose(one["total_gmv"], two["total_gmv"])


# -- acceptance: the Done-when ---------------------------------------------------------
SESSIONS = 100


@pytest.fixture(scope="module")
def runs(demo):
    campaign, sim, problem = demo
    factories = standard_policies(problem, sim, campaign.panel(), replan_every=5)
    frame = simulate_policies(sim, factories, range(SESSIONS), problem.budget,
                              problem.paid_roi_min, workers=2)
    return frame.groupby("policy")


def mean_total(runs, policy: str) -> float:
    return float(runs.get_group(policy)["total_gmv"].mean())


@pytest.mark.slow
def test_static_plan_is_within_3_percent_of_the_oracle(runs):
    assert mean_total(runs, "static plan") >= 0.97 * mean_total(runs, "oracle")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "unreachable in the default scenario: over these 100 sessions the oracle itself is only "
    "5.3% above even pacing in the history's mix (mean total GMV 391,818 vs 371,930 yuan) and "
    "the static plan 5.3% (391,565 yuan)"))
def test_static_plan_is_10_percent_above_even_pacing(runs):
    assert mean_total(runs, "static plan") >= 1.10 * mean_total(runs, "even pacing")


@pytest.mark.slow
def test_replanning_spends_the_budget_and_meets_the_floor(runs):
    # with the demo's floor (paid ROI 2.0; the plans reach about 3.6) re-planning spends the
    # static plan to the yuan; a floor that binds is tested below
    mpc = runs.get_group("re-plan every 5 min")
    assert (mpc["budget_error"].abs() <= 0.01).all()
    assert mpc["paid_floor_missed"].mean() < 0.05


@pytest.fixture(scope="module")
def tight(demo):
    """Static plan and re-planning under the tight floor, 20 sessions: enough here, where the
    miss rates (40% and 5%) differ by about 3 standard errors of their difference (100
    sessions: benchmarks/bench_closed_loop.py)."""
    campaign, sim, problem = demo
    problem = replace(problem, paid_roi_min=TIGHT_FLOOR)
    factories = standard_policies(problem, sim, campaign.panel(), replan_every=5)[:2]
    frame = simulate_policies(sim, factories, range(20), problem.budget, TIGHT_FLOOR)
    return frame.groupby("policy")


@pytest.mark.slow
def test_replanning_holds_a_tight_floor_better_than_the_static_plan(tight):
    # the demo's floor (2.0) never binds; at 3.6 it does once the day is worse than average,
    # and re-planning, holding the floor at the level the day has shown, cuts spend to hold it
    mpc, static = tight.get_group("re-plan every 5 min"), tight.get_group("static plan")
    assert mpc["paid_floor_missed"].mean() <= static["paid_floor_missed"].mean() - 0.1
    assert (mpc["budget_error"] <= 1e-9).all()


@pytest.mark.slow
def test_replanning_misses_a_tight_floor_in_under_5_percent_of_sessions(tight):
    """20 sessions cannot show a rate under 5%, only reject it: at a 5% miss rate, more than
    `allowed` misses in 20 sessions happen with probability under 1%. The rate itself is
    measured over 100 sessions by benchmarks/bench_closed_loop.py (1%)."""
    misses = tight.get_group("re-plan every 5 min")["paid_floor_missed"]
    allowed = binom.ppf(0.99, len(misses), 0.05)
    assert misses.sum() <= allowed, f"{misses.sum():g} misses in {len(misses)} sessions"


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "unreachable when the floor binds: holding paid ROI >= 3.6 on a worse day takes spending "
    "less (the oracle, planning for the average day, misses the floor in 30% of 50 sessions). "
    "Over 100 sessions (benchmarks/results/closed_loop.txt) re-planning missed it in none and "
    "spent 8.3% under the budget on average (49% of sessions more than 1% under, the worst "
    "51%)"))
def test_replanning_spends_within_1_percent_of_the_budget_under_a_tight_floor(tight):
    assert (tight.get_group("re-plan every 5 min")["budget_error"].abs() <= 0.01).all()


@pytest.mark.slow
@pytest.mark.parametrize("scenario, regret", [("offmodel", 0.05), ("cannibal", 0.03)])
def test_off_model_truth(tmp_path, scenario, regret):
    # the demo's settings on a room whose truth the fit cannot represent (offmodel: log
    # curves, delayed-peak carryover, negative-binomial orders) or that cannibalises strongly
    # (cannibal). Measured over these 100 sessions: static plan 4.0% (offmodel) and 1.0%
    # (cannibal) below the oracle, 3.1% and 4.7% above even pacing (the oracle 7.3% and 5.8%).
    # Re-planning is left out: with the floor slack it spends exactly the static plan (see the
    # default-scenario tests)
    write_simulation(Scenario.builtin(scenario), 21, 20261201, tmp_path)
    config = CampaignConfig.from_dict({
        "room_id": "demo_room", "history": {"spend": "spend.csv", "room": "room.csv"},
        "session": {"start": "2026-12-01 19:00", "end": "2026-12-01 23:00"}, "budget": 80000,
        "roi": {"paid_min": 2.0}, "packages": {"retarget": {"max_spend_per_minute": 150}},
    }, tmp_path)
    history, report = load_history(config)
    campaign = pipeline.Campaign(config=config, history=history, report=report)
    problem = pipeline.planning_problem(campaign, ResponseModel().fit(campaign.panel()))
    sim = Truth.load(tmp_path / "truth.json").simulator()
    factories = [f for f in standard_policies(problem, sim, campaign.panel())
                 if not isinstance(f, Replanning)]
    frame = simulate_policies(sim, factories, range(SESSIONS), problem.budget,
                              problem.paid_roi_min)
    by = frame.groupby("policy")
    assert mean_total(by, "static plan") >= (1 - regret) * mean_total(by, "oracle")
    assert mean_total(by, "static plan") > 1.02 * mean_total(by, "even pacing")
    assert by.get_group("static plan")["paid_floor_missed"].mean() < 0.05
