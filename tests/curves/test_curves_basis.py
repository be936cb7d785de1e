"""The time-of-session spline: rows inside history's minutes, and past them."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.curves.basis import TAIL_MINUTES, SessionBasis, bspline_design


@pytest.mark.parametrize(("horizon", "knots"), [(240, 10.0), (240, 5.0), (30, 20.0)])
def test_rows_sum_to_one_and_match_the_recursion_inside_history(horizon, knots):
    basis = SessionBasis.for_horizon(horizon, knots)
    minutes = np.arange(horizon)
    rows = basis.design(minutes)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows, bspline_design(minutes, np.asarray(basis.knots), 3))


@pytest.mark.parametrize(("horizon", "knots"), [(240, 10.0), (240, 5.0), (10, 20.0)])
def test_minutes_past_history_keep_the_mean_of_its_last_minutes(horizon, knots):
    """A longer session holds the mean profile of history's last TAIL_MINUTES minutes (all of
    them when sessions are shorter): not the spline's end, which no minute of data reaches."""
    basis = SessionBasis.for_horizon(horizon, knots)
    tail = basis.design(np.arange(max(horizon - TAIL_MINUTES, 0), horizon)).mean(axis=0)
    past = basis.design(np.array([horizon, horizon + 1, 3 * horizon]))
    np.testing.assert_allclose(past, np.tile(tail, (3, 1)))
    coef = np.random.default_rng(0).normal(size=basis.size)
    assert past[0] @ coef == pytest.approx(np.mean(basis.design(
        np.arange(max(horizon - TAIL_MINUTES, 0), horizon)) @ coef))
