"""Back-test summaries and chart, on a hand-made back-test table (no fitting)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from optimizer.sim.backtest import FORECAST_COLUMNS, PLAN_COLUMNS, columns
from optimizer.sim.backtest_report import (
    FORECAST_SUMMARY,
    UPLIFT_SUMMARY,
    backtest_figure,
    forecast_summary,
    plot_backtest,
    summary,
    uplift_summary,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    """Three sessions: two planned (uplift 10% and 20%), one infeasible."""
    table = pd.DataFrame(np.nan, index=range(3), columns=columns(FORECAST_COLUMNS)
                         + columns(PLAN_COLUMNS), dtype=object)
    table["session"] = [3, 4, 5]
    table["start"] = pd.to_datetime(["2026-11-13 19:00", "2026-11-14 19:00", "2026-11-15 19:00"])
    for kind, scale in (("paid", 2.0), ("organic", 1.0), ("total", 3.0)):
        table[f"{kind}_actual"] = scale * np.array([100.0, 100.0, 100.0])
        table[f"{kind}_forecast"] = scale * np.array([90.0, 110.0, 130.0])
        table[f"{kind}_low"] = scale * np.array([80.0, 95.0, 120.0])
        table[f"{kind}_high"] = scale * np.array([105.0, 120.0, 140.0])
        table[f"{kind}_error"] = [-0.1, 0.1, 0.3]
        table[f"{kind}_wape"] = [0.2, 0.3, 0.7]
    table["status"] = ["optimal", "optimal", "infeasible"]
    table["reason"] = ["", "", "paid ROI >= 9 cannot be met"]
    table["plan_total"] = [297.0, 396.0, np.nan]
    table["uplift"] = [0.1, 0.2, np.nan]
    table["uplift_low"] = [0.05, -0.05, np.nan]
    table["uplift_high"] = [0.15, 0.3, np.nan]
    return table


def test_forecast_summary_per_kind(frame):
    table = forecast_summary(frame)
    assert list(table.index) == ["paid", "organic", "total"]
    assert set(table.columns) == {c for key in FORECAST_SUMMARY for c in key.split(", ")}
    total = table.loc["total"]
    assert total["sessions"] == 3
    assert total["wape_median"] == pytest.approx(0.3)
    assert total["wape_mean"] == pytest.approx(0.4)
    assert total["error_mean"] == pytest.approx(0.1)
    assert total["coverage"] == pytest.approx(2 / 3)


def test_an_unbounded_interval_is_left_out_of_the_coverage_and_counted(frame):
    """An interval with an end at infinity holds any actual: counted as covering, it read 100%
    in a back-test where 12 of 18 intervals were unbounded."""
    frame.loc[0, "paid_high"] = np.inf
    table = forecast_summary(frame)
    assert table.loc["paid", "unbounded"] == 1 and table.loc["total", "unbounded"] == 0
    assert table.loc["paid", "coverage"] == pytest.approx(1 / 2)


def test_uplift_summary_counts_infeasible_and_averages_planned_sessions(frame):
    uplift = uplift_summary(frame)
    assert set(uplift) == {c for key in UPLIFT_SUMMARY for c in key.split(", ")}
    assert (uplift["sessions"], uplift["planned"], uplift["infeasible"]) == (3, 2, 1)
    assert uplift["statuses"] == {"optimal": 2, "infeasible": 1}
    assert uplift["uplift_mean"] == pytest.approx(0.15)
    assert (uplift["uplift_low"], uplift["uplift_high"]) == pytest.approx((0.0, 0.225))
    assert uplift["beats_actual"] == pytest.approx(0.5)


def test_uplift_summary_without_any_plan_has_no_figures(frame):
    frame[["uplift", "uplift_low", "uplift_high"]] = np.nan
    frame["status"] = "infeasible"
    uplift = uplift_summary(frame)
    assert uplift["planned"] == 0 and uplift["uplift_mean"] is None
    json.dumps(summary(frame), allow_nan=False)


def test_chart_is_written(frame, tmp_path):
    path = plot_backtest(frame, tmp_path / "charts" / "backtest.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_axes_say_their_units(frame):
    axes = backtest_figure(frame).axes
    assert [ax.get_ylabel().rsplit(" ", 1)[-1] for ax in axes] == ["(yuan)", "(%)", "(%)"]
    assert "start date" in axes[-1].get_xlabel()
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == ["11-13", "11-14", "11-15"]


def test_legends_sit_beside_the_panels_not_on_them(frame):
    """With loc="best" the top panel's legend covered a session's interval."""
    figure = backtest_figure(frame)
    figure.canvas.draw()
    for ax in figure.axes:
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 > ax.get_window_extent().x1


def test_an_absurd_interval_end_does_not_squash_the_chart(frame):
    frame.loc[0, "total_high"] = 1e144
    gmv_ax = backtest_figure(frame).axes[0]
    assert gmv_ax.get_ylim()[1] < 1_000
    assert any("cut at the panel's edge" in text.get_text()
               for text in gmv_ax.get_legend().get_texts())


def test_an_interval_end_at_infinity_is_cut_from_the_chart_and_null_in_json(frame):
    # more than 5% of a fit's response draws overflowed (`backtest.interval`)
    frame.loc[0, ["uplift_high", "total_high"]] = np.inf
    axes = backtest_figure(frame).axes
    assert all(np.isfinite(ax.get_ylim()).all() for ax in axes)
    result = summary(frame)
    assert result["uplift"]["uplift_high"] is None
    json.dumps(result, allow_nan=False)  # strict JSON: no NaN or Infinity tokens
