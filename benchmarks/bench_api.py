"""The bidding-service API over real HTTP: re-plan latency through a whole session, and
sustained allocation reads.

Starts `python -m optimizer.api.server` on 127.0.0.1 (a fresh SQLite file, or `--db URL`), with
the project folder as its data folder, and plans `configs/demo.yaml` (6 packages x 240
minutes; the demo history's fit is reused by fingerprint, or fitted once). Then:

1. a scripted bidder (`optimizer.api.bidder`) runs the session on the simulator's default room
   (seed `--seed`): each minute it posts the minute's actuals, which re-plans the rest of the
   session, and spends what the answer says. Reported: the latency of those posts (p50, p90,
   p99, max; goal p99 < 300 ms on 2 cores), fallbacks, and the session's spend and paid ROI
   against the budget and the floor, beside the same decisions made in-process;
2. `--readers` threads read `GET /v1/plans/{id}/allocation/{minute}` for `--seconds` seconds
   (keep-alive connections): requests per second (goal >= 200) and their latency;
3. both at once: a second session while the readers read, to see each under the other's load.

Results go to `benchmarks/results/api.txt` (with `--db`: `api-other-db.txt`).

Run: `.venv/bin/python benchmarks/bench_api.py [--db URL] [--seed N] [--readers N] [--seconds S]`
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.api.bidder import DirectBidder, run_http_session  # noqa: E402
from optimizer.api.campaign import from_history, parse_config  # noqa: E402
from optimizer.api.planning import Planner  # noqa: E402
from optimizer.data.yaml_file import read_yaml  # noqa: E402
from optimizer.sim import LiveRoomSimulator, Scenario  # noqa: E402
from optimizer.sim.closed_loop import metrics, run_session  # noqa: E402

CONFIG = ROOT / "configs" / "demo.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "api.txt"
GOALS = {"replan_p99_ms": 300.0, "reads_per_s": 200.0}


def demo_config() -> dict:
    """configs/demo.yaml as a request's config, history paths relative to the project."""
    config = read_yaml(CONFIG)
    for key, path in config["history"].items():
        config["history"][key] = os.path.relpath((CONFIG.parent / path).resolve(), ROOT)
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db_url: str, port: int, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPENDPLAN_CACHE": str(cache)}
    process = subprocess.Popen(
        [sys.executable, "-m", "optimizer.api.server", "--host", "127.0.0.1", "--port",
         str(port), "--db", db_url, "--data-dir", str(ROOT), "--log-level", "warning"],
        cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not become ready in 120 s")


def percentiles(values_s: list[float]) -> dict[str, float]:
    ms = np.asarray(values_s) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p90": float(np.percentile(ms, 90)),
            "p99": float(np.percentile(ms, 99)), "max": float(ms.max())}


class Readers:
    """`count` threads reading random minutes' allocations until stopped (keep-alive)."""

    def __init__(self, url: str, plan_id: str, count: int) -> None:
        self.url, self.plan_id = url, plan_id
        self.latencies: list[list[float]] = [[] for _ in range(count)]
        self.errors = [0] * count
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(k,)) for k in range(count)]

    def _read(self, k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                path = f"/v1/plans/{self.plan_id}/allocation/{rng.randrange(240)}"
                self.errors[k] += client.get(path).status_code != 200
                self.latencies[k].append(time.perf_counter() - started)

    def run(self, seconds: float | None = None, during=None):
        """Read for `seconds`, or while `during()` runs; (its result, the read statistics)."""
        started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        try:
            result = during() if during is not None else time.sleep(seconds)
        finally:
            self.stop.set()
            for thread in self.threads:
                thread.join()
        elapsed = time.perf_counter() - started
        every = [x for part in self.latencies for x in part]
        return result, {"requests": len(every), "per_s": len(every) / elapsed,
                        "errors": sum(self.errors), "seconds": elapsed, **percentiles(every)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=5, help="simulated session (default 5)")
    parser.add_argument("--readers", type=int, default=4, help="reader threads (default 4)")
    parser.add_argument("--seconds", type=float, default=10.0, help="read load (default 10)")
    parser.add_argument("--no-direct", action="store_true",
                        help="skip the in-process comparison")
    args = parser.parse_args()
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    config = demo_config()
    with tempfile.TemporaryDirectory() as scratch:
        db_url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        port = free_port()
        server = start_server(db_url, port, Path(scratch) / "cache")
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url, timeout=120) as client:
                started = time.perf_counter()
                session = run_http_session(client, {"config": config}, sim, args.seed)
                session_s = time.perf_counter() - started
                plan_id = session.plan["id"]
                _, reads = Readers(url, plan_id, args.readers).run(args.seconds)
                mixed, mixed_reads = Readers(url, plan_id, args.readers).run(
                    during=lambda: run_http_session(client, {"config": config}, sim,
                                                    args.seed))
        finally:
            server.terminate()
            server.wait(timeout=30)
    direct = None
    if not args.no_direct:
        campaign = from_history(parse_config(config, ROOT, history=True), ROOT)
        bidder = DirectBidder(campaign, sim.packages, Planner(), 60.0, 0.4)
        direct = metrics(run_session(sim, bidder, args.seed), config["budget"],
                         config["roi"]["paid_min"])
    report(args, db_url if args.db else "sqlite (fresh file)", session, session_s, reads,
           mixed, mixed_reads, direct)


def report(args, db: str, session, session_s: float, reads: dict, mixed, mixed_reads: dict,
           direct) -> None:
    posts = session.bidder.post_seconds[:-1]  # the last post completes the session: no re-plan
    lat = percentiles(posts)
    mixed_lat = percentiles(mixed.bidder.post_seconds[:-1])
    got = session.metrics
    p99_goal, reads_goal = GOALS["replan_p99_ms"], GOALS["reads_per_s"]
    lines = [
        f"bench_api  {datetime.now():%Y-%m-%d %H:%M:%S}  python {platform.python_version()}  "
        f"{platform.machine()}  cpus {os.cpu_count()}",
        f"server: uvicorn, 1 process, 127.0.0.1; database: {db}; plan: configs/demo.yaml "
        f"(6 packages x 240 minutes, budget {session.plan['budget']:.0f} yuan)",
        f"session: default scenario, seed {args.seed}; {len(posts)} re-planning posts in "
        f"{session_s:.1f} s (plan creation included)",
        "",
        "re-plan over HTTP (POST actuals -> new revision)     ms",
        *(f"  {name:<5} {value:9.1f}" for name, value in lat.items()),
        f"  goal p99 < {p99_goal:.0f} ms: ratio {lat['p99'] / p99_goal:.2f} "
        f"({'met' if lat['p99'] < p99_goal else 'NOT met'})",
        f"  fallbacks (minute, reason): {len(session.bidder.fallbacks)} "
        f"{session.bidder.fallbacks[:10]}",
        "",
        f"allocation reads: {args.readers} keep-alive clients for {args.seconds:.0f} s",
        f"  {reads['requests']} requests, {reads['per_s']:.0f} per s, {reads['errors']} errors; "
        f"p50 {reads['p50']:.1f} ms, p99 {reads['p99']:.1f} ms",
        f"  goal >= {reads_goal:.0f} per s: ratio {reads_goal / reads['per_s']:.2f} "
        f"({'met' if reads['per_s'] >= reads_goal else 'NOT met'})",
        "",
        f"both at once: a second session while {args.readers} clients read allocations",
        f"  re-plan p50 {mixed_lat['p50']:.1f} ms, p99 {mixed_lat['p99']:.1f} ms, max "
        f"{mixed_lat['max']:.1f} ms; fallbacks (minute, reason) {mixed.bidder.fallbacks[:10]}",
        f"  reads {mixed_reads['per_s']:.0f} per s ({mixed_reads['requests']} in "
        f"{mixed_reads['seconds']:.1f} s, {mixed_reads['errors']} errors), p50 "
        f"{mixed_reads['p50']:.1f} ms, p99 {mixed_reads['p99']:.1f} ms",
        "",
        "session outcome          over HTTP   in-process (same decisions, no HTTP)",
    ]
    for key in ("spend", "paid_gmv", "organic_gmv", "total_gmv", "paid_roi", "budget_error",
                "paid_roi_miss"):
        other = "" if direct is None else f"{direct[key]:14.4f}"
        lines.append(f"  {key:<20} {got[key]:14.4f} {other}")
    text = "\n".join(lines) + "\n"
    print(text)
    out = RESULTS if not args.db else RESULTS.with_name("api-other-db.txt")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
