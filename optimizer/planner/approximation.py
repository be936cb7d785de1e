"""Piecewise-linear inner approximation of one concave saturation, and its exact cell problem.

The program replaces each saturation ``S`` on its reachable index range ``[lo, hi]`` by the
chords between breakpoints (an inner approximation: never above ``S``), so every floor the
program meets also holds under the exact model. Where the chords are too coarse is told by the
exact *cell problem* ``max_z v S(z) - pi z``, with the program's prices ``v`` (value of the
saturation) and ``pi`` (cost of index): its maximiser is where a new breakpoint helps most, and
its value bounds the exact optimum from above (a Lagrangian bound).
"""

from __future__ import annotations

import numpy as np

from optimizer.curves.transforms import Exponential, Hill, Linear, Logarithmic, Saturation

_BISECTIONS = 50
_NEWTON_STEPS = 60
_INITIAL_PIECES = 4
_FIRST_RANGE = 16.0


def initial_top(saturation: Saturation, hint: float, lo: float, hi: float) -> float:
    """Highest index (yuan/min) the chords first cover: the rest of ``[lo, hi]`` is added when
    a cell problem finds the optimum there.

    16 x the saturation's scale k (past it S has all but flattened), or 16 x the hint (the
    index of an even split of the budget) for a saturation without one, from ``max(lo, 0)``, at
    most hi. A budget-wide range (1e8 yuan/min for 50 uncapped packages) made the program so
    badly scaled that the solvers failed.
    """
    scale = getattr(saturation, "k", hint)
    return hi if scale <= 0 else min(hi, max(lo, 0.0) + _FIRST_RANGE * scale)


def initial_breakpoints(saturation: Saturation, lo: float, hi: float, hints=()) -> np.ndarray:
    """Sorted breakpoints on ``[lo, hi]`` (index units, yuan/min), both ends and 0 included.

    On each side of 0 (zero spend's index, which must be exact) points split the rise of
    ``S`` into equal parts (dense where S is steep), plus `hints`: indices where the optimum
    is expected (e.g. the spend level an even split of the budget would give).
    """
    if isinstance(saturation, Linear) or hi <= lo:
        return np.array([lo, hi]) if hi > lo else np.array([lo])
    sides = [(a, b) for a, b in ((lo, min(hi, 0.0)), (max(lo, 0.0), hi)) if b > a]
    points = [np.array([lo, hi, min(max(0.0, lo), hi)])]
    for a, b in sides:
        rises = np.linspace(saturation(a), saturation(b), _INITIAL_PIECES + 1)[1:-1]
        points.append(_inverse(saturation, rises, a, b))
    hints = np.asarray(hints, dtype=float)
    points.append(hints[(hints > lo) & (hints < hi)])
    return _distinct(np.concatenate(points), hi - lo)


def best_index(saturation: Saturation, v, pi, lo, hi) -> np.ndarray:
    """Maximiser of ``v S(z) - pi z`` over ``[lo, hi]``, elementwise (any shapes that broadcast).

    Where v > 0 it is where ``S'(z) = pi / v`` (closed form for the exponential and log
    families, Newton's method for Hill, bisection otherwise), clipped to the range; where
    v <= 0, the best of the ends and 0 (where a saturation flat below 0 bends).
    """
    v, pi, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (v, pi, lo, hi)))
    ends = np.where(v * saturation(hi) - pi * hi >= v * saturation(lo) - pi * lo, hi, lo)
    zero = np.clip(0.0, lo, hi)
    ends = np.where(v * saturation(zero) - pi * zero > v * saturation(ends) - pi * ends, zero,
                    ends)
    if isinstance(saturation, Linear):
        return ends
    positive = v > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # a value per unit of index near 0 (a denormal v) sets the slope at inf: no z reaches it
        slope = np.where(positive, pi / np.where(positive, v, 1.0), np.inf)
        if isinstance(saturation, Exponential):
            z = -saturation.k * np.log(np.maximum(saturation.k * slope, 1e-300))
        elif isinstance(saturation, Logarithmic):
            z = 1.0 / slope - saturation.k
        elif isinstance(saturation, Hill):
            z = _hill_argslope(saturation, slope, lo, hi)
        else:
            z = _bisect(lambda m: saturation.derivative(m) > slope, lo, hi)
    return np.where(positive, np.clip(np.nan_to_num(z, nan=lo), lo, hi), ends)


def cell_value(saturation: Saturation, v, pi, lo, z) -> np.ndarray:
    """``v (S(z) - S(lo)) - pi (z - lo)``: the cell problem's value at z, from the range start."""
    return v * (saturation(z) - saturation(lo)) - pi * (z - lo)


def _hill_argslope(hill: Hill, slope: np.ndarray, lo: np.ndarray, hi: np.ndarray
                   ) -> np.ndarray:
    """Maximiser in [lo, hi] of ``S(z) - slope z`` for a Hill S, elementwise: where
    ``S'(z) = slope``; hi where the slope is <= 0 or S' stays above it; lo where S' is below it
    from the range's start (S is flat below 0, so a negative lo is then the best).

    In x = log z, ``g(x) = log S'(e^x) = log s + s (x - log k) - x - 2 log(1 + (e^x / k)^s)``
    is concave and decreasing (s <= 1), so Newton's steps on ``g(x) = log slope`` land right of
    the root after the first and then fall to it monotonically (quadratically near it).
    Replaces 50 bisections of the slope, which cost most of a re-plan's certificate.
    """
    s, log_k = hill.shape, np.log(hill.k)
    rising = slope > 0
    target = np.log(np.where(rising, slope, 1.0))

    def log_slope(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = s * (x - log_k)
        return np.log(s) + y - x - 2.0 * np.logaddexp(0.0, y), s - 1.0 - 2.0 * s * _logistic(y)

    low = np.log(np.maximum(lo, 1e-12 * hill.k))
    high = np.log(np.maximum(hi, 1e-12 * hill.k))
    x = np.clip(np.full(np.shape(slope), log_k), low, high)
    for _ in range(_NEWTON_STEPS):
        g, dg = log_slope(x)
        step = (g - target) / dg
        x = np.clip(x - step, low, high)
        if np.all(np.abs(step) <= 1e-12 * (1.0 + np.abs(x))):
            break
    below = (hi <= 0) | (log_slope(low)[0] <= target)  # S' < slope on the whole range
    z = np.where(below, lo, np.exp(x))
    # S is 0 below 0: from a negative lo, -slope z falls all the way to 0, and the root's
    # S(z) - slope z may not make up for it (the clipped curve is not concave there)
    start_wins = (lo < 0) & (-slope * lo > hill(z) - slope * z)
    return np.where(rising, np.where(start_wins, lo, z), hi)


def _logistic(y: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * y))


def _inverse(saturation: Saturation, values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return _bisect(
        lambda m: saturation(m) < values, np.full(len(values), lo), np.full(len(values), hi)
    )


def _bisect(goes_right, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Point where the monotone predicate `goes_right` turns false, elementwise."""
    a, b = np.array(lo, dtype=float), np.array(hi, dtype=float)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (a + b)
        right = goes_right(mid)
        a = np.where(right, mid, a)
        b = np.where(right, b, mid)
    return 0.5 * (a + b)


def _distinct(points: np.ndarray, span: float) -> np.ndarray:
    points = np.unique(points)
    keep = np.r_[True, np.diff(points) > 1e-6 * span]
    out = points[keep]
    out[-1] = points[-1]
    return out
