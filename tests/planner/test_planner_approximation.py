"""The exact cell problem ``max_z v S(z) - pi z`` that certifies plans and places breakpoints."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from optimizer.curves.transforms import Exponential, Hill
from optimizer.planner.approximation import best_index, cell_value

GRID = 200_001  # points of the brute-force search


def _grid_best(saturation, v: float, pi: float, lo: float, hi: float) -> float:
    """The cell problem's best value on a dense grid: an independent lower bound of the max."""
    z = np.linspace(lo, hi, GRID)
    return float(np.max(v * saturation(z) - pi * z))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    k=st.floats(1.0, 500.0),
    shape=st.floats(0.2, 1.0),
    v=st.floats(-2.0, 5.0),
    price=st.floats(-1.0, 3.0),
    lo=st.sampled_from([0.0, -50.0]),
    span=st.floats(1.0, 5000.0),
)
@example(k=1.0, shape=1.0, v=-1.0, price=-0.25, lo=-50.0, span=51.0)  # best at 0, not an end
def test_hill_maximiser_is_at_least_as_good_as_a_dense_grid(k, shape, v, price, lo, span):
    # pi from a slope the curve has somewhere in range (price x S'(k)), so the optimum is
    # interior for most draws; negative prices and values test the ends
    hill = Hill(k=k, shape=shape)
    pi = price * float(hill.derivative(k))
    hi = lo + span
    z = best_index(hill, v, pi, lo, hi)
    assert lo <= z <= hi
    found = float(v * hill(z) - pi * z)
    scale = abs(v) + abs(pi) * span  # value units: the grid's step error is far below 1e-6 of it
    assert found >= _grid_best(hill, v, pi, lo, hi) - 1e-6 * scale


def test_hill_maximiser_meets_the_first_order_condition():
    hill = Hill(k=150.0, shape=0.8)
    rng = np.random.default_rng(3)
    z_true = rng.uniform(1.0, 3000.0, 500)
    v = rng.uniform(0.5, 2.0, 500)
    pi = v * hill.derivative(z_true)  # S'(z_true) = pi / v: z_true is the maximiser
    z = best_index(hill, v, pi, np.zeros(500), np.full(500, 5000.0))
    np.testing.assert_allclose(z, z_true, rtol=1e-9)


def test_ends_when_the_slope_never_matches():
    hill = Hill(k=10.0, shape=1.0)  # S'(0) = 1 / k = 0.1 is the steepest slope
    lo, hi = np.array([0.0, -20.0, 0.0]), np.array([100.0, 100.0, 100.0])
    # slope 0.5 > S'(0): nothing to gain, the range's start (S is flat below 0, so -20 there);
    # price 0: the more the better, the top
    z = best_index(hill, np.ones(3), np.array([0.5, 0.5, 0.0]), lo, hi)
    np.testing.assert_array_equal(z, [0.0, -20.0, 100.0])


def test_exponential_closed_form():
    exponential = Exponential(k=80.0)
    z = best_index(exponential, 2.0, 2.0 * float(exponential.derivative(37.0)), -100.0, 1000.0)
    assert z == np.float64(37.0) or abs(z - 37.0) < 1e-9
    assert cell_value(exponential, 2.0, 0.0, 0.0, z) == 2.0 * exponential(z)
