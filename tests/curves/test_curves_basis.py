"""The time-of-session spline: rows inside history's minutes, and past them."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.curves.basis import (
    TAIL_MINUTES,
    SessionBasis,
    bspline_design,
    informed_columns,
    tie_uninformed,
)


@pytest.mark.parametrize(("horizon", "knots"), [(240, 10.0), (240, 5.0), (30, 20.0)])
def test_rows_sum_to_one_and_match_the_recursion_inside_history(horizon, knots):
    basis = SessionBasis.for_horizon(horizon, knots)
    minutes = np.arange(horizon)
    rows = basis.design(minutes)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows, bspline_design(minutes, np.asarray(basis.knots), 3))


def test_the_recursion_is_scipy_s_design_matrix_at_repeated_and_shuffled_points():
    """Rows of a history repeat a few hundred minutes, in any order: each row is still its own
    point's (evaluated once per distinct point), as scipy's `BSpline.design_matrix` gives."""
    from scipy.interpolate import BSpline

    knots = np.asarray(SessionBasis.for_horizon(240, 15.0).knots)
    rng = np.random.default_rng(3)
    x = np.r_[rng.integers(0, 240, 500), rng.uniform(0, 239.9, 50), 0.0, 0.0, 239.5]
    rng.shuffle(x)
    expected = BSpline.design_matrix(x, knots, 3).toarray()
    np.testing.assert_allclose(bspline_design(x, knots, 3), expected, atol=1e-12)


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


def test_columns_of_minutes_never_informed_are_left_out():
    """Spend only from minute 60 on (knots every 40 minutes): the first two columns rest on
    minutes 0-79, the second on 60-79 only by the tail of its support; both are left out. A
    package off a tenth of its minutes at random keeps every column."""
    basis = SessionBasis.for_horizon(240, 40.0)
    minutes = np.tile(np.arange(240), 5)
    values, means = basis.design(minutes), basis.session_means()
    np.testing.assert_array_equal(informed_columns(values, minutes >= 60, means),
                                  np.arange(2, basis.size))
    scattered = np.random.default_rng(1).random(len(minutes)) > 0.1
    np.testing.assert_array_equal(informed_columns(values, scattered, means),
                                  np.arange(basis.size))
    np.testing.assert_array_equal(
        informed_columns(values, np.zeros(len(minutes), bool), means), np.arange(basis.size))


def test_columns_past_the_end_of_shorter_sessions_are_left_out():
    """Sessions of 120 minutes on a 240-minute basis (knots every 40 minutes): the column over
    minutes 80-240 holds 8% of an even share (its first piece, minutes 80-119); it and every
    later one are left out, the one over 40-200 (98%) and the earlier ones kept."""
    basis = SessionBasis.for_horizon(240, 40.0)
    minutes = np.tile(np.arange(120), 5)
    kept = informed_columns(basis.design(minutes), np.ones(len(minutes), bool),
                            basis.session_means())
    np.testing.assert_array_equal(kept, np.arange(5))


def test_tied_columns_hold_the_nearest_and_interpolate_between():
    tie = tie_uninformed(np.array([2, 5, 6]), 9)
    coef = tie @ np.array([1.0, 4.0, 10.0])
    np.testing.assert_allclose(coef, [1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0])
    np.testing.assert_allclose(tie_uninformed(np.arange(4), 4), np.eye(4))


def test_a_session_s_design_is_the_design_of_its_minutes_built_once():
    basis = SessionBasis.for_horizon(240, 30.0)
    design = basis.session_design(300)  # past the horizon too: the tail's mean profile
    np.testing.assert_array_equal(design, basis.design(np.arange(300)))
    assert basis.session_design(300) is design  # cached: forecast draws ask for it again
    assert SessionBasis.for_horizon(240, 30.0).session_design(300) is design  # equal bases
    assert SessionBasis.for_horizon(240, 20.0).session_design(300).shape[1] != design.shape[1]
    with pytest.raises(ValueError):
        design[0, 0] = 1.0  # read-only: a caller cannot change every later session's
