"""How far past the spend history saw a package's fitted curve still pays, under its uncertainty.

Past the spend history saw (`PackageCurve.seen_spend`) a curve is extrapolation: a wrong family
promises GMV that is not there, so plans keep within that reach. But the best plan sometimes
lies well past it. A curve's draws (parameters and family, `PackageCurve.sample`) widen past
the data, and a lower bound of them says what the data still back there: where the lower
quartile of the marginal ROI (`REACH_CONFIDENCE`) beats what the budget earns elsewhere,
spending more pays in three draws of four.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.curves.model import ResponseModel
from optimizer.curves.report import marginal_roi, paid_draws

REACH_MULTIPLES = (1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
"""Multiples of the spend history saw that a package's reach may be raised to."""

REACH_CONFIDENCE = 0.75
"""The bound is the lower quartile of the draws. Over 60 random truths the fit does not assume
(benchmarks/bench_random_truths.py, truths 1-60), against the 5% quantile first used, plans
lost 1.8% instead of 2.1% of the oracle's GMV on average, 5.2% instead of 8.9% at worst, and
were within 3% of it in 49 truths instead of 44; no plan lost more than 0.6 points by it, nor
broke its floor. The median did as well, but bets more on draws far from the data."""


def trusted_multiples(model: ResponseModel, packages: Sequence[str], reach: np.ndarray,
                      minutes: int, threshold: float,
                      confidence: float = REACH_CONFIDENCE,
                      n_draws: int = 200, seed: int = 0,
                      pressed: np.ndarray | None = None) -> np.ndarray:
    """(P,) per package of `packages`, the largest of `REACH_MULTIPLES` such that at that
    multiple of its `reach` (P,) yuan/min, and at every smaller one, the lower bound of the
    marginal ROI is at least `threshold` (yuan of GMV per yuan); 1 where none is.

    The marginal ROI is paid GMV per extra paid yuan of a steady spend over a session of
    `minutes` at average traffic (`marginal_roi`), its lower bound the `1 - confidence`
    quantile over `n_draws` draws (`paid_draws`, `seed`); a negative organic leverage is
    counted against it (a positive one is not counted for it, `_net`). Packages without a fit,
    without a finite reach or whose half-saturation the data do not identify (`identified`)
    get 1, and so does, without drawing, a package whose estimate does not pay at the first
    multiple.

    pressed: (T, P) booleans, the minutes where the plan presses each package's reach; the
    marginal ROI is then the mean over those minutes (None, or a package pressing in none: over
    every minute). Extra spend past the reach goes where the plan presses it.
    """
    leverage = model.organic_.leverage()
    out = np.ones(len(packages))
    for j, package in enumerate(packages):
        if package not in model.paid_ or not np.isfinite(reach[j]) or \
                not model.paid_[package].identified:
            continue
        levels = reach[j] * np.asarray(REACH_MULTIPLES)
        lever = min(leverage.get(package, 0.0), 0.0)
        estimate = model.paid_[package].term(minutes, np.ones(1))
        driver = model.organic_.driver
        where = None if pressed is None else np.asarray(pressed, dtype=bool)[:, j]
        if _net(marginal_roi(estimate, levels[0], where), lever, driver) < threshold:
            continue  # the estimate does not pay at the first multiple: no need to draw
        rois = np.array([marginal_roi(term, levels, where)
                         for term in paid_draws(model, package, minutes, n_draws, seed)])
        bound = _net(np.quantile(rois, 1.0 - confidence, axis=0), lever, driver)
        pays = np.cumprod(bound >= threshold).astype(bool)
        if pays.any():
            out[j] = REACH_MULTIPLES[int(np.flatnonzero(pays)[-1])]
    return out


def _net(roi: np.ndarray, lever: float, driver: str) -> np.ndarray:
    """GMV per extra yuan: paid `roi` plus the organic GMV a leverage `lever` (<= 0) takes,
    per yuan (driver "spend") or per yuan of paid GMV (driver "paid")."""
    return roi * (1.0 + lever) if driver == "paid" else roi + lever
