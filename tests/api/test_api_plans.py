"""Creating and reading plans over HTTP (fake planner; SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from api_support import PACKAGES, check, create_body, demo_config, minute_body


def test_create_with_model_file_then_read_plan_revision_and_allocation(client):
    created = check(client.post("/v1/plans", json=create_body()), 201)
    plan_id = created["id"]
    assert sorted(created["packages"]) == sorted(PACKAGES)
    assert created["session"] == {"start": "2026-11-16 19:00:00", "end": "2026-11-16 23:00:00",
                                  "minutes": 240, "slot_minutes": 1}
    revision = created["revision"]
    assert revision["number"] == 0 and revision["from_minute"] == 0
    assert len(revision["allocation"]) == 240
    assert revision["totals"]["total_spend"] <= 80000 + 1e-6
    assert check(client.get(f"/v1/plans/{plan_id}"))["latest_revision"]["number"] == 0
    full = check(client.get(f"/v1/plans/{plan_id}/revisions/0", params={"horizon": 5}))
    assert [m["minute"] for m in full["allocation"]] == [0, 1, 2, 3, 4]
    allocation = check(client.get(f"/v1/plans/{plan_id}/allocation/17"))
    assert allocation["plan"]["minute"] == 17 and allocation["plan"]["ts"] == \
        "2026-11-16 19:17:00"
    assert allocation["plan"]["spend"] == revision["allocation"][17]["spend"]
    assert set(allocation["plan"]["marginal_roi"]) == set(PACKAGES)
    assert allocation["revision"] == 0 and allocation["posted"] is False
    assert check(client.get(f"/v1/plans/{plan_id}/revisions"))["revisions"][0]["number"] == 0
    assert created["replanner_ready"] in (False, True)  # built in the background
    posted = client.post(f"/v1/plans/{plan_id}/actuals", json={"minutes": [minute_body(0)]})
    check(posted)  # a re-plan builds it if the background has not yet
    assert check(client.get(f"/v1/plans/{plan_id}"))["replanner_ready"] is True


def test_create_from_history_reuses_the_fit_of_the_same_data(client):
    created = check(client.post("/v1/plans", json={"config": demo_config()}), 201)
    assert "sim.json" in created["model_source"]


def test_create_with_a_stored_model_by_fingerprint(client, data_dir):
    artifact = json.loads((data_dir / "models" / "sim.json").read_text())
    stored = check(client.post("/v1/models", json=artifact), 201)
    assert check(client.post("/v1/models", json=artifact))["created"] is False
    assert check(client.get(f"/v1/models/{stored['fingerprint']}"))["packages"]
    bad = {**artifact, "fingerprint": "not-a-sha"}
    assert check(client.post("/v1/models", json=bad), 422)["field"] == "fingerprint"
    assert check(client.post("/v1/models", json={"paid": 1}), 422)["field"].startswith("body")
    config = demo_config()
    del config["history"]  # not read when a stored model is used
    body = {"config": config, "model": {"fingerprint": stored["fingerprint"]}}
    assert check(client.post("/v1/plans", json=body), 201)["model_fingerprint"] == \
        stored["fingerprint"]


@pytest.mark.parametrize(("body", "field"), [
    ({"config": demo_config(budget=-5)}, "config.budget"),
    ({"config": demo_config(budgett=5)}, "config.budgett"),
    ({"config": {**demo_config(), "session": {"start": "2026-11-16 19:00"}}},
     "config.session.end"),
    ({"config": demo_config(history={"spend": "../../etc/passwd", "room": "x.csv"})},
     "config.history.spend"),
    ({"config": demo_config(history={"spend": "nope.csv", "room": "history/room.csv"})},
     "config.history.spend"),
    ({"config": demo_config(history={"spend": "/etc/passwd", "room": "x.csv"}),
      "model": {"path": "models/sim.json"}}, "config.history.spend"),  # was 201, not read
    ({"config": demo_config(), "model": {"path": "models/missing.json"}}, "model.path"),
    ({"config": demo_config(), "model": {"path": "/etc/hostname"}}, "model.path"),
    ({"config": demo_config(), "model": {"fingerprint": "0" * 64}}, "model.fingerprint"),
    ({"config": demo_config(), "model": {}}, "model"),
    ({"config": demo_config(packages={"newpkg": {"max_spend_per_minute": 10}}),
      "model": {"path": "models/sim.json"}}, "config.packages.newpkg"),
    ({"config": demo_config(room_id="a\u0000b")}, "config.room_id"),
    ({"config": demo_config(), "model": {"path": "models/\u0000.json"}}, "model.path"),
    ({"config": demo_config(session={"start": "2026-11-16 19:00", "end": "2027-11-16 19:00"})},
     "config.session.end"),
    ({"config": 7}, "config"),
    ({}, "config"),
])
def test_bad_create_is_422_naming_the_field(client, body, field):
    error = check(client.post("/v1/plans", json=body), 422)
    assert error["field"] == field, error
    assert error["detail"]


def test_unknown_plan_is_404(client):
    for path in ("/v1/plans/0123456789abcdef0123456789abcdef", "/v1/plans/not-an-id",
                 "/v1/plans/x%00y/allocation/0", "/v1/plans/abc/revisions"):
        assert check(client.get(path), 404)["field"] == "plan_id"
    body = {"minutes": [{"minute": 0, "organic_gmv": 1.0}]}
    assert check(client.post("/v1/plans/abc/actuals", json=body), 404)["field"] == "plan_id"
    assert check(client.get("/v1/nothing"), 404)["field"] == "path"
    assert check(client.get("/v1/models/abc"), 404)["field"] == "fingerprint"


def test_minute_and_revision_outside_the_plan(client):
    plan_id = check(client.post("/v1/plans", json=create_body()), 201)["id"]
    assert check(client.get(f"/v1/plans/{plan_id}/allocation/240"), 422)["field"] == "minute"
    assert check(client.get(f"/v1/plans/{plan_id}/allocation/-1"), 422)["field"] == "minute"
    assert check(client.get(f"/v1/plans/{plan_id}/revisions/3"), 404)["field"] == "number"


def test_infeasible_plan_is_422_naming_the_requirement(app_settings):
    from api_support import FakePlanner, LiveServer

    class Infeasible(FakePlanner):
        def solve(self, problem):
            solved = super().solve(problem)
            return type(solved)(**{**solved.__dict__, "status": "infeasible",
                                   "message": "the paid ROI floor 9.0 cannot be met; the "
                                              "best reachable paid ROI is 3.1"})

    import httpx
    with LiveServer(app_settings, Infeasible()) as live:
        error = check(httpx.post(f"{live.url}/v1/plans", json=create_body(), timeout=30), 422)
    assert error["field"] == "config.roi.paid_min" and "3.1" in error["detail"]


def test_a_session_longer_than_history_says_so_in_every_planned_revision(client):
    created = check(client.post("/v1/plans", json=create_body(
        session={"start": "2026-11-16 19:00", "end": "2026-11-17 01:00"})), 201)
    assert created["session"]["minutes"] == 360
    warning = "the longest in history 240: minutes 240-359"
    assert warning in created["revision"]["notes"]
    posted = check(client.post(f"/v1/plans/{created['id']}/actuals",
                               json={"minutes": [minute_body(0)]}))
    assert posted["replanned"] and posted["revision"]["number"] == 1
    assert warning in posted["revision"]["notes"]


def test_a_session_within_history_has_no_such_warning(client):
    created = check(client.post("/v1/plans", json=create_body()), 201)
    assert "longest in history" not in (created["revision"]["notes"] or "")


def test_an_unknown_query_parameter_is_422_naming_it_and_the_accepted_ones(client):
    """A typo was silently ignored: `?horizn=1` answered the whole allocation."""
    plan_id = check(client.post("/v1/plans", json=create_body()), 201)["id"]
    url = f"/v1/plans/{plan_id}/actuals"
    error = check(client.post(url, json={"minutes": [minute_body(0)]},
                              params={"horizn": 1, "budet_ms": 300}), 422)
    assert error["field"] == "budet_ms"
    assert [e["field"] for e in error["errors"]] == ["budet_ms", "horizn"]
    assert "takes horizon" in error["detail"]
    assert check(client.get(f"/v1/plans/{plan_id}"))["minutes_posted"] == 0
    error = check(client.get(f"/v1/plans/{plan_id}", params={"horizon": 1}), 422)
    assert error["field"] == "horizon" and "takes no query parameters" in error["detail"]
    answer = check(client.post(url, json={"minutes": [minute_body(0)]}, params={"horizon": 1}))
    assert len(answer["revision"]["allocation"]) == 1
