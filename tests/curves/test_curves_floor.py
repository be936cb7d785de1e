"""The noise floor of held-out WAPE, against a closed form and against its own coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from optimizer.curves.floor import NoiseFloor, wape


def test_wape_is_absolute_error_over_the_actual_total():
    assert wape(np.array([10.0, 0.0, 30.0]), np.array([12.0, 5.0, 20.0])) == pytest.approx(
        17.0 / 40.0)
    assert np.isnan(wape(np.zeros(3), np.ones(3)))


def _expected_absolute_error(mean: float, aov: float, shape: float) -> float:
    """E|Y - mean| for Y a sum of Poisson(mean / aov) orders of Gamma(shape, aov / shape) yuan:
    over order counts n, ``E|G - m| = E G - m + 2 E(m - G)+`` with
    ``E(m - G)+ = m F(m; ns) - ns θ F(m; ns + 1)`` for G ~ Gamma(ns, θ)."""
    theta = aov / shape
    n = np.arange(1, 200)
    k = n * shape
    below = mean * stats.gamma.cdf(mean, k, scale=theta) - k * theta * stats.gamma.cdf(
        mean, k + 1, scale=theta)
    counts = stats.poisson.pmf(n, mean / aov)
    return float(stats.poisson.pmf(0, mean / aov) * mean
                 + np.sum(counts * (k * theta - mean + 2.0 * below)))


@pytest.mark.parametrize(("mean", "aov", "shape"), [(50.0, 80.0, 2.0), (300.0, 60.0, 5.0)])
def test_without_day_spread_the_floor_is_the_closed_form(mean, aov, shape):
    """Minutes of one expected GMV whose zero share is exactly ``exp(-mean / aov)``, at the
    dispersion ``aov (1 + 1 / shape)``: the floor is ``E|Y - mean| / mean`` up to the
    simulation's error (its SD over 200 draws of 3,000 minutes is under 0.1 point)."""
    minutes = 3000
    zeros = round(np.exp(-mean / aov) * minutes)
    actual = np.where(np.arange(minutes) < zeros, 0.0, mean)
    floor = NoiseFloor.of(actual, np.full(minutes, mean), np.zeros(minutes, int),
                          aov * (1.0 + 1.0 / shape), day_sigma=0.0)
    exact = _expected_absolute_error(mean, aov, shape) / mean
    assert floor.mean == pytest.approx(exact, abs=0.005)
    assert floor.low < floor.mean < floor.high


def test_the_band_holds_a_perfect_models_wape_at_least_nine_times_in_ten():
    """200 held-out samples of 4 sessions x 240 minutes with day effects (σ 0.1) drawn like
    the simulator's: the true mean's WAPE falls inside its 90% band in 170-198 of them (fewer
    with probability 1% if the band held exactly 90%). It holds about 95%, more than 90%: the
    order value comes from each sample's share of empty minutes, and a sample with few orders
    has both more empty minutes and a higher WAPE, so the band moves with the WAPE."""
    rng = np.random.default_rng(7)
    aov, shape, sigma = 80.0, 2.0, 0.1
    session = np.repeat(np.arange(4), 240)
    mean = 40.0 * (1.0 + np.sin(np.arange(len(session)) / 30.0) ** 2)
    inside = 0
    for seed in range(200):
        days = np.exp(rng.normal(-0.5 * sigma**2, sigma, 4))[session]
        actual = rng.gamma(rng.poisson(days * mean / aov) * shape, aov / shape)
        floor = NoiseFloor.of(actual, mean, session, aov * (1.0 + 1.0 / shape), sigma,
                              seed=seed)
        inside += floor.low <= wape(actual, mean) <= floor.high
    assert 170 <= inside <= 198
