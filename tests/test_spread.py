"""Spread: a schedule's intervals and how often its floors and target hold over the draws."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.spread import Spread


def test_intervals_are_the_central_90_percent_of_the_draws():
    paid, organic = np.arange(1.0, 1002.0), np.full(1001, 100.0)
    spread = Spread(paid=paid, organic=organic, spend=10.0)
    intervals = spread.intervals()
    assert intervals["paid_gmv"] == pytest.approx([51.0, 951.0])
    assert intervals["organic_gmv"] == pytest.approx([100.0, 100.0])
    assert intervals["total_gmv"] == pytest.approx([151.0, 1051.0])


def test_chances_count_the_draws_where_each_requirement_holds():
    paid, organic = np.arange(1.0, 101.0), np.full(100, 50.0)  # total 51..150
    spread = Spread(paid=paid, organic=organic, spend=10.0)
    chances = spread.chances(paid_roi_min=5.0, overall_roi_min=12.0, gmv_target=141.0)
    # paid >= 50: 51 of 100 draws; total >= 120: 31; total >= 141: 10
    assert chances == pytest.approx({"paid_roi": 0.51, "overall_roi": 0.31,
                                     "gmv_target": 0.10})
    assert spread.chances() == {}


def test_a_requirement_met_to_the_rounding_holds():
    spread = Spread(paid=np.array([3.5 * 7.0 * (1 - 1e-12)]), organic=np.zeros(1), spend=7.0)
    assert spread.chances(paid_roi_min=3.5) == {"paid_roi": 1.0}
