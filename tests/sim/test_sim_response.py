"""The expected truth: its formulas, zero spend, monotone concave paid GMV, leverage signs."""

import numpy as np
import pandas as pd
import pytest

from optimizer.curves.transforms import (
    BelowData,
    Exponential,
    Hill,
    Logarithmic,
    concave_envelope,
    decay_of,
)
from optimizer.errors import InputError
from optimizer.sim import LiveRoomSimulator, Scenario, list_builtin, random_scenario


def steady(sim, package, level, minutes=None):
    """A session with `level` yuan/min on one package every minute and nothing elsewhere."""
    spend = np.zeros((minutes or sim.scenario.session.minutes, len(sim.packages)))
    spend[:, sim.packages.index(package)] = level
    return spend


@pytest.mark.parametrize("name", list_builtin())
def test_zero_spend_gives_baseline_only(name):
    sim = LiveRoomSimulator(Scenario.builtin(name))
    expected = sim.expected(np.zeros((sim.scenario.session.minutes, len(sim.packages))))
    assert np.all(expected.paid_gmv == 0)
    assert np.all(expected.uplift == 0)
    assert np.array_equal(expected.organic_gmv, expected.baseline)
    room = sim.scenario.room
    assert np.array_equal(expected.baseline, room.baseline_per_minute * sim.levels())


def test_expected_follows_the_documented_formulas():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    fans = sim.scenario.packages["fans"]
    room = sim.scenario.room
    x, t = 120.0, 100  # yuan/min on fans alone; minute 100 is on the plateau (m = 1)
    expected = sim.expected(steady(sim, "fans", x))
    # paid carryover (half-life 2) has settled: adstock = x
    paid = fans.max_gmv_per_minute * (1 - np.exp(-x / fans.saturation.k))
    assert expected.paid_gmv[t, 0] == pytest.approx(paid, rel=1e-12)
    # organic carryover of a steady spend from minute 0: u[t] = x (1 - r^(t+1))
    u = x * (1 - decay_of(room.organic_carryover.half_lives[0]) ** (t + 1))
    umax = room.uplift_max_per_minute
    uplift = umax * (1 - np.exp(-fans.organic_leverage * u / umax))
    assert expected.uplift[t] == pytest.approx(uplift, rel=1e-12)
    assert expected.organic_gmv[t] == pytest.approx(room.baseline_per_minute + uplift, rel=1e-12)


def test_day_factors_scale_the_truth():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    spend = steady(sim, "fans", 80.0) + steady(sim, "retarget", 40.0)
    base = sim.expected(spend)
    shifted = sim.expected(spend, day_factor=1.1, package_factors={"fans": 0.5})
    assert np.allclose(shifted.paid_gmv[:, 0], 1.1 * 0.5 * base.paid_gmv[:, 0])
    assert np.allclose(shifted.paid_gmv[:, 4], 1.1 * base.paid_gmv[:, 4])
    assert np.allclose(shifted.organic_gmv, 1.1 * base.organic_gmv)


def _check_increasing_concave(values):
    scale = np.abs(values).max()
    assert np.all(np.diff(values) > 0)
    assert np.all(np.diff(values, 2) <= 1e-9 * scale)


GRID = np.linspace(0.0, 1000.0, 41)  # yuan/min


@pytest.mark.parametrize("name", list_builtin())
def test_paid_gmv_is_increasing_and_concave_in_steady_spend(name):
    sim = LiveRoomSimulator(Scenario.builtin(name))
    for column, package in enumerate(sim.packages):
        totals = np.array(
            [sim.expected(steady(sim, package, x)).paid_gmv[:, column].sum() for x in GRID]
        )
        _check_increasing_concave(totals)


@pytest.mark.parametrize(
    "saturation",
    [Exponential(k=80), Hill(k=120, shape=1.0), Hill(k=120, shape=0.4), Logarithmic(k=50)],
    ids=["exponential", "hill", "hill-0.4", "log"],
)
def test_every_family_is_increasing_and_concave(saturation):
    default = Scenario.builtin("default")
    fans = default.packages["fans"].model_copy(update={"saturation": saturation})
    sim = LiveRoomSimulator(default.model_copy(update={"packages": {"fans": fans}}))
    totals = [sim.expected(steady(sim, "fans", x)).totals() for x in GRID]
    _check_increasing_concave(np.array([t["paid_gmv"] for t in totals]))
    _check_increasing_concave(np.array([t["organic_gmv"] for t in totals]))


def test_negative_leverage_lowers_organic_gmv():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    cannibal = sim.expected(steady(sim, "retarget", 60.0))
    assert np.all(cannibal.uplift[1:] < 0)
    assert cannibal.totals()["organic_gmv"] < cannibal.totals()["baseline"]
    lever = sim.expected(steady(sim, "fans", 60.0))
    assert np.all(lever.uplift[1:] > 0)


def test_response_terms_follow_the_leverage_signs():
    default = Scenario.builtin("default")
    response = LiveRoomSimulator(default).response()
    assert response.packages == default.package_ids
    assert len(response.uplift) == 2  # levering and cannibalising terms
    assert np.all(response.uplift[0].weights >= 0) and np.all(response.uplift[1].weights <= 0)
    only_fans = default.model_copy(update={"packages": {"fans": default.packages["fans"]}})
    assert len(LiveRoomSimulator(only_fans).response(minutes=480).uplift) == 1


def test_totals_add_up():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    totals = sim.expected(sim.operator_spend(np.random.default_rng(3))).totals()
    assert totals["total_gmv"] == pytest.approx(totals["paid_gmv"] + totals["organic_gmv"])
    assert totals["organic_gmv"] == pytest.approx(totals["baseline"] + totals["uplift"])
    assert totals["paid_roi"] == pytest.approx(totals["paid_gmv"] / totals["total_spend"])


def test_spend_frame_equals_spend_array():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    spend = sim.operator_spend(np.random.default_rng(5))
    start = pd.Timestamp("2026-12-01 19:00")
    minute, column = np.nonzero(spend)
    frame = pd.DataFrame(
        {
            "ts": start + pd.to_timedelta(minute, "min"),
            "package": np.array(sim.packages)[column],
            "spend": spend[minute, column],
        }
    )
    from_frame = sim.expected(frame)
    assert np.array_equal(from_frame.spend, spend)
    assert np.array_equal(from_frame.paid_gmv, sim.expected(spend).paid_gmv)
    assert np.array_equal(sim.expected(frame, start=start).spend, spend)
    # a wide frame by package name: a campaign's plan has its packages sorted, and its array
    # passed as it was gave fans' spend to another package without a word
    wide = pd.DataFrame(spend, columns=sim.packages)[sorted(sim.packages)]
    assert list(wide.columns) != list(sim.packages)
    assert np.array_equal(sim.expected(wide).spend, spend)
    wide = wide.astype(object)
    wide.iloc[0, 0] = True  # a flag pasted in was 1 yuan
    with pytest.raises(InputError, match="True or False"):
        sim.expected(wide)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ({"ts": ["2026-12-01 23:00"], "package": ["fans"], "spend": [1.0]}, "not a minute"),
        ({"ts": ["2026-12-01 19:00"], "package": ["tv"], "spend": [1.0]}, "unknown packages"),
        (
            {"ts": ["2026-12-01 19:00"] * 2, "package": ["fans"] * 2, "spend": [1.0, 2.0]},
            "duplicate",
        ),
        ({"ts": ["2026-12-01 19:00"], "package": ["fans"], "spend": [-1.0]}, ">= 0"),
        ({"ts": ["2026-12-01 19:00"] * 2, "package": ["fans", "auto"], "spend": [True, 2.0]},
         ">= 0"),
        ({"ts": ["2026-12-01 19:00"], "package": ["fans"]}, "missing columns"),
    ],
)
def test_bad_spend_frames_are_input_errors(rows, problem):
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    with pytest.raises(InputError, match=problem):
        sim.expected(pd.DataFrame(rows), start="2026-12-01 19:00")


def test_an_s_shaped_truth_is_enveloped_for_the_planner():
    """`enveloped` puts each S-shaped paid saturation on its concave envelope and leaves the
    concave ones, the baseline and the uplift as they are."""
    truth = LiveRoomSimulator(random_scenario(2, s_shaped=True)).response()
    enveloped = truth.enveloped()
    for term, planned in zip(truth.paid, enveloped.paid, strict=True):
        assert planned.saturation == concave_envelope(term.saturation)
        if isinstance(term.saturation, Hill) and term.saturation.shape > 1:
            assert isinstance(planned.saturation, BelowData)
        else:
            assert planned.saturation is term.saturation
    assert enveloped.uplift is truth.uplift and enveloped.baseline is truth.baseline


def test_a_paid_driven_room_levers_organic_gmv_by_paid_gmv():
    """With organic_driver "paid_gmv" the uplift is the organic formula applied to the expected
    paid GMV instead of spend: closed form with one package, no carryover and a linear term."""
    default = Scenario.builtin("default")
    fans = default.packages["fans"].model_copy(update={"organic_leverage": -0.3})
    data = default.model_dump()
    data["packages"] = {"fans": fans.model_dump()}
    data["room"] |= {"organic_driver": "paid_gmv", "organic_carryover": {"half_lives": []}}
    scenario = Scenario.model_validate(data)
    sim = LiveRoomSimulator(scenario)
    spend = steady(sim, "fans", 60.0)
    expected = sim.expected(spend)
    m = sim.levels()
    np.testing.assert_allclose(expected.uplift, -0.3 * m * expected.paid_gmv[:, 0])
    response = sim.response()
    assert response.paid_driven and response.uplift[0].driver == "paid"
    np.testing.assert_allclose(response.uplift_by_package(spend)[:, 0], expected.uplift)


def test_the_stepper_follows_a_paid_driven_truth_minute_by_minute():
    response = LiveRoomSimulator(random_scenario(3, paid_driven=True)).response()
    spend = np.random.default_rng(0).uniform(0, 80, (response.minutes, len(response.packages)))
    stepper = response.stepper()
    steps = [stepper.step(row) for row in spend]
    np.testing.assert_allclose(np.array([paid for paid, _ in steps]), response.paid_gmv(spend))
    np.testing.assert_allclose([organic for _, organic in steps], response.organic_gmv(spend))
