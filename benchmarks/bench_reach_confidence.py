"""How confident the raised reach should be: plans at several `REACH_CONFIDENCE` levels.

`pipeline.trusted_reach` raises a package's reach past the spend history saw while the
`1 - confidence` quantile of its marginal ROI over the curve's draws beats the budget's price.
For each random truth (`random_scenario(n)`, as benchmarks/bench_random_truths.py draws and
fits it: 21 sessions of history, seed n, paid ROI >= 2) the history is fitted once and the
session planned at each level; each plan is valued under the truth's expectation against the
oracle (the same program on the true curves at any spend).

Printed: per truth, the plan's total GMV against the oracle's at each level; then per level the
mean, median and worst, how many plans are within 3% of the oracle and how many break the
paid ROI floor under truth. Written to `benchmarks/results/reach_confidence.txt` (another
kind: ``reach_confidence_KIND.txt``; truths from a first past 1: ``..._FIRST-LAST.txt``).

Run: `.venv/bin/python benchmarks/bench_reach_confidence.py [--truths N] [--first N]
[--kind plain|s_shaped|paid_driven] [--levels 0.5,0.6,0.65,0.7,0.75,0.8]` (about 12 s a truth
on one core; the truths run on every core).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_random_truths import DAYS, FLOOR, fitted, oracle, write_results  # noqa: E402

from optimizer.curves.reach import REACH_CONFIDENCE  # noqa: E402
from optimizer.pipeline import trusted_reach  # noqa: E402
from optimizer.planner import solve  # noqa: E402
from optimizer.planner.forecast import Forecast  # noqa: E402
from optimizer.sim import random_scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "reach_confidence.txt"
LEVELS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8)


def measure(number: int, kind: str, levels: tuple[float, ...]) -> list[tuple[float, float]]:
    """Per level of `levels`: the plan's total GMV under truth as a share of the oracle's
    minus 1, and its paid ROI under truth; truth `number` of `kind`."""
    scenario = random_scenario(number, s_shaped=kind == "s_shaped",
                               paid_driven=kind == "paid_driven")
    sim, _, model, history_reach, _ = fitted(scenario, number)
    truth = sim.response()
    best = oracle(history_reach, truth).total_gmv
    out = []
    for level in levels:
        plan = Forecast.of(truth, solve(trusted_reach(history_reach, model, sim.packages,
                                                      level)).spend)
        out.append((plan.total_gmv / best - 1, plan.paid_total / plan.total_spend))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=60, help="how many random truths")
    parser.add_argument("--first", type=int, default=1, help="number of the first truth")
    parser.add_argument("--kind", choices=("plain", "s_shaped", "paid_driven"), default="plain",
                        help="random_scenario's variant")
    parser.add_argument("--levels", default=",".join(f"{v:g}" for v in LEVELS),
                        help="confidence levels, comma-separated")
    args = parser.parse_args()
    levels = tuple(float(v) for v in args.levels.split(","))
    numbers = range(args.first, args.first + args.truths)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = list(pool.map(measure, numbers, [args.kind] * args.truths,
                             [levels] * args.truths))
    loss = np.array([[gmv for gmv, _ in row] for row in rows])
    roi = np.array([[paid for _, paid in row] for row in rows])
    width = 9
    lines = [f"bench_reach_confidence --truths {args.truths} --first {args.first} --kind "
             f"{args.kind}  {datetime.now():%Y-%m-%d %H:%M:%S}  python "
             f"{platform.python_version()}",
             f"{DAYS} sessions of history per truth, one fit; total GMV under truth against the "
             f"oracle at each confidence (the default: {REACH_CONFIDENCE:g}); paid ROI floor "
             f"{FLOOR:g}", "",
             f"{'truth':<7}" + "".join(f"{level:<{width}g}" for level in levels)]
    lines += [f"{n:<7}" + "".join(f"{v:<+{width}.2%}" for v in row)
              for n, row in zip(numbers, loss, strict=True)]
    lines.append("")
    for label, pick in (("mean", np.mean), ("median", np.median), ("worst", np.min)):
        lines.append(f"{label:<7}" + "".join(f"{v:<+{width}.2%}" for v in pick(loss, axis=0)))
    lines.append(f"{'<= 3%':<7}" + "".join(f"{v:<{width}d}" for v in np.sum(loss >= -0.03, 0)))
    lines.append(f"{'floor':<7}" + "".join(f"{v:<{width}d}" for v in np.sum(roi < FLOOR, 0))
                 + "(plans breaking the paid ROI floor under truth)")
    write_results(RESULTS if args.kind == "plain" else
                  RESULTS.with_stem(f"{RESULTS.stem}_{args.kind}"), lines, args.first, args.truths)


if __name__ == "__main__":
    main()
