"""Noisy draws: unbiased around the truth with the variance the order model implies.

Per cell with expected GMV g, order value mean aov and gamma shape s, orders n have mean
μ = g / aov and GMV given n ~ Gamma(n s, aov / s), so Var[GMV] = E[n] aov² / s + Var[n] aov²,
with Var[n] = μ (Poisson) or μ + μ² / r (negative binomial of size r). Session totals sum
independent cells; the mean of N sessions has standard error sqrt(Var / N).
"""

import numpy as np
import pytest

from optimizer.sim import LiveRoomSimulator, Scenario

DRAWS = 1000


def cell_variance(g, aov, shape, dispersion):
    mu = g / aov
    count_variance = mu if dispersion is None else mu + mu**2 / dispersion
    return mu * aov**2 / shape + count_variance * aov**2


@pytest.mark.parametrize("name", ["default", "offmodel"])  # Poisson and negative binomial
def test_draws_agree_with_expected_and_the_implied_variance(name):
    sim = LiveRoomSimulator(Scenario.builtin(name))
    room = sim.scenario.room
    spend = sim.operator_spend(np.random.default_rng(11))
    expected = sim.expected(spend)
    rng = np.random.default_rng(12)
    paid, organic = [], []
    for _ in range(DRAWS):
        realised = sim.sample(spend, rng)
        paid.append(realised.paid_gmv.sum(axis=0))
        organic.append(realised.organic_gmv.sum())
    aov = np.array([p.aov for p in sim.scenario.packages.values()])
    shape, dispersion = room.order_value_shape, room.dispersion
    cases = [
        (
            np.array(paid),
            expected.paid_gmv.sum(axis=0),
            cell_variance(expected.paid_gmv, aov, shape, dispersion).sum(axis=0),
        ),
        (
            np.array(organic),
            expected.organic_gmv.sum(),
            cell_variance(expected.organic_gmv, room.aov, shape, dispersion).sum(),
        ),
    ]
    for totals, mean, variance in cases:
        assert np.all(np.abs(totals.mean(axis=0) - mean) < 5 * np.sqrt(variance / DRAWS))
        # sample variance of ~normal totals: relative standard error sqrt(2 / (N - 1)) ~ 7 %
        assert np.all(np.abs(totals.var(axis=0, ddof=1) / variance - 1) < 5 * np.sqrt(2 / DRAWS))


def test_no_spend_draws_no_paid_orders():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    realised = sim.sample(np.zeros((240, 6)), np.random.default_rng(0))
    assert np.all(realised.paid_gmv == 0) and np.all(realised.paid_orders == 0)
    assert np.all(realised.impressions == 0) and np.all(realised.clicks == 0)
    assert realised.organic_gmv.sum() > 0


def test_counts_are_consistent():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    rng = np.random.default_rng(1)
    realised = sim.sample(sim.operator_spend(rng), rng)
    assert np.all(realised.clicks >= realised.paid_orders)
    assert np.all((realised.paid_orders == 0) == (realised.paid_gmv == 0))
    assert np.all((realised.organic_orders == 0) == (realised.organic_gmv == 0))
    assert np.all(realised.online_viewers >= 0) and realised.online_viewers.max() > 0


def test_day_factors_have_mean_one():
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    rng = np.random.default_rng(2)
    draws = [sim.draw_factors(rng) for _ in range(4000)]
    day = np.array([d for d, _ in draws])
    packages = np.array([list(p.values()) for _, p in draws])
    sigmas = np.array(
        [sim.scenario.room.day_sigma] + [p.day_sigma for p in sim.scenario.packages.values()]
    )
    factors = np.column_stack([day, packages])
    standard_error = np.sqrt(np.expm1(sigmas**2) / len(draws))  # sd of a mean-1 lognormal
    assert np.all(np.abs(factors.mean(axis=0) - 1) < 5 * standard_error)
    assert np.allclose(factors.std(axis=0), np.sqrt(np.expm1(sigmas**2)), rtol=0.1)
