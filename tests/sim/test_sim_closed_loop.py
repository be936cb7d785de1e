"""Closed-loop sessions: causality, common random numbers, metrics, agreement with expected()."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.sim import LiveRoomSimulator, Scenario
from optimizer.sim.closed_loop import (
    EvenPacing,
    Observed,
    Outcome,
    StaticSchedule,
    distribution,
    metrics,
    run_session,
    simulate_policies,
)

SIM = LiveRoomSimulator(Scenario.builtin("default"))
T, P = 240, len(SIM.packages)


def even(sim):
    return EvenPacing(budget=48_000.0, minutes=T, mix=(1.0,) * P)


class Recorder:
    """A policy that remembers how much it had seen at each minute."""

    name = "recorder"

    def __init__(self):
        self.seen = []

    def spend(self, minute: int, observed: Observed) -> np.ndarray:
        self.seen.append((minute, len(observed.spend), len(observed.organic_gmv)))
        return np.full(P, 30.0)


def test_policy_sees_only_the_past():
    recorder = Recorder()
    run_session(SIM, recorder, seed=1)
    assert recorder.seen == [(t, t, t) for t in range(T)]


def test_same_seed_same_outcome_and_even_pacing_spends_the_budget():
    first, second = run_session(SIM, even(SIM), 3), run_session(SIM, even(SIM), 3)
    np.testing.assert_array_equal(first.paid_gmv, second.paid_gmv)
    assert first.spend.sum() == pytest.approx(48_000.0)


def test_mean_of_sessions_agrees_with_expected_within_noise():
    # even pacing, 60 seeds: realised totals average to expected() at day factor 1 within
    # the spread the day factors and order noise imply (4 standard errors of the mean)
    outcomes = [run_session(SIM, even(SIM), seed) for seed in range(60)]
    expected = SIM.expected(outcomes[0].spend)
    totals = np.array([o.paid_gmv.sum() + o.organic_gmv.sum() for o in outcomes])
    target = expected.paid_gmv.sum() + expected.organic_gmv.sum()
    assert abs(totals.mean() - target) < 4 * totals.std(ddof=1) / np.sqrt(len(totals))


def test_metrics_of_a_known_outcome():
    spend = np.zeros((4, 2))
    spend[:, 0] = 25.0
    outcome = Outcome(spend=spend, paid_gmv=np.full((4, 2), 10.0), organic_gmv=np.full(4, 5.0))
    row = metrics(outcome, budget=200.0, paid_roi_min=1.0)
    assert row["spend"] == 100 and row["paid_gmv"] == 80 and row["total_gmv"] == 100
    assert row["paid_roi"] == pytest.approx(0.8) and row["paid_roi_miss"] == pytest.approx(0.2)
    assert row["budget_error"] == pytest.approx(-0.5)
    assert row["pacing_error"] == pytest.approx(0.5)  # 100 spent against 200 paced by the end


def test_simulate_policies_regret_against_oracle():
    def oracle(sim):
        return StaticSchedule(np.full((T, P), 200.0 / P), name="oracle")

    frame = simulate_policies(SIM, [even, oracle], seeds=range(4), budget=48_000.0, workers=1)
    assert set(frame["policy"]) == {"even pacing", "oracle"}
    assert (frame.loc[frame["policy"] == "oracle", "regret"] == 0).all()
    table = distribution(frame)
    assert ("total_gmv", "p10") in table.columns and len(table) == 2


def test_the_chart_whiskers_end_at_the_tables_p10_and_p90(tmp_path):
    """With 5 sessions matplotlib's percentile whiskers stopped at the last session inside P90,
    in the box; the table's P10/P90 interpolate. The chart now shows the table's."""
    import pandas as pd

    from optimizer.sim.closed_loop import _box_stats, distribution, plot_runs

    frame = pd.DataFrame({"policy": ["a"] * 5, "seed": range(5),
                          "total_gmv": [100.0, 110.0, 120.0, 130.0, 200.0]})
    (stat,) = _box_stats([frame["total_gmv"]], ["a"])
    table = distribution(frame)
    assert stat["whislo"] == pytest.approx(table.loc["a", ("total_gmv", "p10")])
    assert stat["whishi"] == pytest.approx(table.loc["a", ("total_gmv", "p90")])
    assert stat["whishi"] > stat["q3"]
    assert list(stat["fliers"]) == [100.0, 200.0]
    assert plot_runs(frame, tmp_path / "runs.png").stat().st_size > 0


@pytest.mark.parametrize("changes", [{"seeds": []}, {"budget": 0.0}, {"workers": 0}])
def test_no_session_no_budget_or_no_worker_is_bad_input(changes):
    """They were a KeyError 'policy', a ZeroDivisionError and a concurrent.futures error."""
    from optimizer.errors import InputError

    arguments = {"seeds": range(2), "budget": 48_000.0, "workers": 1} | changes
    with pytest.raises(InputError):
        simulate_policies(SIM, [even], **arguments)


def test_a_budget_other_than_the_policies_plan_for_is_bad_input():
    """An analyst's 100,000 for a problem of 80,000 read budget_error -0.20 in every run."""
    from types import SimpleNamespace

    from optimizer.errors import InputError

    replanning = SimpleNamespace(name="re-plan", problem=SimpleNamespace(budget=80_000.0))
    with pytest.raises(InputError, match="plans for a budget of 80,000 yuan, the runs are "
                                         "measured against 100,000"):
        simulate_policies(SIM, [even, replanning], seeds=range(2), budget=100_000.0,
                          workers=1)


def test_the_chart_names_the_policies_that_miss_a_floor():
    """Regret counts GMV only: under a paid floor of 10, even pacing read -231% regret (better
    than the oracle) while missing the floor in every session."""
    import pandas as pd

    from optimizer.sim.closed_loop import _labels

    frame = pd.DataFrame({"policy": ["even pacing"] * 4 + ["oracle"] * 4,
                          "paid_floor_missed": [1.0, 1.0, 0.0, 1.0] + [0.0] * 4,
                          "overall_floor_missed": [0.0] * 8})
    assert _labels(frame, ["even pacing", "oracle"]) == [
        "even pacing\n(floor missed in 75%)", "oracle"]
