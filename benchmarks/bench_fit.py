"""Speed of loading the demo history and fitting its response curves.

Loads `data/demo/spend.csv` and `data/demo/room.csv` with `optimizer.data.load_tables` (when
`data/demo` is missing, an equivalent history is simulated: the default scenario, 21 days, into
a temporary folder) and fits `ResponseModel` on it, in this process (after the first run, scipy
and statsmodels are loaded) with the packages fitted one after another (`fit`) and in one worker
process per core (`fit xN`, `ResponseModel(n_jobs=N)`, as the CLI fits), and as `new xN` in a
fresh interpreter each run (a user's first fit, their imports within it). Each step runs 5
times; the medians are printed with their ratio to the goal (load < 2 s, fit < 10 s; a ratio
below 1 meets it) and written to `benchmarks/results/fit.txt`, under the seconds a fixed pure
Python loop took (`reference_seconds`: machines of this kind have run it 3 times slower on
some days than on others, and every time here with them).

Then, once each, fits of longer histories (the default scenario simulated for `LENGTHS`
sessions) in this process and in the worker processes, and their ratio.

Run: `.venv/bin/python benchmarks/bench_fit.py [--runs N]`
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import run_times, timed  # noqa: E402

from optimizer.curves import ResponseModel  # noqa: E402
from optimizer.data import History, load_tables  # noqa: E402
from optimizer.sim import LiveRoomSimulator, Scenario  # noqa: E402

DEMO = ROOT / "data" / "demo"
RESULTS = ROOT / "benchmarks" / "results" / "fit.txt"
LENGTHS = (21, 42, 63)  # sessions of the longer histories
WORKERS = os.cpu_count() or 1
FRESH_FIT = """
import sys, time
from optimizer.curves import ResponseModel
from optimizer.data import load_tables
if __name__ == "__main__":
    panel = load_tables(sys.argv[1], sys.argv[2])[0].panel()
    start = time.perf_counter()
    ResponseModel(n_jobs=int(sys.argv[3])).fit(panel)
    print(time.perf_counter() - start)
"""


def reference_seconds() -> float:
    """Seconds of 10 million additions in a pure Python loop: how fast this machine is today."""
    def loop() -> int:
        total = 0
        for i in range(10_000_000):
            total += i
        return total

    return timed(loop, 3)[0]


def fresh_fit_seconds(spend: Path, room: Path, workers: int) -> float:
    """Seconds of a fit in a new interpreter with `workers` processes (the history loaded
    first, not timed)."""
    done = subprocess.run([sys.executable, "-c", FRESH_FIT, str(spend), str(room),
                           str(workers)], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def length_fit_seconds(sessions: int) -> tuple[float, float]:
    """Seconds of one fit of `sessions` simulated sessions of the default scenario, here and
    in `WORKERS` worker processes, on the same history."""
    scenario = Scenario.builtin("default")
    simulated = LiveRoomSimulator(scenario).history(sessions, seed=3)
    panel = History.from_frames(simulated.spend, simulated.room)[0].panel(list(scenario.packages))
    return tuple(timed(lambda n=n: ResponseModel(n_jobs=n).fit(panel), 1)[0]
                 for n in (1, WORKERS))


def demo_paths(scratch: Path) -> tuple[Path, Path, str]:
    """The demo history's (spend, room) files, simulated into `scratch` if not shipped."""
    spend, room = DEMO / "spend.csv", DEMO / "room.csv"
    if spend.is_file() and room.is_file():
        return spend, room, str(DEMO.relative_to(ROOT))
    from optimizer.sim import Scenario, write_simulation

    paths = write_simulation(Scenario.builtin("default"), days=21, seed=20261201, out_dir=scratch)
    return paths["spend"], paths["room"], "simulated: default scenario, 21 days (no data/demo)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per step (default 5)")
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as scratch:
        spend_path, room_path, source = demo_paths(Path(scratch))
        load_seconds, (history, _) = run_times(lambda: load_tables(spend_path, room_path), runs)
        panel = history.panel()
        fit_seconds, model = run_times(lambda: ResponseModel().fit(panel), runs)
        pool_seconds, _ = run_times(lambda: ResponseModel(n_jobs=WORKERS).fit(panel), runs)
        new_seconds = [fresh_fit_seconds(spend_path, room_path, WORKERS) for _ in range(runs)]

    lines = [
        f"bench_fit  {datetime.now():%Y-%m-%d %H:%M:%S}  python {platform.python_version()}  "
        f"{platform.machine()}  cpus {os.cpu_count()}",
        f"history: {source}: {history.sessions.shape[0]} sessions, {len(history.room)} live "
        f"minutes, {len(history.spend)} spend rows, {len(history.packages)} packages",
        f"runs per step: {runs} (median; ratio = median / goal, below 1 meets the goal)",
        f"reference: 10 million additions in a Python loop took {reference_seconds():.2f} s",
        "",
        f"{'step':<9}{'median s':>7}{'min s':>9}{'max s':>9}{'goal s':>8}{'ratio':>8}",
    ]
    for name, seconds, goal in (("load", load_seconds, 2.0), ("fit", fit_seconds, 10.0),
                                (f"fit x{WORKERS}", pool_seconds, 10.0),
                                (f"new x{WORKERS}", new_seconds, 10.0)):
        median = statistics.median(seconds)
        lines.append(f"{name:<9}{median:>7.3f}{min(seconds):>9.3f}{max(seconds):>9.3f}"
                     f"{goal:>8.1f}{median / goal:>8.2f}")
    families = ", ".join(f"{p}={c.family}" for p, c in model.paid_.items())
    lines += ["", f"fitted: {families}", "", "longer histories (default scenario, 240 min x 6 "
              "packages), one fit each:", f"{'sessions':<9}{'here s':>10}"
              f"{f'x{WORKERS} s':>9}{'ratio':>8}"]
    for sessions in LENGTHS:
        here, pooled = length_fit_seconds(sessions)
        lines.append(f"{sessions:<9}{here:>10.2f}{pooled:>9.2f}{pooled / here:>8.2f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
