"""`spendplan backtest`: the demo history back-tested, and bad options as bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_cli import ROOT, run

from optimizer.sim.backtest import FORECAST_COLUMNS, PLAN_COLUMNS, columns

DEMO = str(ROOT / "configs" / "demo.yaml")


@pytest.mark.slow
def test_backtest_of_the_last_demo_sessions(monkeypatch, capsys, tmp_path):
    status, text = run(monkeypatch, capsys, "backtest", DEMO, "--out", str(tmp_path),
                       "--first", "19")
    assert status == 0, text
    frame = pd.read_csv(tmp_path / "backtest.csv")
    assert list(frame.columns) == columns(FORECAST_COLUMNS) + columns(PLAN_COLUMNS)
    assert frame["session"].tolist() == [19, 20]
    assert frame["budget"].tolist() == pytest.approx(frame["spend"].tolist())
    result = json.loads((tmp_path / "summary.json").read_text())
    assert result["uplift"]["sessions"] == 2 and result["budget"] == "actual"
    assert set(result["forecast"]) == {"paid", "organic", "total"}
    assert (tmp_path / "backtest.png").stat().st_size > 10_000
    assert "median WAPE" in text and "mean uplift" in text


@pytest.mark.parametrize("first", ["2", "21"])
def test_first_out_of_range_is_bad_input_naming_the_option(monkeypatch, capsys, tmp_path,
                                                           first):
    status, text = run(monkeypatch, capsys, "backtest", DEMO, "--out", str(tmp_path),
                       "--first", first)
    assert status == 2
    assert "--first" in text and "choose --first from 3 to 20" in text
    assert "Traceback" not in text and not (tmp_path / "backtest.csv").exists()


def test_unknown_budget_is_bad_input_naming_the_option(monkeypatch, capsys, tmp_path):
    status, text = run(monkeypatch, capsys, "backtest", DEMO, "--out", str(tmp_path),
                       "--budget", "everything")
    assert status == 2 and "--budget" in text and "everything" in text


def test_an_unbounded_interval_end_is_said_in_words():
    from optimizer.terminal import percent

    assert percent(0.05, -0.01, None) == "+5.0% (-1.0% to unbounded)"
    assert percent(0.05, -0.01, 0.2) == "+5.0% (-1.0% to +20.0%)"
    assert percent(None) == "" and percent(float("nan")) == ""
