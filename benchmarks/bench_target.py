"""`min_spend` plans to a GMV target against random truths (a quality benchmark).

For each random truth (`optimizer.sim.random_scenario(n)`, 21 sessions of history fitted as in
`bench_random_truths.py`), the session's target is a share (`--share`, default 0.97) of the
total GMV the oracle makes with the history's mean session spend as its budget; the plan
spends the least that reaches the target in expectation, within that budget and the paid ROI
floor of 2, as `spendplan plan` plans it (`pipeline.trusted_reach` raising the spend history
saw where the curves' lower bounds pay, or as far as a target out of reach needs). Valued
under the truth's expectation against the oracle, the same program on the true curves at any
spend:

- the plan's status, and that of the plan held within the spend history saw;
- its spend as a share of the oracle's, minus 1;
- its total GMV under truth as a share of the target, minus 1 (the target holds in
  expectation on the fitted curves, not under the truth);
- the largest multiple of history's reach it plans at.

Written to `benchmarks/results/target.txt` (`target_shareS.txt` for another share).

Run: `.venv/bin/python benchmarks/bench_target.py [--truths N] [--share S]` (about 10 s a
truth on one core; the truths run on every core).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_random_truths import FLOOR, fitted, oracle, write_results  # noqa: E402

from optimizer.pipeline import trusted_reach  # noqa: E402
from optimizer.planner import solve  # noqa: E402
from optimizer.planner.forecast import Forecast  # noqa: E402
from optimizer.sim import random_scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "target.txt"


def measure(number: int, share: float) -> dict:
    """One truth's min_spend plan to `share` of the max_gmv oracle's GMV (module docstring)."""
    sim, _, model, history_reach, problem = fitted(random_scenario(number), number)
    truth = sim.response()
    target = share * oracle(problem, truth).total_gmv
    held = replace(history_reach, objective="min_spend", gmv_target=target)
    planned = trusted_reach(held, model, sim.packages)
    plan = solve(planned)
    row = {"truth": number, "status": plan.status, "held": solve(held.continuous()).status,
           "reach": 1.0 if planned.reach_multiples is None else planned.reach_multiples.max()}
    if plan.status != "infeasible":
        valued, best = Forecast.of(truth, plan.spend), oracle(held, truth)
        row |= {"spend": valued.total_spend / best.total_spend - 1,
                "reached": valued.total_gmv / target - 1}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=20, help="how many random truths")
    parser.add_argument("--share", type=float, default=0.97,
                        help="the target as a share of the max_gmv oracle's GMV (default 0.97)")
    args = parser.parse_args()
    numbers = range(1, args.truths + 1)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = list(pool.map(measure, numbers, [args.share] * args.truths))
    flag = "" if args.share == 0.97 else f" --share {args.share:g}"
    lines = [f"bench_target --truths {args.truths}{flag}  {datetime.now():%Y-%m-%d %H:%M:%S}  "
             f"python {platform.python_version()}",
             f"21 sessions of history per truth; min_spend to {args.share:g} x the max_gmv "
             f"oracle's GMV at the history's mean session spend; paid ROI floor {FLOOR:g}; "
             "spend and GMV under truth", "",
             f"{'truth':<7}{'status':<12}{'held at reach':<15}{'spend vs oracle':<17}"
             f"{'GMV vs target':<15}reach multiple"]
    for r in rows:
        planned = "spend" in r
        lines.append(f"{r['truth']:<7}{r['status']:<12}{r['held']:<15}"
                     + (f"{r['spend']:<+17.1%}{r['reached']:<+15.1%}" if planned
                        else f"{'-':<17}{'-':<15}") + f"{r['reach']:g}")
    planned = [r for r in rows if "spend" in r]
    lines += ["",
              f"infeasible: {sum(r['status'] == 'infeasible' for r in rows)} of {args.truths} "
              f"(held within the spend history saw: "
              f"{sum(r['held'] == 'infeasible' for r in rows)})"]
    if planned:
        spend, reached = (np.array([r[k] for r in planned]) for k in ("spend", "reached"))
        lines += [f"spend vs the oracle's: median {np.median(spend):+.1%}, mean "
                  f"{np.mean(spend):+.1%}, most {np.max(spend):+.1%}",
                  f"GMV under truth vs the target: median {np.median(reached):+.1%}, worst "
                  f"{np.min(reached):+.1%}; {sum(reached >= 0)} of {len(planned)} reach it"]
    write_results(RESULTS if not flag else RESULTS.with_stem(f"target_share{args.share:g}"),
                  lines)


if __name__ == "__main__":
    main()
