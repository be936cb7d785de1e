"""Any actuals within the schema's ranges, however extreme, are re-planned (or fall back) with
a 200 and a plan that stays within the remaining budget (real planner)."""

from __future__ import annotations

import httpx
import pytest
from api_support import PACKAGES, LiveServer, check, create_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.api.planning import Planner

amounts = st.one_of(st.just(0.0), st.floats(0, 1e9), st.sampled_from([1e-300, 1e9, 5e-324]))
per_package = st.dictionaries(st.sampled_from(PACKAGES), amounts, max_size=len(PACKAGES))


@pytest.mark.slow
def test_extreme_actuals_replan_within_the_remaining_budget(sqlite_settings):
    with LiveServer(sqlite_settings, Planner()) as live, \
            httpx.Client(base_url=live.url, timeout=60) as client:
        plan_id = check(client.post("/v1/plans", json=create_body()), 201)["id"]
        state = {"minute": 0}

        @given(spend=per_package, paid=per_package, organic=amounts)
        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def post(spend, paid, organic):
            body = {"minutes": [{"minute": state["minute"], "spend": spend, "paid_gmv": paid,
                                 "organic_gmv": organic}]}
            answer = check(client.post(f"/v1/plans/{plan_id}/actuals", json=body,
                                       params={"horizon": 1}))
            state["minute"] += 1
            totals = answer["revision"]["totals"]
            assert totals["planned_remaining_spend"] <= totals["remaining_budget"] * (
                1 + 1e-9) + 1e-6

        post()
        assert state["minute"] == 15


EXTREME = [
    {"budget": 1e300}, {"budget": 1e-300}, {"roi": {"paid_min": 1e300}},
    {"roi": {"paid_min": 1e-300, "overall_min": 1e300}},
    {"objective": "min_spend", "gmv_target": 1e300},
    {"objective": "min_spend", "gmv_target": 1.0},
    {"packages": {p: {"max_spend_per_minute": 0} for p in PACKAGES}},
    {"session": {"start": "2026-11-16 19:00", "end": "2026-11-16 19:01", "slot_minutes": 1}},
    {"session": {"start": "2026-11-16 19:00", "end": "2026-11-16 21:00", "slot_minutes": 30}},
    {"session": {"start": "2026-11-16 19:00", "end": "2026-11-16 19:14", "slot_minutes": 7}},
]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on 1e300 budgets
def test_extreme_configs_are_planned_or_refused_never_a_server_error(sqlite_settings):
    with LiveServer(sqlite_settings, Planner()) as live, \
            httpx.Client(base_url=live.url, timeout=120) as client:
        for changes in EXTREME:
            response = client.post("/v1/plans", json=create_body(**changes))
            assert response.status_code in (201, 422), (changes, response.text[:500])
            if response.status_code == 422:
                assert response.json()["field"].startswith("config"), response.text
                continue
            plan = response.json()
            totals = plan["revision"]["totals"]
            assert totals["total_spend"] <= plan["budget"] * (1 + 1e-9)
            first = {"minutes": [{"minute": 0, "organic_gmv": 1.0}]}
            check(client.post(f"/v1/plans/{plan['id']}/actuals", json=first))
