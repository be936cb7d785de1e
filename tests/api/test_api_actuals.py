"""Posting actuals over HTTP: re-plans, idempotency, conflicts, order, fallbacks (fake planner)."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from api_support import PACKAGES, FakePlanner, LiveServer, check, create_body, minute_body

from optimizer.api import Settings
from optimizer.api.service import ANSWER_SECONDS


def _plan(client) -> str:
    return check(client.post("/v1/plans", json=create_body()), 201)["id"]


def _post(client, plan_id, *minutes, status=200, **params):
    return check(client.post(f"/v1/plans/{plan_id}/actuals", json={"minutes": list(minutes)},
                             params=params), status)


def test_post_replans_the_rest_against_the_remaining_budget(client):
    plan_id = _plan(client)
    spend = {p: 100.0 for p in PACKAGES}
    answer = _post(client, plan_id, minute_body(0, spend=spend), minute_body(1, spend=spend))
    assert answer["accepted"] == [0, 1] and answer["duplicates"] == []
    assert answer["replanned"] and answer["minutes_posted"] == 2
    revision = answer["revision"]
    assert revision["number"] == 1 and revision["from_minute"] == 2
    assert [m["minute"] for m in revision["allocation"]] == list(range(2, 240))
    totals = revision["totals"]
    assert totals["spent"] == pytest.approx(1200.0)
    assert totals["remaining_budget"] == pytest.approx(80000 - 1200)
    assert totals["planned_remaining_spend"] <= totals["remaining_budget"] + 1e-6
    allocation = check(client.get(f"/v1/plans/{plan_id}/allocation/2"))
    assert allocation["revision"] == 1 and allocation["plan"] == revision["allocation"][0]
    assert check(client.get(f"/v1/plans/{plan_id}/allocation/1"))["revision"] == 0
    assert check(client.get(f"/v1/plans/{plan_id}/allocation/1"))["posted"] is True
    stored = check(client.get(f"/v1/plans/{plan_id}/actuals"))["minutes"]
    assert [m["minute"] for m in stored] == [0, 1] and stored[0]["spend"] == spend


def test_same_minute_twice_counts_once(client):
    plan_id = _plan(client)
    first = _post(client, plan_id, minute_body(0))
    again = _post(client, plan_id, minute_body(0))
    assert again["accepted"] == [] and again["duplicates"] == [0] and not again["replanned"]
    assert again["revision"]["number"] == first["revision"]["number"] == 1
    assert again["revision"]["totals"] == first["revision"]["totals"]
    mixed = _post(client, plan_id, minute_body(0), minute_body(1), horizon=1)
    assert mixed["accepted"] == [1] and mixed["duplicates"] == [0]
    assert len(mixed["revision"]["allocation"]) == 1
    assert check(client.get(f"/v1/plans/{plan_id}"))["minutes_posted"] == 2
    revisions = check(client.get(f"/v1/plans/{plan_id}/revisions"))["revisions"]
    assert [r["number"] for r in revisions] == [0, 1, 2]
    assert revisions[-1]["totals"]["spent"] == pytest.approx(120.0)


def test_conflicting_repost_is_409_and_changes_nothing(client):
    plan_id = _plan(client)
    _post(client, plan_id, minute_body(0))
    before = check(client.get(f"/v1/plans/{plan_id}"))
    changed = minute_body(0, spend={**{p: 10.0 for p in PACKAGES}, "fans": 11.0})
    error = _post(client, plan_id, changed, minute_body(1), status=409)
    assert error["field"] == "minutes[0].spend.fans"
    error = _post(client, plan_id, minute_body(1), minute_body(0, organic=1.0), status=409)
    assert error["field"] == "minutes[1].organic_gmv"
    assert check(client.get(f"/v1/plans/{plan_id}")) == before
    assert len(check(client.get(f"/v1/plans/{plan_id}/actuals"))["minutes"]) == 1


@pytest.mark.parametrize(("minutes", "field"), [
    ([minute_body(1)], "minutes[0].minute"),  # minute 0 missing
    ([minute_body(0), minute_body(2)], "minutes[1].minute"),
    ([minute_body(0), minute_body(0)], "minutes[1].minute"),
    ([minute_body(240)], "minutes[0].minute"),
    ([minute_body(-1)], "minutes[0].minute"),
    ([{**minute_body(0), "spend": {"nobody": 1.0}}], "minutes[0].spend.nobody"),
    ([{**minute_body(0), "paid_gmv": {"fans": -1.0}}], "minutes[0].paid_gmv.fans"),
    ([{**minute_body(0), "spend": {"fans": "12"}}], "minutes[0].spend.fans"),  # was 12
    ([{**minute_body(0), "spend": {"fans": True}}], "minutes[0].spend.fans"),  # was 1
    ([{**minute_body(0), "organic_gmv": None}], "minutes[0].organic_gmv"),
    ([{**minute_body(0), "extra": 1}], "minutes[0].extra"),
    ([{"minute": 0, "spend": {}, "paid_gmv": {}}], "minutes[0].organic_gmv"),
    ([], "minutes"),
])
def test_bad_actuals_are_422_naming_the_field_and_change_nothing(client, minutes, field):
    plan_id = _plan(client)
    assert _post(client, plan_id, *minutes, status=422)["field"] == field
    assert check(client.get(f"/v1/plans/{plan_id}"))["minutes_posted"] == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"minute": "0"}, "minutes[0].minute"),  # was read as minute 0
    ({"minute": True}, "minutes[0].minute"),
    ({"organic_gmv": "300"}, "minutes[0].organic_gmv"),
    ({"spend": {"fans": "12"}}, "minutes[0].spend.fans"),
    ({"paid_gmv": {"fans": False}}, "minutes[0].paid_gmv.fans"),
])
def test_a_number_sent_as_a_string_or_boolean_is_422_in_every_field(client, changes, field):
    plan_id = _plan(client)
    error = _post(client, plan_id, {**minute_body(0), **changes}, status=422)
    assert error["field"] == field
    assert "send a JSON number" in error["errors"][0]["message"]


def test_whole_numbers_may_be_written_with_a_decimal_point(client):
    """The schema's `integer` is any whole JSON number: minute 1.0 is minute 1, and yuan may
    be written without one."""
    plan_id = _plan(client)
    answer = _post(client, plan_id, {**minute_body(0), "organic_gmv": 300},
                   {**minute_body(1), "minute": 1.0})
    assert answer["accepted"] == [0, 1]
    assert _post(client, plan_id, {**minute_body(2), "minute": 2.5}, status=422)["field"] == \
        "minutes[0].minute"


def test_nan_and_infinity_are_422(client):
    plan_id = _plan(client)
    for value in ("NaN", "Infinity", "1e999"):
        text = ('{"minutes": [{"minute": 0, "spend": {"fans": VALUE}, "paid_gmv": {}, '
                '"organic_gmv": 1}]}').replace("VALUE", value)
        response = client.post(f"/v1/plans/{plan_id}/actuals", content=text,
                               headers={"content-type": "application/json"})
        assert check(response, 422)["field"] == "minutes[0].spend.fans"


def test_a_body_too_deeply_nested_to_parse_is_422_on_the_body(client):
    """It was a 400 ("There was an error parsing the body"), which the schema does not list
    and the README calls 422."""
    plan_id = _plan(client)
    text = '{"minutes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(f"/v1/plans/{plan_id}/actuals", content=text,
                           headers={"content-type": "application/json"})
    error = check(response, 422)
    assert error["field"] == "body" and "could not be read as JSON" in error["detail"]


def test_last_minute_completes_the_session(client):
    plan_id = _plan(client)
    minutes = [minute_body(t) for t in range(240)]
    answer = _post(client, plan_id, *minutes)
    assert answer["minutes_posted"] == 240 and answer["revision"]["status"] == "complete"
    assert answer["revision"]["allocation"] == []
    assert answer["revision"]["totals"]["spent"] == pytest.approx(240 * 60.0)
    assert _post(client, plan_id, minute_body(239))["duplicates"] == [239]


def _fallback_server(settings: Settings, planner: FakePlanner) -> LiveServer:
    return LiveServer(Settings(**{**settings.__dict__, "replan_time_budget": 0.5}), planner)


@pytest.mark.parametrize(("planner", "reason"), [
    (FakePlanner(delay=3.0), "timeout"),
    (FakePlanner(infeasible_from=1), "infeasible"),
    (FakePlanner(fail_from=1), "error"),
])
def test_replan_that_cannot_finish_falls_back_to_the_last_plan_scaled(app_settings, planner,
                                                                       reason):
    with _fallback_server(app_settings, planner) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        plan_id = _plan(client)
        first = check(client.get(f"/v1/plans/{plan_id}/revisions/0"))
        big = {p: 2000.0 for p in PACKAGES}  # far more than planned: the rest must shrink
        answer = _post(client, plan_id, minute_body(0, spend=big))
        revision = answer["revision"]
        assert revision["status"] == "fallback" and revision["fallback"]["reason"] == reason
        assert "scaled" in revision["fallback"]["message"]
        if reason == "timeout":  # named the planner's time_limit, which the server overrides
            assert "--replan-budget-ms, 500 ms" in revision["fallback"]["message"]
        totals = revision["totals"]
        assert totals["remaining_budget"] == pytest.approx(80000 - 12000)
        assert totals["planned_remaining_spend"] == pytest.approx(68000, rel=1e-9)
        old = np.array([[m["spend"][p] for p in PACKAGES] for m in first["allocation"][1:]])
        new = np.array([[m["spend"][p] for p in PACKAGES] for m in revision["allocation"]])
        np.testing.assert_allclose(new, old * 68000 / old.sum())  # the same shape, scaled
        allocation = check(client.get(f"/v1/plans/{plan_id}/allocation/1"))
        assert allocation["fallback"]["reason"] == reason
        assert allocation["budget_shadow_price"] is None  # the last plan's is not this one's
        metrics = client.get("/metrics").text
        assert f'spendplan_replan_fallbacks_total{{reason="{reason}"}} 1.0' in metrics


def test_a_replan_is_told_to_stop_in_time_for_the_fallback_answer(app_settings):
    """The budget was counted from when the solver thread started and the solve ran on past
    it, so answers came 30-100 ms after the budget. The re-plan is now told to stop at the
    post's start plus the budget less what the fallback answer takes (`ANSWER_SECONDS`)."""
    planner = FakePlanner(delay=1.0)
    with _fallback_server(app_settings, planner) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        plan_id = _plan(client)
        asked = time.perf_counter()
        answer = _post(client, plan_id, minute_body(0))
    assert answer["revision"]["fallback"]["reason"] == "timeout"
    started, stop = planner.stops[0]
    assert asked < started < stop <= started + 0.5 - ANSWER_SECONDS
