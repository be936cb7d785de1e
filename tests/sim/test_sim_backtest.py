"""The rolling back-test: fits see only earlier sessions, plans are compared with the spend
actually used through paired draws, and no session is dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.curves import Carryover, Exponential, FitOptions, ResponseTerm, SessionResponse
from optimizer.data import CampaignConfig, History
from optimizer.errors import InputError
from optimizer.pipeline import Campaign
from optimizer.sim import LiveRoomSimulator, Scenario
from optimizer.sim.backtest import (
    FORECAST_COLUMNS,
    PLAN_COLUMNS,
    backtest,
    backtest_session,
    check_first,
    columns,
    forecast_backtest,
    interval,
    paired_uplift,
    past_campaign,
)

FAST = FitOptions(families=("exponential",), knot_minutes=(20.0,))
"""One family and one knot spacing: the quickest fit, enough for these checks."""

PREDICTED = [f"{kind}_{part}" for kind in ("paid", "organic", "total")
             for part in ("forecast", "low", "high")] + columns(PLAN_COLUMNS)[4:]
"""Every column computed from the fit (forecasts, plan, uplift), none from what happened."""


def campaign_of(spend: pd.DataFrame, room: pd.DataFrame, **config) -> Campaign:
    """A campaign over history frames in memory; `config` keys override the defaults (no
    floors, no caps, max_gmv, a session after the history)."""
    history, report = History.from_frames(spend, room)
    data = {"history": {"spend": "spend.csv", "room": "room.csv"},
            "session": {"start": "2027-01-01 19:00", "end": "2027-01-01 23:00"},
            "budget": 100_000} | config
    return Campaign(CampaignConfig.from_dict(data, "."), history, report)


@pytest.fixture(scope="module")
def simulated():
    """Five sessions (240 minutes, six packages) of the default scenario, seed 3."""
    return LiveRoomSimulator(Scenario.builtin("default")).history(5, seed=3)


@pytest.fixture(scope="module")
def row(simulated) -> dict:
    """Session 3 back-tested: fitted on sessions 0-2, planned with the money actually spent."""
    return backtest_session(campaign_of(simulated.spend, simulated.room), 3, options=FAST)


def response(level: float, minutes: int = 30) -> SessionResponse:
    """Two packages with carryover and a shared organic uplift, every scale times `level`."""
    profile = level * (1.0 + 0.3 * np.sin(np.arange(minutes) / 5))
    paid = tuple(ResponseTerm(scale * profile, Exponential(k=k), Carryover(half_lives=(3.0,)),
                              np.eye(2)[p])
                 for p, (scale, k) in enumerate([(900.0, 300.0), (400.0, 100.0)]))
    uplift = ResponseTerm(500.0 * profile, Exponential(k=400.0), Carryover(half_lives=(10.0,)),
                          np.array([0.8, 0.3]))
    return SessionResponse(("a", "b"), 2000.0 * profile, paid, (uplift,))


def test_overflowing_draws_count_as_extreme_and_leave_the_bounds_finite():
    draws = np.linspace(0.0, 1.0, 100)
    assert interval(draws) == pytest.approx((np.quantile(draws, 0.05), np.quantile(draws, 0.95)))
    # 3 of 100 draws overflowed (inf totals, or inf / inf ratios): fewer than the 5% above
    # the upper bound, so both bounds are draws of the other 97, in their order
    broken = np.r_[draws[:97], np.inf, np.nan, np.inf]
    low, high = interval(broken)
    assert np.isfinite([low, high]).all()
    assert low == np.sort(draws[:97])[4] and high == np.sort(draws[:97])[94]
    # more than 5% overflowed: the upper bound is honest about it
    assert interval(np.r_[draws[:90], [np.nan] * 10])[1] == np.inf


def test_paired_interval_of_a_schedule_against_itself_is_zero():
    draws = [response(level) for level in np.linspace(0.7, 1.3, 9)]
    schedule = np.full((30, 2), 150.0)
    assert paired_uplift(draws, schedule, schedule) == (0.0, 0.0)


def test_paired_interval_cancels_what_both_schedules_share():
    """A factor common to both schedules (here: every scale) moves both totals alike, so the
    ratio's interval is a point even though each total's interval is wide."""
    draws = [response(level) for level in np.linspace(0.5, 1.5, 21)]
    plan, actual = np.full((30, 2), [200.0, 50.0]), np.full((30, 2), [50.0, 200.0])
    point = response(1.0)
    ratio = ((point.paid_gmv(plan).sum() + point.organic_gmv(plan).sum())
             / (point.paid_gmv(actual).sum() + point.organic_gmv(actual).sum()) - 1)
    low, high = paired_uplift(draws, plan, actual)
    assert low == pytest.approx(ratio) and high == pytest.approx(ratio)
    assert ratio > 0.05


def test_row_has_every_documented_column(row):
    assert set(row) == set(columns(FORECAST_COLUMNS) + columns(PLAN_COLUMNS))
    assert row["train_sessions"] == 3 and row["minutes"] == 240


def test_plan_at_equal_budget_forecasts_no_less_than_the_actual_spend(row):
    """The planner maximises the same fitted model, so when the actual spend breaks none of
    the config's rules it is a candidate plan: the point uplift cannot be negative (beyond the
    planner's tolerance)."""
    assert row["status"] == "optimal" and row["actual_breaks"] == ""
    assert row["budget"] == pytest.approx(row["spend"])
    assert row["plan_spend"] <= row["budget"] * (1 + 1e-9)
    assert row["uplift"] >= -0.005
    assert row["uplift"] == pytest.approx(row["plan_total"] / row["total_forecast"] - 1)


def test_paired_uplift_interval_is_narrower_than_the_forecast_interval(row):
    assert row["uplift_low"] < row["uplift_high"]
    forecast_width = (row["total_high"] - row["total_low"]) / row["total_forecast"]
    assert row["uplift_high"] - row["uplift_low"] < forecast_width


def test_fit_never_sees_the_session_or_later(simulated, row):
    """Scrambling the GMV of session 3 and everything about session 4 changes what happened,
    but no forecast, plan or uplift of session 3."""
    later = simulated.spend["ts"] >= pd.Timestamp("2026-11-14")
    spend = simulated.spend.copy()
    spend.loc[later, ["spend", "paid_gmv"]] *= [3.0, 5.0]
    spend.loc[spend["ts"].between("2026-11-13", "2026-11-14"), "paid_gmv"] *= 2.0
    room = simulated.room.copy()
    room.loc[room["ts"] >= pd.Timestamp("2026-11-13"), "organic_gmv"] *= 2.0
    scrambled = backtest_session(campaign_of(spend, room), 3, options=FAST)
    assert scrambled["total_actual"] != pytest.approx(row["total_actual"])
    for name in PREDICTED:
        assert scrambled[name] == row[name], name


def test_infeasible_sessions_are_kept_with_the_reason(simulated):
    campaign = campaign_of(simulated.spend, simulated.room, roi={"paid_min": 100})
    frame = backtest(campaign, first=3, options=FAST, workers=2)
    assert list(frame.columns) == columns(FORECAST_COLUMNS) + columns(PLAN_COLUMNS)
    assert frame["session"].tolist() == [3, 4]
    assert (frame["status"] == "infeasible").all()
    assert frame["reason"].str.contains("paid ROI").all()
    assert frame["actual_breaks"].str.contains("paid ROI").all()
    assert frame[["plan_total", "uplift", "uplift_low"]].isna().all().all()
    assert np.isfinite(frame["total_forecast"]).all()


def test_session_the_fit_cannot_plan_is_kept_with_the_reason(simulated):
    campaign = campaign_of(simulated.spend, simulated.room, packages={"newcomer": {}})
    row = backtest_session(campaign, 3, options=FAST)
    assert row["status"] == "not planned" and "newcomer" in row["reason"]
    assert "uplift" not in row


def test_a_package_that_starts_later_is_left_out_of_earlier_sessions(simulated):
    """A package with no spend before a session nor in it is switched off for that session
    (it emptied every row of the back-test: all 'not planned', even the actuals NaN); the
    session it first spends in keeps its actuals, with the reason it is not planned."""
    spend, room = simulated.spend.copy(), simulated.room
    day = pd.to_datetime(spend["ts"]).dt.normalize()
    later = spend[(spend["package"] == "fans") & (day == day.max())].assign(package="newcomer")
    campaign = campaign_of(pd.concat([spend, later], ignore_index=True), room)
    before = backtest_session(campaign, 3, options=FAST)
    assert before["status"] == "optimal"
    assert before["reason"].startswith("newcomer: no spend before this session nor in it")
    assert np.isfinite(before["uplift"])
    first = backtest_session(campaign, 4, options=FAST)
    assert first["status"] == "not planned" and "newcomer" in first["reason"]
    assert first["paid_actual"] == pytest.approx(
        room_paid(simulated, 4) + later["paid_gmv"].sum())


def room_paid(simulated, session: int) -> float:
    """Paid GMV (yuan) of history session `session` (0 is the earliest day)."""
    spend = simulated.spend
    day = pd.to_datetime(spend["ts"]).dt.normalize()
    return float(spend.loc[day == sorted(day.unique())[session], "paid_gmv"].sum())


@pytest.mark.parametrize("changes, where", [({"workers": 0}, "workers"),
                                             ({"budget": "Actual"}, "budget")])
def test_bad_arguments_are_bad_input_before_any_fit(simulated, changes, where):
    """workers=0 was a concurrent.futures error; any budget but "actual" was taken as the
    config's."""
    with pytest.raises(InputError) as caught:
        backtest(campaign_of(simulated.spend, simulated.room), first=3, **changes)
    assert caught.value.where == where


def test_a_failed_fit_is_kept_with_the_reason(simulated, monkeypatch):
    def fails(*_args, **_kwargs):
        raise ValueError("NaN in weights")

    monkeypatch.setattr("optimizer.sim.backtest.ResponseModel.fit", fails)
    row = backtest_session(campaign_of(simulated.spend, simulated.room), 4)
    assert row["status"] == "fit failed" and row["reason"] == "ValueError: NaN in weights"
    assert row["session"] == 4 and row["spend"] > 0


def test_past_campaign_plans_the_past_session_with_the_given_budget(simulated):
    campaign = campaign_of(simulated.spend, simulated.room, roi={"paid_min": 2.0})
    past = past_campaign(campaign, 2, budget=1234.0)
    assert past.config.session.start == pd.Timestamp("2026-11-12 19:00")
    assert past.minutes == 240 and past.config.budget == 1234.0
    assert past.config.roi.paid_min == 2.0
    assert past_campaign(campaign, 2).config.budget == 100_000


@pytest.mark.parametrize("first", [2, 5])
def test_first_session_out_of_range_is_bad_input_with_the_fix(first):
    with pytest.raises(InputError, match="--first.*choose --first from 3 to 4"):
        check_first(first, 5, "--first")


def test_forecast_backtest_on_history_alone(simulated):
    history, _ = History.from_frames(simulated.spend, simulated.room)
    frame = forecast_backtest(history.panel(), first=4, options=FAST, workers=1)
    assert list(frame.columns) == columns(FORECAST_COLUMNS)
    assert frame["session"].tolist() == [4] and frame["train_sessions"].tolist() == [4]


@pytest.mark.slow
def test_plans_from_short_histories_beat_the_actual_spend_under_the_truth():
    """Sessions 9-14 of the default scenario (seed 11), each planned as the back-test does:
    fitted on the sessions before it, with the money the operator actually spent, paid ROI
    >= 2. Under the truth of that day every plan earns more than the actual spend did, and the
    back-test's paired 90% interval is finite and covers the true uplift as often as a 90%
    interval may (fewer covers than `least` happen with probability under 1%)."""
    from scipy.stats import binom

    from optimizer.curves import ResponseModel
    from optimizer.pipeline import planning_problem, session_draws, session_response
    from optimizer.planner import solve

    sim = LiveRoomSimulator(Scenario.builtin("default"))
    simulated = sim.history(15, seed=11)
    campaign = campaign_of(simulated.spend, simulated.room, roi={"paid_min": 2.0})
    panel = campaign.panel()
    order = [panel.packages.index(p) for p in sim.packages]
    uplifts, covered = [], []
    for session in range(9, 15):
        actual = panel.spend[panel.session == session]
        past = past_campaign(campaign, session, float(actual.sum()))
        model = ResponseModel().fit(panel.sessions(range(session)))
        response = session_response(past, model)
        plan = solve(planning_problem(past, model, response))
        draws = session_draws(past, model, 100)
        low, high = paired_uplift(draws, plan.spend, actual)
        day = simulated.truth.sessions[session]
        truth = sim.response(past.minutes, day.day_factor, day.package_factors)
        total = [truth.paid_gmv(x[:, order]).sum() + truth.organic_gmv(x[:, order]).sum()
                 for x in (plan.spend, actual)]
        uplifts.append(total[0] / total[1] - 1)
        assert np.isfinite([low, high]).all(), f"session {session}: [{low}, {high}]"
        covered.append(low <= uplifts[-1] <= high)
    assert min(uplifts) > 0, f"true uplift per session: {np.round(uplifts, 3).tolist()}"
    least = binom.ppf(0.01, len(covered), 0.9)
    assert sum(covered) >= least, f"{sum(covered)} of {len(covered)} intervals cover the truth"
