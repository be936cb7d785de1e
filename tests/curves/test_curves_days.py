"""The day a new session is like: `DayDistribution`, the predictive t of the curves' day effects."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from optimizer.curves.days import DayDistribution

N_SESSIONS = 21


def _history(seed: int = 0, n: int = N_SESSIONS) -> dict[str, np.ndarray]:
    """Log day effects of three curves over `n` sessions, correlated (a room's good day)."""
    rng = np.random.default_rng(seed)
    cov = np.array([[0.04, 0.03, 0.01], [0.03, 0.09, 0.0], [0.01, 0.0, 0.01]])
    effects = rng.multivariate_normal([-0.02, -0.05, -0.01], cov, size=n)
    return dict(zip(("organic", "fans", "auto"), effects.T, strict=True))


def _by_session(effects: dict[str, np.ndarray]) -> dict[str, dict[int, float]]:
    """`DayDistribution.fit`'s input: each curve's effects by session, NaN left out."""
    return {name: {i: float(v) for i, v in enumerate(e) if not np.isnan(v)}
            for name, e in effects.items()}


def test_draws_have_the_history_mean_and_the_t_predictive_covariance():
    """Mean: the history's. Covariance: the sample covariance times (1 + 1/n), the predictive
    inflation for an estimated mean, times df / (df - 2), a t's over its scale (df = n - 1).
    Tolerances: 5 standard errors of 400,000 draws (a t with 20 df has a finite fourth
    moment, so the sample covariance's standard error is of order scale / sqrt(draws))."""
    history = _history()
    days = DayDistribution().fit(_by_session(history))
    drawn = days.sample(np.random.default_rng(1), 400_000)
    sample = np.array([drawn[name] for name in days.names_])
    effects = np.array(list(history.values()))
    df = N_SESSIONS - 1
    expected = np.cov(effects) * (1 + 1 / N_SESSIONS) * df / (df - 2)
    assert days.df_ == df and days.names_ == ("organic", "fans", "auto")
    spread = np.sqrt(np.diag(expected))
    np.testing.assert_allclose(sample.mean(axis=1), effects.mean(axis=1),
                               atol=5 * spread.max() / np.sqrt(400_000))
    np.testing.assert_allclose(np.cov(sample), expected, atol=5 * 3 * spread.max() ** 2
                               / np.sqrt(400_000))


def test_each_curve_is_drawn_from_its_own_univariate_predictive_t():
    """The 5% and 95% quantiles of each curve's draws: mean -+ s sqrt(1 + 1/n) t_{n-1, 0.95},
    within the quantiles' sampling error (5 standard errors of 200,000 draws)."""
    history = _history(seed=2)
    drawn = DayDistribution().fit(_by_session(history)).sample(np.random.default_rng(3), 200_000)
    for name, effects in history.items():
        half = effects.std(ddof=1) * np.sqrt(1 + 1 / N_SESSIONS) * \
            stats.t.ppf(0.95, N_SESSIONS - 1)
        density = stats.t.pdf(stats.t.ppf(0.95, N_SESSIONS - 1), N_SESSIONS - 1) / half * \
            stats.t.ppf(0.95, N_SESSIONS - 1)
        tolerance = 5 * np.sqrt(0.05 * 0.95 / 200_000) / density
        np.testing.assert_allclose(np.quantile(drawn[name], [0.05, 0.95]),
                                   effects.mean() + np.array([-half, half]), atol=tolerance)


def test_a_new_day_falls_in_the_90_percent_predictive_interval_nine_times_in_ten():
    """Where the day effects are normal, the t predictive interval is exact: over 2,000
    histories of 21 days, a new day within each history's 90% interval (from 400 draws) is a
    binomial count. The tolerance is 4 binomial standard errors (0.027), plus the 400 draws'
    quantile noise (about 0.008 of coverage)."""
    rng = np.random.default_rng(4)
    trials, covered = 2000, []
    for _ in range(trials):
        effects = rng.normal(0.0, 0.2, size=N_SESSIONS + 1)
        days = DayDistribution().fit(_by_session({"room": effects[:-1]}))
        low, high = np.quantile(days.sample(rng, 400)["room"], [0.05, 0.95])
        covered.append(low <= effects[-1] <= high)
    assert np.mean(covered) == pytest.approx(0.9, abs=4 * np.sqrt(0.09 / trials) + 0.008)


def test_curves_move_together_as_their_history_did():
    """Two curves whose day effects are the same history draw the same day."""
    history = _history()
    days = DayDistribution().fit(_by_session({"organic": history["fans"],
                                              "fans": history["fans"]}))
    drawn = days.sample(np.random.default_rng(5), 1000)
    np.testing.assert_allclose(drawn["organic"], drawn["fans"], atol=1e-9)


def test_a_package_that_spent_on_some_days_has_the_spread_of_those_days():
    """A package off on even days (NaN effects there): its mean and spread are its odd days';
    one with a single day has no spread of its own: it gets the others' median variance,
    independent of them."""
    history = _history()
    fans = history["fans"].copy()
    fans[::2] = np.nan
    once = np.full(N_SESSIONS, np.nan)
    once[3] = 0.0
    days = DayDistribution().fit(_by_session({"organic": history["organic"], "fans": fans,
                                               "once": once}))
    seen = fans[~np.isnan(fans)]
    assert days.location_[1] == pytest.approx(seen.mean())
    assert days.scale_[1, 1] == pytest.approx(seen.var(ddof=1) * (1 + 1 / len(seen)), rel=1e-6)
    assert days.scale_[0, 0] == pytest.approx(history["organic"].var(ddof=1)
                                              * (1 + 1 / N_SESSIONS), rel=1e-6)
    pooled = np.median([days.scale_[0, 0] / (1 + 1 / N_SESSIONS),
                        days.scale_[1, 1] / (1 + 1 / len(seen))])
    assert days.scale_[2, 2] == pytest.approx(pooled * 2.0, rel=1e-6)  # inflation 1 + 1/1
    assert days.scale_[2, :2] == pytest.approx([0.0, 0.0], abs=1e-12)
    drawn = days.sample(np.random.default_rng(6), 4000)["once"]
    assert drawn.mean() == pytest.approx(days.location_[2], abs=0.02)
    assert drawn.std() > 0.5 * np.sqrt(pooled)
    assert np.all(np.linalg.eigvalsh(days.scale_) >= -1e-12)
