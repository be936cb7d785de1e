"""A re-plan over HTTP holds the floors at the level the day has shown, and says so (real
planner)."""

from __future__ import annotations

import httpx
from api_support import LiveServer, check, create_body, minute_body

from optimizer.api import Settings
from optimizer.api.planning import Planner
from optimizer.api.settings import sqlite_url

MINUTES = 30


def test_a_day_far_below_the_model_is_noted_on_the_revision(tmp_path, data_dir):
    # a generous budget: the first post waits for the re-planner's build instead of falling back
    settings = Settings(db_url=sqlite_url(tmp_path / "spendplan.db"), data_dir=data_dir,
                        replan_time_budget=60)
    with LiveServer(settings, Planner()) as live, \
            httpx.Client(base_url=live.url, timeout=120) as client:
        created = check(client.post("/v1/plans", json=create_body()), 201)
        assert created["revision"]["notes"] is None
        plan = created["revision"]["allocation"]
        minutes = [minute_body(m, spend=plan[m]["spend"],
                               paid={p: 0.3 * v for p, v in plan[m]["expected_paid_gmv"].items()})
                   for m in range(MINUTES)]
        answer = check(client.post(f"/v1/plans/{created['id']}/actuals",
                                   json={"minutes": minutes}))
    revision = answer["revision"]
    assert revision["status"] in ("optimal", "feasible") and revision["fallback"] is None
    # 30 minutes at 30% of the model, shrunk: 1 + 30 / 50 x (0.3 - 1) = 0.58
    assert "paid GMV so far runs 42% below the model" in revision["notes"]
