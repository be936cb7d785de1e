"""A restarted server has lost nothing: kill the process mid-session (SIGKILL, as a crash) or
stop it (SIGTERM), start it again on the same database, and carry on (real planner)."""

from __future__ import annotations

import time

import httpx
import pytest
from api_support import ServerProcess, check, create_body, minute_body

MINUTES = 20


def _snapshot(client: httpx.Client, plan_id: str) -> dict:
    plan = check(client.get(f"/v1/plans/{plan_id}"))
    del plan["replanner_ready"]  # rebuilt after a restart
    return {"plan": plan,
            "revisions": check(client.get(f"/v1/plans/{plan_id}/revisions")),
            "last": check(client.get(f"/v1/plans/{plan_id}/revisions/{MINUTES}")),
            "actuals": check(client.get(f"/v1/plans/{plan_id}/actuals")),
            "allocation": check(client.get(f"/v1/plans/{plan_id}/allocation/{MINUTES + 5}"))}


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["kill", "stop"])
def test_restart_loses_nothing_and_replans_on(db_url, data_dir, stop):
    server = ServerProcess(db_url, data_dir).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            plan_id = check(client.post("/v1/plans", json=create_body()), 201)["id"]
            for minute in range(MINUTES):
                check(client.post(f"/v1/plans/{plan_id}/actuals",
                                  json={"minutes": [minute_body(minute)]}))
            before = _snapshot(client, plan_id)
        getattr(server, stop)()
        server.start()  # same port, same database
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert _snapshot(client, plan_id) == before
            deadline = time.monotonic() + 60  # rebuilt in the background after the restart
            while not check(client.get(f"/v1/plans/{plan_id}"))["replanner_ready"]:
                assert time.monotonic() < deadline, "the re-planner was not rebuilt in 60 s"
                time.sleep(0.2)
            again = check(client.post(f"/v1/plans/{plan_id}/actuals",
                                      json={"minutes": [minute_body(MINUTES - 1)]}))
            assert again["duplicates"] == [MINUTES - 1] and not again["replanned"]
            on = check(client.post(f"/v1/plans/{plan_id}/actuals",
                                   json={"minutes": [minute_body(MINUTES)]}))
            assert on["replanned"] and on["revision"]["number"] == MINUTES + 1
            assert on["revision"]["status"] in ("optimal", "feasible", "fallback")
            assert on["revision"]["totals"]["spent"] == pytest.approx((MINUTES + 1) * 60.0)
        assert "Traceback" not in server.log()  # no re-plan failed, none was lost to an error
    finally:
        server.close()
