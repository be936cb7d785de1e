"""A room whose organic uplift follows paid GMV, end to end through the command line:
simulate its history, fit (the drive chosen: paid GMV), plan and evaluate the plan."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from test_cli import run

from optimizer.sim import random_scenario

BUDGET = 60_000


@pytest.mark.slow
def test_a_paid_driven_room_is_fitted_planned_and_evaluated(monkeypatch, capsys, tmp_path):
    scenario = tmp_path / "paid.yaml"
    scenario.write_text(yaml.safe_dump(
        random_scenario(2, paid_driven=True).model_dump(mode="json")))
    status, text = run(monkeypatch, capsys, "simulate", "--scenario", str(scenario), "--days",
                       "21", "--seed", "2", "--out", str(tmp_path / "sim"))
    assert status == 0, text
    last = pd.to_datetime(pd.read_csv(tmp_path / "sim" / "room.csv")["ts"]).max()
    start = (last + pd.Timedelta(days=1)).normalize() + pd.Timedelta(hours=19)
    config = tmp_path / "campaign.yaml"
    config.write_text(yaml.safe_dump({
        "room_id": "demo_room",
        "history": {"spend": str(tmp_path / "sim" / "spend.csv"),
                    "room": str(tmp_path / "sim" / "room.csv")},
        "session": {"start": f"{start:%Y-%m-%d %H:%M}",
                    "end": f"{start + pd.Timedelta(minutes=240):%Y-%m-%d %H:%M}"},
        "budget": BUDGET, "objective": "max_gmv", "roi": {"paid_min": 2.0}}))
    monkeypatch.setenv("SPENDPLAN_CACHE", str(tmp_path / "cache"))

    model = tmp_path / "models" / "paid.json"
    status, text = run(monkeypatch, capsys, "fit", str(config), "--out", str(model))
    assert status == 0, text
    assert "uplift levered by each package's paid GMV" in " ".join(text.split())
    assert json.loads(model.read_text())["organic"]["driver"] == "paid"

    status, text = run(monkeypatch, capsys, "plan", str(config), "--out", str(tmp_path / "p"))
    assert status == 0, text
    assert f"reused fit {model}" in " ".join(text.split())  # models/ beside the config
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["total_spend"] <= BUDGET * (1 + 1e-9) and summary["paid_roi"] >= 2.0 - 1e-6

    plan = pd.read_csv(tmp_path / "p" / "plan.csv")[["ts", "package", "spend"]]
    plan.to_csv(tmp_path / "plan_spend.csv", index=False)
    status, text = run(monkeypatch, capsys, "evaluate", str(config), "--plan",
                       str(tmp_path / "plan_spend.csv"), "--out", str(tmp_path / "e"))
    assert status == 0, text
    forecast = json.loads((tmp_path / "e" / "summary.json").read_text())
    for key in ("expected_paid_gmv", "expected_organic_gmv", "expected_total_gmv"):
        assert forecast[key] == pytest.approx(summary[key], rel=1e-6)
