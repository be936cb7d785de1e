"""Held-out error and the noise floor it is judged against.

WAPE (``sum|y - yhat| / sum y``) of minute paid GMV on held-out sessions cannot go to zero:
GMV in a minute is a handful of orders. The noise floor is the WAPE a perfect model of the
average day would still show on those minutes, and since only a few sessions are held out it is
a distribution, not a number: `NoiseFloor` gives its mean and 90% band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR_DRAWS = 200
"""Simulated minute sets behind a noise floor (a fixed seed makes it exact)."""

FLOOR_BAND = (0.05, 0.95)
"""Quantiles of the simulated WAPEs that bound the floor's band."""


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error ``sum|y - yhat| / sum y`` (a fraction)."""
    total = float(np.sum(actual))
    return float(np.sum(np.abs(actual - predicted)) / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class NoiseFloor:
    """The WAPE a perfect model of the average day would show on some minutes (fractions):
    `mean` over simulated minute sets, and the `low` and `high` ends of their 90% band."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, actual: np.ndarray, mean: np.ndarray, session: np.ndarray, dispersion: float,
           day_sigma: float, seed: int = 0, draws: int = FLOOR_DRAWS) -> NoiseFloor:
        """Simulate the minutes `draws` times around `mean` and score each set against it.

        actual, mean: observed and expected GMV (n,), yuan per minute, the expectation at the
            average day; session: (n,) which session each minute belongs to.
        dispersion: the fit's Pearson dispersion (yuan: variance / mean).
        day_sigma: spread of the log day effect of a session (the sample SD of the fit's day
            effects); each session's minutes share one draw ``exp(N(-σ²/2, σ²))``.

        GMV in a minute is a sum of orders: n ~ Poisson(f m / a) orders of Gamma(s, a / s) yuan
        for a day factor f. The average order value a (yuan) comes from the share of `actual`
        minutes with no GMV (``P(0) = exp(-m / a)``, day factors left out), the order-value
        shape s from the dispersion ``a (1 + 1 / s)``.
        """
        mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
        live = mean > 0
        zeros = float(np.mean(np.asarray(actual)[live] == 0)) if live.any() else 0.0
        aov = _order_value(mean[live], zeros, dispersion)
        shape = aov / (dispersion - aov) if dispersion > aov * 1.01 else 100.0
        rng = np.random.default_rng(seed)
        _, index = np.unique(session, return_inverse=True)
        days = np.exp(rng.normal(-0.5 * day_sigma**2, day_sigma, (draws, index.max() + 1)))
        orders = rng.poisson(days[:, index] * mean / aov)
        gmv = rng.gamma(orders * shape, aov / shape)
        total = gmv.sum(axis=1)
        scores = np.abs(gmv - mean).sum(axis=1) / np.where(total > 0, total, np.nan)
        low, high = np.nanquantile(scores, FLOOR_BAND)
        return cls(float(np.nanmean(scores)), float(low), float(high))


def _order_value(mean: np.ndarray, zero_share: float, dispersion: float) -> float:
    """Average order value a (yuan) with ``mean(exp(-mean / a)) = zero_share``; bisection on
    log a. Without zeros to go by, a is the dispersion (every order the same value)."""
    if not 0 < zero_share < 1 or len(mean) == 0:
        return max(dispersion, 1e-9)
    low, high = np.log(1e-6), np.log(max(float(mean.max()), 1.0) * 1e6)
    for _ in range(60):
        middle = (low + high) / 2
        if np.mean(np.exp(-mean / np.exp(middle))) < zero_share:
            low = middle
        else:
            high = middle
    return float(np.exp((low + high) / 2))
