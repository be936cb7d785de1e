"""Operator-like historical spend: piecewise-constant levels, confounded with the traffic peak."""

from __future__ import annotations

import numpy as np

from optimizer.sim.scenario import OperatorSpec


def operator_spend(
    rng: np.random.Generator, operator: OperatorSpec, levels: np.ndarray, typical: np.ndarray
) -> np.ndarray:
    """One session's spend, shape (T, P), yuan per minute >= 0 with 2 decimals.

    levels: (T,) traffic profile m(τ); typical: (P,) each package's typical spend (yuan/min).
    See `OperatorSpec` for the rules.
    """
    return np.column_stack([_package_spend(rng, operator, levels, t) for t in typical])


def _package_spend(
    rng: np.random.Generator, op: OperatorSpec, levels: np.ndarray, typical: float
) -> np.ndarray:
    """(T,) spend of one package: a run of on/off segments cut at the session's end."""
    minutes = len(levels)
    count = minutes // min(op.change_min, op.off_min) + 1  # enough segments to pass the end
    off = rng.random(count) < op.off_probability
    length = np.where(
        off,
        rng.integers(op.off_min, op.off_max, count, endpoint=True),
        rng.integers(op.change_min, op.change_max, count, endpoint=True),
    )
    start = np.minimum(np.cumsum(length) - length, minutes - 1)
    level = typical * levels[start] ** op.confounding * rng.lognormal(0.0, op.level_sigma, count)
    per_minute = np.repeat(np.where(off, 0.0, level), length)[:minutes]
    return np.round(per_minute * rng.lognormal(0.0, op.spend_noise, minutes), 2)
