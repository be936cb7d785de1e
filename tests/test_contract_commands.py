"""The contract's `plan`, `evaluate` and `demo` commands on the shipped demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_cli import run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo.yaml"
MODEL = ROOT / "models" / "demo.json"
PLAN_COLUMNS = ["ts", "package", "spend", "expected_paid_gmv", "expected_organic_uplift"]
SUMMARY_KEYS = {"status", "total_spend", "expected_paid_gmv", "expected_organic_gmv",
                "expected_total_gmv", "paid_roi", "overall_roi", "solve_seconds"}


def config_like_demo(tmp_path: Path, **changes: object) -> Path:
    """The demo config with some top-level keys replaced, written to tmp_path."""
    config = yaml.safe_load(DEMO.read_text()) | changes
    config["history"] = {k: str(DEMO.parent / v) for k, v in config["history"].items()}
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_plan_writes_the_contract_files(monkeypatch, capsys, tmp_path):
    status, text = run(monkeypatch, capsys, "plan", str(DEMO), "--out", str(tmp_path / "out"))
    assert status == 0, text
    frame = pd.read_csv(tmp_path / "out" / "plan.csv")
    assert list(frame.columns) == PLAN_COLUMNS
    assert len(frame) == 240 * 6 and frame["ts"].is_monotonic_increasing
    assert frame["ts"].iloc[0] == "2026-12-01 19:00:00"
    assert frame["ts"].iloc[-1] == "2026-12-01 22:59:00"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary) and summary["status"] == "optimal"
    assert summary["total_spend"] <= 80_000 * (1 + 1e-9)
    assert summary["total_spend"] == pytest.approx(frame["spend"].sum(), rel=1e-6)
    assert summary["paid_roi"] >= 2.0 - 1e-6
    assert (frame.loc[frame["package"] == "retarget", "spend"] <= 150 + 1e-6).all()
    assert "budget" in summary["binding"]  # the terminal says what holds the plan back
    assert all(f"  - {name}" in text for name in summary["binding"])
    low, high = summary["intervals_90"]["paid_gmv"]
    assert low < summary["expected_paid_gmv"] < high
    assert summary["chances"] == {"paid_roi": 1.0}  # the demo's floor of 2.0 is far below
    assert "paid ROI >= 2: holds in 100% of the draws" in text


def test_unreachable_target_exits_3_with_reason_and_summary(monkeypatch, capsys, tmp_path):
    """An infeasible run also removes an earlier run's plan.csv and plan.png from --out: left
    there, they contradicted the summary."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "plan.csv").write_text("ts,package,spend\n")
    (out / "plan.png").write_bytes(b"")
    config = config_like_demo(tmp_path, objective="min_spend", gmv_target=5_000_000)
    status, text = run(monkeypatch, capsys, "plan", str(config), "--out", str(out),
                       "--model", str(MODEL))
    assert status == 3, text
    assert "5,000,000" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible" and "infeasibility" in summary
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]


@pytest.mark.parametrize("command", ["plan", "evaluate", "fit"])
def test_an_out_that_cannot_be_written_is_bad_input_before_any_work(monkeypatch, capsys,
                                                                     tmp_path, command):
    """A file where the folder should be was an internal error (exit 1) after the whole fit
    and solve."""
    blocker = tmp_path / "taken"
    blocker.write_text("")
    out = blocker / "model.json" if command == "fit" else blocker
    extra = ["--plan", str(tmp_path / "none.csv")] if command == "evaluate" else []
    status, text = run(monkeypatch, capsys, command, str(tmp_path / "missing.yaml"), *extra,
                       "--out", str(out))
    assert status == 2, text
    assert "--out" in text and "Fix:" in text


def test_package_switched_off_in_config_is_planned_at_zero(monkeypatch, capsys, tmp_path):
    config = config_like_demo(tmp_path, packages={"newbie": {"max_spend_per_minute": 0}})
    status, text = run(monkeypatch, capsys, "plan", str(config), "--out", str(tmp_path / "o"),
                       "--model", str(MODEL))
    assert status == 0, text
    frame = pd.read_csv(tmp_path / "o" / "plan.csv")
    assert set(frame["package"]) == {"auto", "competitor", "fans", "interest", "lookalike",
                                     "retarget", "newbie"}
    assert (frame.loc[frame["package"] == "newbie", "spend"] == 0).all()


def test_evaluate_forecasts_and_lists_broken_rules(monkeypatch, capsys, tmp_path):
    status, _ = run(monkeypatch, capsys, "plan", str(DEMO), "--out", str(tmp_path / "p"))
    assert status == 0
    doubled = pd.read_csv(tmp_path / "p" / "plan.csv")[["ts", "package", "spend"]]
    doubled["spend"] *= 2
    doubled.to_csv(tmp_path / "double.csv", index=False)
    status, text = run(monkeypatch, capsys, "evaluate", str(DEMO), "--plan",
                       str(tmp_path / "double.csv"), "--out", str(tmp_path / "e"))
    assert status == 0, text
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary) and summary["status"] == "evaluated"
    assert any("budget" in rule for rule in summary["broken_rules"])
    assert summary["total_spend"] == pytest.approx(160_000, rel=1e-6)
    low, high = summary["intervals_90"]["total_gmv"]
    assert low < summary["expected_total_gmv"] < high
    assert "held 88% of sessions' paid GMV" in " ".join(text.split())  # how much they hold
    assert set(summary["chances"]) == {"paid_roi"}
    forecast = pd.read_csv(tmp_path / "e" / "forecast.csv")
    assert list(forecast.columns) == PLAN_COLUMNS and len(forecast) == 240 * 6


def test_evaluate_names_a_row_of_an_unknown_package(monkeypatch, capsys, tmp_path):
    schedule = tmp_path / "s.csv"
    schedule.write_text("ts,package,spend\n2026-12-01 19:00:00,fans,10\n"
                        "2026-12-01 19:01:00,nobody,10\n")
    status, text = run(monkeypatch, capsys, "evaluate", str(DEMO), "--plan", str(schedule),
                       "--out", str(tmp_path / "e"))
    assert status == 2
    assert "s.csv" in text and "row 2" in text and "nobody" in text


def test_evaluate_names_a_minute_outside_the_session(monkeypatch, capsys, tmp_path):
    schedule = tmp_path / "s.csv"
    schedule.write_text("ts,package,spend\n2026-12-01 23:00:00,fans,10\n")
    status, text = run(monkeypatch, capsys, "evaluate", str(DEMO), "--plan", str(schedule),
                       "--out", str(tmp_path / "e"))
    assert status == 2 and "outside the session" in text


@pytest.mark.slow
def test_demo_runs_with_no_argument(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    status, text = run(monkeypatch, capsys, "demo")
    assert status == 0, text
    for name in ("plan.csv", "summary.json", "plan.png", "model.json", "curves.png"):
        assert (tmp_path / "out" / "demo" / name).is_file(), name
