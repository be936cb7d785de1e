"""What levers organic GMV, spend or paid GMV: the fit's choice on random truths (a quality
benchmark).

`FitOptions.organic_driver` "auto" fits the organic uplift levered by each package's spend and
by its fitted paid GMV, and keeps the one with the lower held-out quasi-deviance. Here each
truth is `random_scenario(n)` (uplift driven by spend) or `random_scenario(n,
paid_driven=True)` (by paid GMV, the same room otherwise); 21 sessions of history (seed n) are
fitted three ways: spend only, paid GMV only and auto.

Measured per fit: the organic session total it forecasts against the truth's expectation under
24 steady schedules (package mixes drawn from a Dirichlet(0.7) with seed 0, at 0.7, 1 and 1.5
times history's mean spend per minute), as the mean absolute relative error. Printed per truth:
the three errors, the driver auto chose and the held-out margin ((paid - spend) / spend
deviance; below 0 paid GMV wins). Then the means. Written to
`benchmarks/results/organic_driver.txt`.

Run: `.venv/bin/python benchmarks/bench_organic_driver.py [--first N] [--truths M] [--workers W]`
(about 15 s a truth and kind on one core: three fits).
"""

from __future__ import annotations

import argparse
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from itertools import product
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_random_truths import DAYS, write_results  # noqa: E402

from optimizer.curves import FitOptions, ResponseModel, SessionResponse  # noqa: E402
from optimizer.data import History, Panel  # noqa: E402
from optimizer.sim import LiveRoomSimulator, random_scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "organic_driver.txt"
DRIVERS = ("spend", "paid", "auto")
LEVELS = (0.7, 1.0, 1.5)
MIXES = 8  # per level


class Row(NamedTuple):
    kind: str  # what drives the truth's uplift
    number: int
    errors: dict[str, float]  # driver option -> mean absolute relative error
    chosen: str
    margin: float


def organic_error(fitted: SessionResponse, truth: SessionResponse, panel: Panel) -> float:
    """Mean absolute relative error of the organic session total (module docstring)."""
    rng = np.random.default_rng(0)
    P = len(truth.packages)
    errors = []
    for level in LEVELS:
        for _ in range(MIXES):
            mix = rng.dirichlet(np.full(P, 0.7)) * P
            spend = np.tile(panel.spend.mean(axis=0) * mix * level, (truth.minutes, 1))
            expected = truth.organic_gmv(spend).sum()
            errors.append(fitted.organic_gmv(spend).sum() / expected - 1.0)
    return float(np.mean(np.abs(errors)))


def measure(kind: str, number: int) -> Row:
    sim = LiveRoomSimulator(random_scenario(number, paid_driven=kind == "paid"))
    simulated = sim.history(DAYS, seed=number)
    panel = History.from_frames(simulated.spend, simulated.room)[0].panel(sim.packages)
    truth = sim.response()
    errors, chosen, margin = {}, "", float("nan")
    for driver in DRIVERS:
        model = ResponseModel(FitOptions(organic_driver=driver)).fit(panel)
        errors[driver] = organic_error(model.response(truth.minutes, sim.packages), truth,
                                       panel)
        if driver == "auto":
            chosen = model.organic_.driver
            scores = {key.split()[1]: value for key, value
                      in model.organic_.diagnostics.holdout_deviance.items()
                      if key.startswith("driver")}
            margin = (scores["paid"] - scores["spend"]) / scores["spend"]
    return Row(kind, number, errors, chosen, margin)


def report(rows: list[Row]) -> list[str]:
    lines = ["truth driven by   spend fit  paid fit   auto       auto chose  margin"]
    for row in rows:
        lines.append(f"{row.number:<6}{row.kind:<12}"
                     + "".join(f"{100 * row.errors[d]:>8.1f}%  " for d in DRIVERS)
                     + f"{row.chosen:<11} {100 * row.margin:+.2f}%")
    for kind in ("spend", "paid", "both"):
        chosen = [r for r in rows if kind in (r.kind, "both")]
        means = [100 * np.mean([r.errors[d] for r in chosen]) for d in DRIVERS]
        right = sum(r.chosen == min(("spend", "paid"), key=r.errors.get) for r in chosen)
        lines.append(f"mean  {kind:<12}" + "".join(f"{m:>8.1f}%  " for m in means)
                     + f"better one chosen in {right} of {len(chosen)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=10, help="how many truths of each kind")
    parser.add_argument("--first", type=int, default=1, help="the first truth's number")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    args = parser.parse_args()
    jobs = list(product(("spend", "paid"), range(args.first, args.first + args.truths)))
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(measure, *zip(*jobs, strict=True)))
    lines = [f"bench_organic_driver --first {args.first} --truths {args.truths}  "
             f"{datetime.now():%Y-%m-%d %H:%M:%S}  python {platform.python_version()}",
             f"{DAYS} sessions of history per truth; mean absolute error of organic session "
             f"totals under {len(LEVELS) * MIXES} steady schedules", "", *report(rows)]
    write_results(RESULTS, lines, args.first, args.truths)


if __name__ == "__main__":
    main()
