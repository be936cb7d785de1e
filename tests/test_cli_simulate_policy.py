"""`spendplan simulate-policy`: its files, its table and the contract's exit status."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from optimizer import cli

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo.yaml"


def run(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run `spendplan simulate-policy ARGS` in-process; return (exit status, all output)."""
    monkeypatch.setattr(sys, "argv", ["spendplan", "simulate-policy", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out + captured.err


def test_demo_config_writes_runs_distribution_and_chart(monkeypatch, capsys, tmp_path):
    out = tmp_path / "policies"
    status, text = run(monkeypatch, capsys, str(DEMO), "--sessions", "2", "--replan-every",
                       "60", "--workers", "1", "--seed", "7", "--out", str(out))
    assert status == 0, text
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["policy"].unique()) == ["static plan", "re-plan every 60 min",
                                             "even pacing", "oracle"]
    assert sorted(runs["seed"].unique()) == [7, 8]
    assert runs["spend"].max() <= 80_000 * (1 + 1e-9)
    assert (runs.loc[runs["policy"] == "oracle", "regret"] == 0).all()
    table = pd.read_csv(out / "distribution.csv")
    assert {"policy", "metric", "mean", "p10", "p90"} <= set(table.columns)
    assert (out / "policies.png").stat().st_size > 10_000
    assert "total GMV" in text and "regret" in text
    spent = runs.groupby("policy", sort=False)["spend"].apply(list)
    assert spent["static plan"] == pytest.approx(spent["re-plan every 60 min"])  # slack floor
    assert "re-planning spent exactly as the static plan" in text


def test_scenario_simulates_history_and_campaign(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SPENDPLAN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "scenario"
    status, text = run(monkeypatch, capsys, "--scenario", "default", "--days", "4",
                       "--sessions", "1", "--replan-every", "120", "--workers", "1",
                       "--budget", "50000", "--out", str(out))
    assert status == 0, text
    assert (out / "history" / "truth.json").is_file()
    assert "budget: 50000" in (out / "campaign.yaml").read_text()
    assert pd.read_csv(out / "runs.csv")["spend"].max() <= 50_000 * (1 + 1e-9)


@pytest.mark.parametrize("args, named", [
    ([], "--scenario"),
    ([str(DEMO), "--scenario", "default"], "--scenario"),
    ([str(DEMO), "--sessions", "0"], "--sessions"),
    ([str(DEMO), "--replan-every", "0"], "--replan-every"),
    ([str(DEMO), "--replan-every", "240"], "--replan-every"),  # never re-plans
    ([str(DEMO), "--budget", "-5"], "--budget"),
])
def test_bad_options_are_bad_input_naming_the_option(monkeypatch, capsys, tmp_path, args,
                                                     named):
    status, text = run(monkeypatch, capsys, *args, "--out", str(tmp_path))
    assert status == 2, text
    assert named in text and "Fix:" in text and "Traceback" not in text


def test_history_without_truth_is_bad_input(monkeypatch, capsys, tmp_path):
    for name in ("spend.csv", "room.csv"):
        shutil.copy(ROOT / "data" / "demo" / name, tmp_path / name)
    config = DEMO.read_text().replace("../data/demo/", "")
    (tmp_path / "campaign.yaml").write_text(config)
    status, text = run(monkeypatch, capsys, str(tmp_path / "campaign.yaml"), "--out",
                       str(tmp_path / "out"))
    assert status == 2, text
    assert "truth.json" in text and "--scenario" in text


def test_unreachable_floor_is_infeasible(monkeypatch, capsys, tmp_path):
    status, text = run(monkeypatch, capsys, str(DEMO), "--paid-roi-min", "1000",
                       "--sessions", "1", "--out", str(tmp_path))
    assert status == 3, text
    assert "infeasible" in text and "paid ROI" in text
