"""Plans against the simulator's truth (issue 4's Done-when), in expectation over days.

For each scenario, three schedules are valued by the truth's expectation (`sim.response()`):
the plan made on fitted curves (`default`: the shipped demo history, model and config; the
others: 21 sessions simulated with seed 1 and fitted here), the oracle (the same program on the
true curves) and even pacing (the budget spread evenly over the minutes in the history's
package mix). The budget is the config's (`default`) or the history's mean session spend
(rounded to 1,000 yuan), with a paid ROI floor of 2. `long` is the 8-hour session with 8
packages; in `cannibal`, retarget's paid traffic takes a yuan of organic GMV per yuan spent;
`offmodel`'s truth has curve families and a carryover shape the fit does not have. The plan
keeps within the spend history saw, as `spendplan plan` does by default. Without that limit,
`offmodel`'s plan put 60% of the budget into retarget (fitted exponential, truly logarithmic)
at up to 16 times the spend history saw there, and lost 16% to the oracle.

A check that cannot hold is `xfail(strict=True)`, its reason the numbers measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest
from fits import fitted
from scipy.stats import binom

from optimizer import pipeline
from optimizer.curves import FitOptions, ResponseModel, SessionResponse
from optimizer.curves.reach import UNIDENTIFIED_REACH
from optimizer.data import History, Panel
from optimizer.planner import Plan, PlanningProblem, solve
from optimizer.planner.forecast import Forecast, forecast_objective
from optimizer.sim import LiveRoomSimulator, Scenario, Truth, random_scenario

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "demo.yaml"
DAYS, SEED, FLOOR = 21, 1, 2.0
ORACLE_SHARE = 0.97  # the plan's total GMV under truth, at least this share of the oracle's
OVER_EVEN = 1.10  # ... and at least this multiple of even pacing's


@dataclass
class Case:
    """A scenario's truth, fitted model, history and planning settings."""

    sim: LiveRoomSimulator
    model: ResponseModel
    panel: Panel
    budget: float
    caps: dict[str, float]
    floor: float

    @cached_property
    def truth(self) -> SessionResponse:
        return self.sim.response()

    @cached_property
    def within_history(self) -> PlanningProblem:
        """Fitted curves within the spend history saw (the config's default `history_reach`),
        packages in the simulator's order."""
        caps = [self.caps.get(p, np.inf) for p in self.sim.packages]
        return PlanningProblem(
            response=self.model.response(self.truth.minutes, self.sim.packages),
            budget=self.budget,
            paid_roi_min=self.floor,
            max_spend_per_minute=np.array(caps),
            spend_reach=self.model.seen_spend(self.sim.packages),
        )

    @cached_property
    def problem(self) -> PlanningProblem:
        """The plan's problem as `spendplan plan` makes it: the reach raised where the
        curve's lower bound pays (`pipeline.trusted_reach`)."""
        return pipeline.trusted_reach(self.within_history, self.model, self.sim.packages)

    @cached_property
    def plan(self) -> Plan:
        return solve(self.problem)

    @cached_property
    def oracle(self) -> Plan:
        """The same program on the true curves, which hold at any spend (no reach), S-shaped
        ones on their concave envelope as the planner takes every S-shaped curve."""
        return solve(replace(self.problem, response=self.truth.enveloped(), spend_reach=None))

    @cached_property
    def even(self) -> np.ndarray:
        """(T, P) the budget evenly over the minutes, in the history's package mix."""
        mix = self.panel.spend.sum(axis=0) / self.panel.spend.sum()
        return np.tile(self.budget / self.truth.minutes * mix, (self.truth.minutes, 1))

    def under_truth(self, spend: np.ndarray) -> Forecast:
        return Forecast.of(self.truth, spend)


def _default() -> Case:
    campaign = pipeline.load_campaign(CONFIG)
    model, _ = pipeline.campaign_model(campaign, CONFIG)
    sim = Truth.load(ROOT / "data" / "demo" / "truth.json").simulator()
    config = campaign.config
    caps = {name: limits.max_spend_per_minute for name, limits in config.packages.items()}
    panel = campaign.history.panel(sim.packages)
    return Case(sim, model, panel, config.budget, caps, config.roi.paid_min)


def _simulated(name: str, options: FitOptions | None = None) -> Case:
    """A builtin scenario (history seed `SEED`), or `random<n>` (`random<n>-s_shaped`):
    `random_scenario(n)` (with ``s_shaped=True``) with history seed n, as
    benchmarks/bench_random_truths.py (bench_sshape_random.py) draws it; fitted with
    `options`."""
    number, _, kind = name.removeprefix("random").partition("-")
    random = name.startswith("random")
    scenario = random_scenario(int(number), s_shaped=kind == "s_shaped") if random \
        else Scenario.builtin(name)
    sim = LiveRoomSimulator(scenario)
    simulated = sim.history(DAYS, seed=int(number) if random else SEED)
    history, _ = History.from_frames(simulated.spend, simulated.room)
    panel = history.panel(sim.packages)
    budget = round(float(panel.spend.sum()) / DAYS, -3)
    return Case(sim, fitted(panel, options), panel, budget, {}, FLOOR)


class Cases:
    """Builds (and for simulated scenarios fits) each case on first use, once per module."""

    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}

    def __getitem__(self, name: str) -> Case:
        if name not in self._cases:
            self._cases[name] = _default() if name == "default" else _simulated(name)
        return self._cases[name]


@pytest.fixture(scope="module")
def cases() -> Cases:
    return Cases()


SLOW = pytest.mark.slow  # fitting the 8-hour, 8-package history takes 20-40 s
SCENARIOS = ["default", "cannibal", "offmodel", pytest.param("long", marks=SLOW)]


@pytest.mark.parametrize("name", SCENARIOS)
def test_plan_is_within_3_percent_of_the_oracle_under_truth(cases, name):
    case = cases[name]
    assert case.plan.status == case.oracle.status == "optimal"
    plan = case.under_truth(case.plan.spend).total_gmv
    oracle = case.under_truth(case.oracle.spend).total_gmv
    assert plan >= ORACLE_SHARE * oracle, f"{name}: plan {plan:,.0f}, oracle {oracle:,.0f}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_plan_breaks_no_floor_under_truth(cases, name):
    case = cases[name]
    truth = case.under_truth(case.plan.spend)
    assert truth.total_spend <= case.budget * (1 + 1e-9)
    assert truth.paid_total >= case.floor * truth.total_spend


# -- past the spend history saw, where the lower bound pays -------------------------------
@pytest.mark.slow
def test_the_reach_is_raised_where_the_best_plan_lies_past_history(cases):
    """random1's best plan spends far past history in packages whose curves the data
    identify: held at history's reach the plan earned 84.5% of the oracle's GMV, raised where
    the curves' lower bound pays 98.0% (94.3% with the 5% quantile first used;
    benchmarks/results/random_truths.txt has all 40 truths)."""
    case = cases["random1"]
    oracle = case.under_truth(case.oracle.spend).total_gmv
    plan = case.under_truth(case.plan.spend)
    held = case.under_truth(solve(case.within_history).spend)
    assert plan.total_gmv >= 0.95 * oracle and held.total_gmv <= 0.87 * oracle
    assert plan.paid_total >= case.floor * plan.total_spend
    assert any("x history's, as far as the curve's lower bound pays" in b
               for b in case.plan.binding)


@pytest.mark.slow
def test_a_budget_the_spend_history_saw_cannot_take_raises_the_reach_at_its_own_price(cases):
    """random1 with twice its budget: within history's reach the fitted curves find nothing
    worth the last 20,000 yuan (the continuous plan spends 106,000 of 126,000), so the budget
    has no price there and the reach used to stay where it was: the plan earned 71.7% of the
    oracle's GMV. Raised where the lower bound pays the price the raised reaches make
    (`pipeline._self_priced`), 95.8% (`bench_random_truths.py --budget 2`)."""
    case = cases["random1"]
    within = replace(case.within_history, budget=2 * case.budget)
    first = solve(within.continuous())
    assert first.shadow_prices["budget"] < 1e-9 and first.spend.sum() < 0.9 * within.budget
    oracle = case.under_truth(solve(replace(within, response=case.truth.enveloped(),
                                            spend_reach=None)).spend).total_gmv
    plan = case.under_truth(solve(pipeline.trusted_reach(within, case.model,
                                                         case.sim.packages)).spend)
    held = case.under_truth(solve(within).spend)
    assert plan.total_gmv >= 0.95 * oracle and held.total_gmv <= 0.80 * oracle
    assert plan.paid_total >= case.floor * plan.total_spend


@pytest.mark.slow
def test_a_profit_plan_raises_the_reach_where_a_yuan_still_earns_its_cost(cases):
    """random1 for profit at a 40% margin: a yuan past the reach pays where margin x its GMV
    covers itself and the budget's price. Held at history's reach the plan made 72.5% of the
    oracle's profit under truth; raised, 96.8% (`max_profit` plans were never raised)."""
    case = cases["random1"]
    within = replace(case.within_history, objective="max_profit", margin=0.4)
    truth = replace(within, response=case.truth)
    best = solve(replace(within, response=case.truth.enveloped(), spend_reach=None))

    def profit(problem: PlanningProblem) -> float:
        return forecast_objective(truth, case.under_truth(solve(problem).spend))

    oracle = forecast_objective(truth, case.under_truth(best.spend))
    raised = pipeline.trusted_reach(within, case.model, case.sim.packages)
    assert raised.reach_multiples is not None
    assert profit(raised) >= 0.95 * oracle and profit(within) <= 0.80 * oracle


@pytest.mark.slow
def test_a_curve_whose_half_saturation_is_not_identified_is_raised_by_its_steepest_fit(cases):
    """In random17 lookalike's fit is a straight line (its k not identified; the truth is
    logarithmic, k = 109 yuan/min against 108 seen) that looks best at any spend: the plan
    without a reach put 66,000 yuan there and earned 65.4% of the oracle's GMV. Never raised,
    the plan earned 95.4%; raised as far as its steepest admitted profile fit pays (2 x, the
    most `UNIDENTIFIED_REACH` allows; the truth's marginal ROI there, 2.97, is just under the
    budget's price, 3.19), 97.5%."""
    case = cases["random17"]
    lookalike = case.sim.packages.index("lookalike")
    assert not case.model.paid_["lookalike"].identified
    assert case.problem.reach_multiples[lookalike] == UNIDENTIFIED_REACH
    oracle = case.under_truth(case.oracle.spend).total_gmv
    free = solve(replace(case.within_history, spend_reach=None))
    held = solve(case.within_history)
    assert case.under_truth(case.plan.spend).total_gmv >= 0.97 * oracle
    assert case.under_truth(held.spend).total_gmv <= 0.96 * oracle
    assert case.under_truth(free.spend).total_gmv <= 0.70 * oracle


MEASURED = {
    "default": "plan 5.2% above even pacing, the oracle itself only 5.6% (total GMV under "
    "truth: even 375,041, plan 394,530, oracle 396,201 yuan)",
    "cannibal": "plan 4.9% above even pacing, the oracle itself only 5.8% (even 348,838, plan "
    "365,937, oracle 368,962 yuan)",
    "offmodel": "plan 4.9% above even pacing, the oracle itself only 7.2% (even 334,495, plan "
    "350,747, oracle 358,548 yuan)",
    "long": "plan 6.6% above even pacing, the oracle itself only 7.0% (even 845,320, plan "
    "900,880, oracle 904,853 yuan)",
}


def _short(name: str):
    """The scenario as a parameter expected to fail with its measured numbers."""
    marks = [pytest.mark.xfail(strict=True, reason=MEASURED[name])]
    return pytest.param(name, marks=[*marks, SLOW] if name == "long" else marks)


@pytest.mark.parametrize("name", [_short(name) for name in MEASURED])
def test_plan_beats_even_pacing_with_the_history_mix_by_10_percent(cases, name):
    case = cases[name]
    plan = case.under_truth(case.plan.spend).total_gmv
    even = case.under_truth(case.even).total_gmv
    assert case.under_truth(case.even).total_spend == pytest.approx(case.budget)
    assert plan >= OVER_EVEN * even, f"{name}: plan {plan:,.0f}, even pacing {even:,.0f}"


def test_a_least_spend_past_history_keeps_the_package_in_the_plan(cases):
    """The contract's example least spend, fans at 200 yuan/min when active, is past the 94
    history saw: fans was left off, and the plan lost 8.8% of the oracle's GMV under truth
    (the oracle: the same rule on the true curves). Held to its least spend, 0.5%."""
    case = cases["default"]
    fans = case.sim.packages.index("fans")
    least = np.zeros(len(case.sim.packages))
    least[fans] = 200.0
    problem = replace(case.problem, min_spend_when_active=least, time_limit=20.0)
    plan = solve(problem)
    oracle = solve(replace(problem, response=case.truth, spend_reach=None))
    assert plan.spend[:, fans].sum() > 0
    assert case.under_truth(plan.spend).total_gmv >= ORACLE_SHARE * case.under_truth(
        oracle.spend).total_gmv


def test_the_cannibalising_package_gets_clearly_less_than_an_organic_blind_plan(cases):
    case = cases["cannibal"]
    fitted = case.problem.response
    blind = solve(
        replace(
            case.problem,
            response=SessionResponse(fitted.packages, fitted.baseline, fitted.paid, ()),
        )
    )
    retarget = case.sim.packages.index("retarget")
    planned, organic_blind = case.plan.spend[:, retarget].sum(), blind.spend[:, retarget].sum()
    assert planned <= 0.8 * organic_blind, f"plan {planned:,.0f}, blind {organic_blind:,.0f}"


# -- floors held at a confidence --------------------------------------------------------------
CONFIDENCE = 0.9
TIGHT_FLOOR = 4.0  # paid ROI: binding in both cases (the plan at expectation lands near it)
SESSIONS = 300


def _realised_paid_roi(case: Case, spend: np.ndarray, sessions: int) -> np.ndarray:
    """(sessions,) realised paid ROI of `spend` on simulated days: day and package factors
    drawn as the simulator draws them, orders drawn around the day's expectation."""
    days, orders = np.random.default_rng(99), np.random.default_rng(7)
    rois = []
    for _ in range(sessions):
        day, packages = case.sim.draw_factors(days)
        realised = case.sim.sample(spend, orders, day_factor=day, package_factors=packages)
        rois.append(realised.paid_gmv.sum() / spend.sum())
    return np.array(rois)


@SLOW
@pytest.mark.parametrize("name", ["default", "offmodel"])
def test_a_floor_held_at_90_percent_confidence_is_met_in_90_percent_of_sessions(cases, name):
    """`planner.confidence` under the truth, day-to-day variation and order noise included;
    the curves' uncertainty is measured where the plan at expectation spends, as
    `pipeline.planning_problem` does.

    Measured (300 sessions): planned at expectation, the plan misses paid ROI >= 4 in 64%
    (default) and 39% (offmodel) of sessions; planned at 90% confidence, in 4.3% and 2.0%. The
    allowance is what a 10% miss rate exceeds with probability under 1% (binomial).
    """
    case = replace(cases[name], floor=TIGHT_FLOOR)
    floor = case.model.pessimistic_response(case.truth.minutes, CONFIDENCE, case.sim.packages,
                                            reference=pipeline.floor_reference(case.problem))
    plan = solve(replace(case.problem, floor_response=floor))
    assert plan.status == "optimal"
    missed = _realised_paid_roi(case, plan.spend, SESSIONS) < TIGHT_FLOOR
    allowed = binom.ppf(0.99, SESSIONS, 1.0 - CONFIDENCE)
    assert missed.sum() <= allowed, f"{name}: missed in {missed.sum()} of {SESSIONS} sessions"


# -- S-shaped random truths (benchmarks/bench_sshape_random.py has truths 1-40) -------------
@pytest.mark.slow
def test_s_shaped_packages_are_fitted_s_shaped_and_planned_near_the_oracle(cases):
    """random2-s_shaped: lookalike, competitor and auto are Hill curves of shape 2.6, 2.1 and
    2.7 that history saw bend; their fits come out at 2.8, 2.3 and 2.8, and the plan lost 3.0%
    to the oracle. Held concave (`FitOptions(s_shaped=False)`) the plan lost 6.9% (17.1% while
    straight fits were never raised past history's spend)."""
    case = cases["random2-s_shaped"]
    for package in ("lookalike", "competitor", "auto"):
        curve = case.model.paid_[package]
        assert curve.family == "hill" and curve.param("shape") > 1.5, package
    oracle = case.under_truth(case.oracle.spend).total_gmv
    assert case.under_truth(case.plan.spend).total_gmv >= 0.94 * oracle
    concave = _simulated("random2-s_shaped", FitOptions(s_shaped=False))
    assert concave.under_truth(concave.plan.spend).total_gmv <= 0.95 * oracle


@pytest.mark.slow
@pytest.mark.parametrize("name", ["random22-s_shaped", "random34-s_shaped"])
def test_an_s_shape_bending_far_past_the_spend_seen_is_fitted_concave(cases, name):
    """random22-s_shaped: auto is a Hill curve of shape 2.7 whose bend lies at 2.3 times the
    spend history saw. Its S-shaped fit, before `S_SHAPED_REACH`, bent at 64 times the spend
    seen, and the plan claimed 21 times the GMV the truth gave and lost 24.4% to the oracle;
    fitted concave the plan loses 3.4%. random34-s_shaped: auto's fit on the training
    sessions bent at 1.4 times the spend seen, its fit on every session at 62 (the plan lost
    20.4%); the reach is checked on that fit too (`within_reach`): concave, it loses 2.9%."""
    case = cases[name]
    auto = case.model.paid_["auto"]
    assert auto.family != "hill" or auto.param("shape") <= 1.0
    oracle = case.under_truth(case.oracle.spend).total_gmv
    assert case.under_truth(case.plan.spend).total_gmv >= 0.95 * oracle
