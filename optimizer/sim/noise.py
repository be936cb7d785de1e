"""Random draws of the simulator: orders and their value, day factors.

GMV in a cell (a package-minute, or the room's organic minute) with expected value g yuan is a
compound draw: n orders ~ Poisson(g / aov) (or negative binomial with the same mean), and their
total value given n ~ Gamma(n · shape, aov / shape), 0 when n = 0. So E[GMV] = g exactly and,
for Poisson counts, Var[GMV] = (g / aov) · aov² · (1 + 1 / shape).
"""

from __future__ import annotations

import numpy as np


def draw_orders(
    rng: np.random.Generator,
    expected_gmv: np.ndarray,
    aov: float | np.ndarray,
    shape: float,
    dispersion: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Realised (GMV in yuan, order count) per cell, each with the shape of `expected_gmv`.

    aov: yuan per order, broadcast against `expected_gmv` (e.g. (P,) for a (T, P) array).
    dispersion: None for Poisson counts, else the negative-binomial size r
        (Var[n] = μ + μ² / r).
    """
    mean_orders = np.asarray(expected_gmv, dtype=float) / aov
    if dispersion is None:
        orders = rng.poisson(mean_orders)
    else:
        orders = rng.negative_binomial(dispersion, dispersion / (dispersion + mean_orders))
    gmv = rng.gamma(orders * shape, np.asarray(aov, dtype=float) / shape)
    return gmv, orders


def mean_one_lognormal(rng: np.random.Generator, sigma: float | np.ndarray) -> np.ndarray:
    """Multiplicative factors ``exp(N(-σ²/2, σ²))``, mean exactly 1; shape of `sigma`."""
    sigma = np.asarray(sigma, dtype=float)
    return np.exp(rng.normal(-0.5 * sigma**2, sigma))
