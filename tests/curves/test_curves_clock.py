"""The clock-of-day spline: partition of unity less its dropped column, the day cut where history
has least coverage, the edge hold, and the map that leaves day effects with no start trend."""

import numpy as np
import pytest

from optimizer.curves.basis import TAIL_MINUTES, SessionBasis, day_dummies
from optimizer.curves.clock import (
    ClockBasis,
    clock_minutes,
    greville_abscissae,
    least_covered,
    start_slope_map,
    start_span,
)


def _history(starts: list[int], lengths: list[int]) -> tuple[np.ndarray, ...]:
    """Rows (minute of day, session, minute of session) of sessions starting at `starts`
    (minutes of day) lasting `lengths` minutes."""
    minute = np.concatenate([np.arange(n) for n in lengths])
    session = np.repeat(np.arange(len(starts)), lengths)
    clock = (np.repeat(starts, lengths) + minute) % 1440
    return clock, session, minute


def test_rows_with_the_dropped_column_sum_to_one():
    """Past the first knot interval the dropped column is zero, so the kept columns sum to 1;
    inside it they sum to 1 less the dropped column, in [0, 1]."""
    clock = ClockBasis.for_history(*_history([18 * 60, 20 * 60], [240, 240]), 60.0)
    minutes = clock.cut + np.arange(int(clock.knots[0]), int(clock.knots[-1]))
    values = clock.design(minutes)
    past = clock.counted(minutes) >= clock.knots[4]
    assert values.shape == (len(minutes), clock.size) and past.any() and not past.all()
    np.testing.assert_allclose(values[past].sum(axis=1), 1.0, atol=1e-12)
    assert np.all(values[~past].sum(axis=1) <= 1.0 + 1e-12)
    assert values[0].sum() == pytest.approx(0.0)  # the first minute is the dropped column's


def test_the_day_is_cut_where_history_has_least_coverage():
    """Sessions 22:00-02:00 cross midnight: the cut falls in the uncovered hours, and the
    spline reads through midnight continuously."""
    clock = ClockBasis.for_history(*_history([22 * 60] * 3, [240] * 3), 60.0)
    assert 2 * 60 <= clock.cut < 22 * 60
    counted = clock.counted(22 * 60 + np.arange(240))
    assert np.all(np.diff(counted) == 1.0)  # no jump at midnight
    before, after = clock.design(np.array([23 * 60 + 59, 0]))
    assert np.max(np.abs(before - after)) < 0.05  # one minute apart on a 60-minute spline
    assert not clock.outside(np.array([23 * 60 + 59, 0, 60])).any()


def test_least_covered_takes_the_middle_of_the_longest_empty_run():
    coverage = np.ones(1440)
    coverage[100:200] = 0
    coverage[1300:] = 0
    coverage[:60] = 0  # the run 1300-59 wraps midnight: 200 minutes, the longest
    assert least_covered(coverage) == (1300 + 100) % 1440


def test_minutes_outside_history_are_held_at_the_edge():
    """Before the spline's first clock minute (history's less `EDGE_SHARE` of its rows) the
    spline is its mean over the first `TAIL_MINUTES` minutes it covers, after its last over the
    last ones, and `outside` says which those are."""
    clock = ClockBasis.for_history(*_history([18 * 60, 19 * 60], [180, 180]), 60.0)
    low, high = (clock.cut + int(clock.knots[0]), clock.cut + int(clock.knots[-1]))
    assert 18 * 60 < low < 18 * 60 + 0.05 * 360 and 22 * 60 - 0.05 * 360 < high < 22 * 60
    early, late = clock.design(np.array([low - 30, low - 1])), clock.design(np.array([high,
                                                                                     high + 90]))
    np.testing.assert_allclose(early, clock.design(low + np.arange(TAIL_MINUTES)).mean(
        axis=0)[None].repeat(2, axis=0), atol=1e-12)
    np.testing.assert_allclose(late, clock.design(high - TAIL_MINUTES + np.arange(
        TAIL_MINUTES)).mean(axis=0)[None].repeat(2, axis=0), atol=1e-12)
    assert clock.outside(np.array([low - 1, low, high - 1, high])).tolist() == \
        [True, False, False, True]


def test_start_span_is_the_shortest_arc_holding_every_start():
    assert start_span(np.array([19 * 60, 19 * 60])) == 0.0
    assert start_span(np.array([18 * 60, 20 * 60 + 30, 19 * 60])) == 150.0
    assert start_span(np.array([23 * 60 + 30, 30])) == 60.0  # across midnight


def test_the_start_slope_map_keeps_history_and_leaves_no_start_trend():
    """Moving a straight line from the day effects to the splines changes no fitted value on
    history where the clock spline is not held at an edge, and leaves the day effects with no
    least-squares slope in the start times."""
    starts = [12 * 60, 18 * 60, 19 * 60, 20 * 60 + 30, 19 * 60 + 30]
    clock_minute, session, minute = _history(starts, [240] * 5)
    basis, clock = SessionBasis.for_horizon(240, 20.0), ClockBasis.for_history(
        clock_minute, session, minute, 60.0)
    X = np.column_stack([basis.design(minute), clock.design(clock_minute),
                         day_dummies(session, 5)])
    rng = np.random.default_rng(0)
    coef = rng.normal(size=X.shape[1])
    coef[-4:] += 0.002 * (np.array(starts[1:]) - starts[0])  # a trend in the start
    counted = clock.counted(np.array(starts))
    moved = start_slope_map(counted, greville_abscissae(basis.knots), clock, 4) @ coef
    inside = ~clock.outside(clock_minute)
    assert inside.mean() > 0.9
    np.testing.assert_allclose((X @ moved)[inside], (X @ coef)[inside], atol=1e-9)
    days = np.r_[0.0, moved[-4:]]
    assert np.polyfit(counted, days, 1)[0] == pytest.approx(0.0, abs=1e-12)


def test_clock_minutes_of_timestamps():
    ts = np.array(["2026-12-01T23:59", "2026-12-02T00:00", "2026-12-02T19:05"],
                  dtype="datetime64[m]")
    assert clock_minutes(ts).tolist() == [1439, 0, 19 * 60 + 5]


def test_the_day_penalty_spares_a_straight_line_in_the_start():
    """Day effects on a line in the start cost nothing (the splines carry that line by
    `start_slope_map`); off it they cost `weight` times their squared residuals."""
    from optimizer.curves.clock import day_penalty

    start = np.array([0.0, 30.0, 60.0, 90.0, 600.0])
    penalty = day_penalty(start, 2.0, 7)
    assert penalty.shape == (7, 7) and not penalty[:3].any()
    line = np.r_[np.zeros(3), 0.01 * (start[1:] - start[0])]
    assert line @ penalty @ line == pytest.approx(0.0, abs=1e-12)
    bump = np.r_[np.zeros(3), 0.0, 0.1, 0.0, 0.0]
    residual = np.r_[0.0, bump[3:]] - np.polyval(np.polyfit(start, np.r_[0.0, bump[3:]], 1),
                                                 start)
    assert bump @ penalty @ bump == pytest.approx(2.0 * np.sum(residual ** 2))
