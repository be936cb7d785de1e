"""Terminal views: what the operator reads off the fit table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from optimizer.curves.report import SUMMARY_COLUMNS
from optimizer.terminal import fit_view, print_fit


def test_the_curve_column_shows_the_familys_weight_when_another_was_weighed():
    summary = pd.DataFrame(np.nan, index=pd.Index(["fans", "auto", "new"], name="package"),
                           columns=list(SUMMARY_COLUMNS))
    summary["family"] = ["hill", "exponential", ""]
    summary["family_weight"] = [0.604, 1.0, np.nan]
    assert list(fit_view(summary)["curve"]) == ["hill 60%", "exponential", ""]


def test_the_half_life_column_marks_a_delayed_peak_with_its_stages():
    summary = pd.DataFrame(np.nan, index=pd.Index(["fans", "auto", "new"], name="package"),
                           columns=list(SUMMARY_COLUMNS))
    summary["family"] = ["log", "hill", ""]
    summary["half_life"], summary["carryover_stages"] = [2.04, 1.5, np.nan], [1, 2, np.nan]
    assert list(fit_view(summary)["half-life min"]) == ["2.0", "1.5 ×2", ""]


def test_notes_print_under_the_fit_table_one_line_each(capsys):
    summary = pd.DataFrame(np.nan, index=pd.Index(["fans", "auto"], name="package"),
                           columns=list(SUMMARY_COLUMNS))
    summary["family"], summary["family_weight"] = ["hill", ""], [1.0, np.nan]
    summary["note"] = ["half-saturation not identified (SE of log k 4.5): the band is wide",
                       "only 12 minutes with spend in history (at least 60 needed)"]
    organic = pd.DataFrame({"driver": ["paid"],
                            "note": ["ceiling not identified (SE of log c 3.3): wide"]},
                           index=pd.Index(["organic"], name="model"))
    print_fit(summary, organic)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [*(f"note: {p}: {n}" for p, n in summary["note"].items()),
                     "note: organic: uplift levered by each package's paid GMV (chosen on "
                     "held-out sessions); the leverage shown is per paid yuan at typical spend",
                     "note: organic: ceiling not identified (SE of log c 3.3): wide"]


def test_package_names_stay_whole_in_an_80_column_terminal(monkeypatch, capsys):
    """At 80 columns competitor and competitor_2 both read "compet…"."""
    from optimizer import terminal

    monkeypatch.setattr(terminal.console, "width", 80)
    names = ["competitor", "competitor_2", "lookalike_interest"]
    summary = pd.DataFrame(1.0, index=pd.Index(names, name="package"),
                           columns=list(SUMMARY_COLUMNS))
    summary["family"], summary["note"] = "exponential", ""
    terminal.print_frame(fit_view(summary), "Fitted response curves")
    out = capsys.readouterr().out
    assert all(f" {name} " in out for name in names)


def _summary(status: str) -> dict:
    return {"status": status, "total_spend": 80000.0, "expected_paid_gmv": 294528.0,
            "expected_organic_gmv": 112908.0, "expected_total_gmv": 407436.0,
            "paid_roi": 3.68, "overall_roi": 5.09, "solve_seconds": 0.0 if status ==
            "evaluated" else 0.127}


def test_the_summary_title_stays_on_one_line_and_a_forecast_shows_no_solve_time(
        monkeypatch, capsys):
    from optimizer import terminal

    monkeypatch.setattr(terminal.console, "width", 80)
    title = "Plan for 2026-12-01 19:00, 240 minutes"
    terminal.print_summary(_summary("optimal"), title)
    planned = capsys.readouterr().out
    assert title in planned and "solve_seconds" in planned
    assert re.search(r"expected_total_gmv +│ +407,436 │", planned)  # numbers right-aligned
    terminal.print_summary(_summary("evaluated"), "Forecast of plan.csv")
    assert "solve_seconds" not in capsys.readouterr().out
