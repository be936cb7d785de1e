"""Helpers of the API tests: a fake planner, live servers on loopback, demo requests.

Servers listen on 127.0.0.1 only. `LiveServer` runs uvicorn in a thread of the test process
(so a fake planner can be injected); `ServerProcess` runs `python -m optimizer.api.server` (or
`serve_fake.py`) as a real separate process, for restart and whole-session tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn

from optimizer.api import Settings, create_app
from optimizer.api.planning import Actuals, Limits, Planner, Solved

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PACKAGES = ["fans", "lookalike", "competitor", "interest", "retarget", "auto"]
LOOPBACK = "127.0.0.1"


# -- a fake planner -----------------------------------------------------------------------
@dataclass(frozen=True)
class FakeProblem:
    config: Any
    response: Any
    time_limit: float


class FakePlanner(Planner):
    """Even pacing: the budget left spread evenly over the minutes left and the packages,
    capped per package. `delay` seconds per re-plan; `infeasible_from` minute on, re-plans say
    infeasible; `fail_from` minute on, re-plans raise."""

    def __init__(self, delay: float = 0.0, infeasible_from: int | None = None,
                 fail_from: int | None = None) -> None:
        self.delay = delay
        self.infeasible_from = infeasible_from
        self.fail_from = fail_from
        self.replans = 0
        self.stops: list[tuple[float, float | None]] = []  # each re-plan's (start, stop_at)

    def problem(self, campaign, response, time_limit):
        return FakeProblem(campaign.config, response, time_limit)

    def solve(self, problem) -> Solved:
        return self._even(problem, Actuals.empty(len(problem.response.packages)))

    def replanner(self, problem, replan_time_limit):
        return problem

    def replan(self, replanner, actuals: Actuals, stop_at: float | None = None) -> Solved:
        self.replans += 1
        self.stops.append((time.perf_counter(), stop_at))
        time.sleep(self.delay)
        if self.fail_from is not None and actuals.minute >= self.fail_from:
            raise RuntimeError("the fake planner fails on purpose")
        solved = self._even(replanner, actuals)
        if self.infeasible_from is not None and actuals.minute >= self.infeasible_from:
            return Solved(**{**solved.__dict__, "status": "infeasible",
                             "message": "paid ROI floor 2.0 cannot be met (best 1.7)"})
        return solved

    @staticmethod
    def _even(problem: FakeProblem, actuals: Actuals) -> Solved:
        response, config = problem.response, problem.config
        T, P, m = response.minutes, len(response.packages), actuals.minute
        left = max(config.budget - actuals.spend.sum(), 0.0)
        caps = Limits.of(config, response.packages).max_spend
        rest = np.minimum(np.full((T - m, P), left / max(T - m, 1) / P), caps)
        spend = np.vstack([actuals.spend, rest])
        paid = np.vstack([actuals.paid_gmv, response.paid_gmv(spend)[m:]])
        organic = np.concatenate([actuals.organic_gmv, response.organic_gmv(spend)[m:]])
        return Solved(status="optimal", from_minute=m, spend=spend, paid_gmv=paid,
                      organic_gmv=organic, marginal_roi=np.full((T, P), 2.0),
                      marginal_paid_roi=np.full((T, P), 1.5), budget_price=0.5,
                      solve_seconds=0.001)


# -- servers --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class LiveServer:
    """uvicorn serving `create_app(settings, planner)` in a thread, on 127.0.0.1."""

    def __init__(self, settings: Settings, planner: Planner | None = None) -> None:
        self.app = create_app(settings, planner)
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.url = f"http://{LOOPBACK}:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


class ServerProcess:
    """The service as its own process on 127.0.0.1 (`fake=True`: with the fake planner)."""

    def __init__(self, db_url: str, data_dir: Path, *, fake: bool = False,
                 replan_budget_ms: float = 500, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        script = [str(HERE / "serve_fake.py")] if fake else ["-m", "optimizer.api.server"]
        self.args = [sys.executable, *script, "--host", LOOPBACK, "--port", str(self.port),
                     "--db", db_url, "--data-dir", str(data_dir), "--log-level", "warning",
                     "--replan-budget-ms", str(replan_budget_ms)]
        self.process: subprocess.Popen | None = None
        # the server's output goes to a file: an unread pipe fills up and blocks the server
        self.log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open until stop
            "w+", prefix=f"spendplan-server-{self.port}-", suffix=".log", delete=False)

    def log(self) -> str:
        """Everything the server process wrote to stdout and stderr so far."""
        return Path(self.log_file.name).read_text(errors="replace")

    def start(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(self.args, cwd=REPO, env=env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/v1/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not become ready within 60 s")

    def kill(self) -> None:
        """Stop it hard (SIGKILL), as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """Stop it gracefully (SIGTERM)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        """Stop it and remove its log, printing the log's tail first (pytest shows a test's
        captured output when it fails)."""
        self.stop()
        print(f"--- server log ({self.url}) ---\n{self.log()[-20000:]}")
        self.log_file.close()
        Path(self.log_file.name).unlink(missing_ok=True)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()


# -- data -------------------------------------------------------------------------------
SESSION = {"start": "2026-11-16 19:00", "end": "2026-11-16 23:00", "slot_minutes": 1}


def make_data_dir(folder: Path) -> Path:
    """A service data folder: 6 simulated sessions of the default scenario (2026-11-10..15) in
    `history/`, and the model fitted on them in `models/sim.json` (found by fingerprint too)."""
    from optimizer import pipeline
    from optimizer.curves import save_model, to_artifact
    from optimizer.data import CampaignConfig, load_history
    from optimizer.sim import Scenario, write_simulation

    write_simulation(Scenario.builtin("default"), 6, 3, folder / "history")
    config = CampaignConfig.from_dict(demo_config(), folder)
    history, report = load_history(config)
    campaign = pipeline.Campaign(config=config, history=history, report=report)
    save_model(to_artifact(pipeline.fit_campaign(campaign)), folder / "models" / "sim.json")
    return folder


# -- requests -----------------------------------------------------------------------------
def replanned_overspent(planner: Planner, campaign, response, spend: np.ndarray,
                        minutes: int = 10) -> tuple[Actuals, Solved]:
    """Re-plan after the first `minutes` of `spend` (T, P) were spent half again over, their
    GMV as `response` expected of the plan: (the actuals, the re-plan)."""
    replanner = planner.replanner(planner.problem(campaign, response, 60), 5)
    actuals = Actuals(spend[:minutes] * 1.5, response.paid_gmv(spend)[:minutes],
                      response.organic_gmv(spend)[:minutes])
    return actuals, planner.replan(replanner, actuals)


def demo_config(**changes: Any) -> dict:
    """configs/demo.yaml as JSON for the session after the simulated history (paths relative
    to the data folder)."""
    config = {
        "room_id": "demo_room",
        "history": {"spend": "history/spend.csv", "room": "history/room.csv"},
        "session": dict(SESSION),
        "budget": 80000, "objective": "max_gmv", "gmv_target": None,
        "roi": {"paid_min": 2.0, "overall_min": None}, "margin": 0.3,
        "packages": {"retarget": {"max_spend_per_minute": 150}},
    }
    config.update(changes)
    return config


def create_body(**changes: Any) -> dict:
    return {"config": demo_config(**changes), "model": {"path": "models/sim.json"}}


def minute_body(minute: int, spend: dict | None = None, paid: dict | None = None,
                organic: float = 300.0) -> dict:
    """One minute's actuals (defaults: 10 yuan and 25 yuan paid GMV per package)."""
    return {"minute": minute, "spend": spend or {p: 10.0 for p in PACKAGES},
            "paid_gmv": paid or {p: 25.0 for p in PACKAGES}, "organic_gmv": organic}


def check(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:2000])
    return response.json()
