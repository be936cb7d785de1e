"""Operator-like spend: piecewise-constant levels, more spend at the peak, packages off at times."""

import numpy as np
import pytest

from optimizer.sim import LiveRoomSimulator, Scenario

SESSIONS = 60


def sessions(name, seed=0):
    sim = LiveRoomSimulator(Scenario.builtin(name))
    rng = np.random.default_rng(seed)
    return sim, np.stack([sim.operator_spend(rng) for _ in range(SESSIONS)])


@pytest.mark.parametrize("name", ["default", "long"])
def test_spend_is_yuan_with_two_decimals(name):
    sim, spend = sessions(name)
    assert spend.shape == (SESSIONS, sim.scenario.session.minutes, len(sim.packages))
    assert np.all(spend >= 0)
    assert np.array_equal(spend, np.round(spend, 2))


@pytest.mark.parametrize("name", ["default", "strong_confounding"])
def test_operators_spend_more_at_the_peak(name):
    sim, spend = sessions(name)
    profile = sim.scenario.profile
    warmup = spend[:, : profile.warmup_minutes // 3].mean()
    peak = spend[:, profile.warmup_minutes : profile.peak_end].mean()
    assert peak > 1.5 * warmup


def test_confounding_follows_the_profile_power():
    """Mean spend against log m(τ): the slope estimates the confounding exponent."""
    sim, spend = sessions("strong_confounding")
    m = sim.levels()
    slope = np.polyfit(np.log(m), np.log(spend.mean(axis=(0, 2))), 1)[0]
    assert slope == pytest.approx(sim.scenario.operator.confounding, abs=0.3)


def test_packages_are_sometimes_off_and_levels_hold():
    sim, spend = sessions("default")
    operator = sim.scenario.operator
    off = spend == 0
    assert 0.02 < off.mean() < 0.5
    assert off.any(axis=(0, 1)).all()  # every package goes off in some session
    on = ~off[:, 1:] & ~off[:, :-1]
    jumps = np.abs(np.log(spend[:, 1:][on] / spend[:, :-1][on]))
    # within a level only the per-minute noise moves spend; levels change every 3-15 minutes
    assert np.mean(jumps < 5 * operator.spend_noise) > 0.75
