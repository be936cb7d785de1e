"""A scripted bidder: a reference client of the API that runs a simulated session over HTTP.

`HttpBidder` is a closed-loop policy (`optimizer.sim.closed_loop.Policy`): each minute it posts
the previous minute's actuals (spend, paid GMV per package, organic GMV, yuan) and spends what
the answer says for this minute. `DirectBidder` makes the same decisions in this process
through the same planner adapter, without HTTP, for comparison. `run_http_session` runs a whole
session against a server.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from optimizer.api.campaign import Campaign
from optimizer.api.planning import Actuals, Planner
from optimizer.sim.closed_loop import Observed, Outcome, metrics, run_session
from optimizer.sim.simulator import LiveRoomSimulator


def minute_actuals(minute: int, packages: Sequence[str], observed: Observed) -> dict:
    """Minute `minute` of what was observed, as the API's actuals body item (yuan)."""
    return {"minute": minute,
            "spend": dict(zip(packages, observed.spend[minute].tolist(), strict=True)),
            "paid_gmv": dict(zip(packages, observed.paid_gmv[minute].tolist(), strict=True)),
            "organic_gmv": float(observed.organic_gmv[minute])}


@dataclass
class HttpBidder:
    """Follows a plan of the API minute by minute (see module docstring).

    packages: the simulator's package order (the columns of what it observes).
    post_seconds: wall time of each actuals post (a re-plan over HTTP), seconds.
    fallbacks: (minute, reason) of each minute whose allocation came from a fallback.
    """

    client: httpx.Client
    plan_id: str
    packages: Sequence[str]
    name: str = "http bidder"
    post_seconds: list[float] = field(default_factory=list)
    fallbacks: list[tuple[int, str]] = field(default_factory=list)

    def spend(self, minute: int, observed: Observed) -> np.ndarray:
        if minute == 0:
            answer = self._ok(self.client.get(f"/v1/plans/{self.plan_id}/allocation/0"))
            plan = answer["plan"]
        else:
            revision = self.post(minute - 1, observed)["revision"]
            plan = revision["allocation"][0]
            if revision["fallback"]:
                self.fallbacks.append((minute, revision["fallback"]["reason"]))
        assert plan["minute"] == minute
        return np.array([plan["spend"][p] for p in self.packages])

    def post(self, minute: int, observed: Observed) -> dict:
        """Post minute `minute`'s actuals; the answer (allocation of the next minute only)."""
        body = {"minutes": [minute_actuals(minute, self.packages, observed)]}
        started = time.perf_counter()
        response = self.client.post(f"/v1/plans/{self.plan_id}/actuals", json=body,
                                    params={"horizon": 1})
        self.post_seconds.append(time.perf_counter() - started)
        return self._ok(response)

    @staticmethod
    def _ok(response: httpx.Response) -> dict:
        if response.status_code != 200:
            raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                               f"{response.status_code} {response.text[:500]}")
        return response.json()


class DirectBidder:
    """The server's decisions made in this process: revision 0 from `Planner.solve`, then a
    re-plan each minute from what was observed (no time budget, no HTTP)."""

    name = "direct bidder"

    def __init__(self, campaign: Campaign, packages: Sequence[str], planner: Planner,
                 solve_limit: float, replan_limit: float) -> None:
        self.response = campaign.response()
        self.columns = [campaign.packages.index(p) for p in packages]  # ours -> plan's
        self.planner = planner
        problem = planner.problem(campaign, self.response, solve_limit)
        self.first = planner.solve(problem)
        self.replanner = planner.replanner(problem, replan_limit)

    def spend(self, minute: int, observed: Observed) -> np.ndarray:
        if minute == 0:
            return self.first.spend[0][self.columns]
        back = np.argsort(self.columns)  # plan's order from ours
        actuals = Actuals(observed.spend[:, back], observed.paid_gmv[:, back],
                          observed.organic_gmv)
        solved = self.planner.replan(self.replanner, actuals)
        return solved.spend[minute][self.columns]


@dataclass(frozen=True)
class HttpSession:
    """A whole session run over HTTP: what happened, its metrics and the final plan."""

    outcome: Outcome
    metrics: dict[str, float]
    bidder: HttpBidder
    plan: dict[str, Any]


def run_http_session(client: httpx.Client, create: dict, sim: LiveRoomSimulator, seed: int
                     ) -> HttpSession:
    """Create a plan from `create` (a POST /v1/plans body), bid through the simulated session
    of `seed` following the API, post the last minute, and report."""
    created = client.post("/v1/plans", json=create)
    if created.status_code != 201:
        raise RuntimeError(f"creating the plan failed: {created.status_code} "
                           f"{created.text[:500]}")
    plan_id = created.json()["id"]
    bidder = HttpBidder(client, plan_id, sim.packages)
    outcome = run_session(sim, bidder, seed)
    observed = Observed(outcome.spend, outcome.paid_gmv, outcome.organic_gmv)
    bidder.post(len(outcome.organic_gmv) - 1, observed)
    plan = HttpBidder._ok(client.get(f"/v1/plans/{plan_id}"))
    config = create["config"]
    paid_min = (config.get("roi") or {}).get("paid_min")
    return HttpSession(outcome, metrics(outcome, float(config["budget"]), paid_min), bidder,
                       plan)
