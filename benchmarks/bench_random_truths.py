"""Plans against random truths that the fit does not assume (a quality benchmark).

The planner's tests value plans under the builtin scenarios, whose truths were written by the
same hands as the fit. Here each truth is the default room with every package redrawn
(seeded): the saturation family among exponential, Hill (shape 0.4-1) and logarithmic, which
the fit does not have; its k 0.5-4 times the package's typical spend; one or two carryover
stages of 0.5-6 minute half-lives (two give a delayed peak, which the fit does not have);
peak sensitivity 0.5-1.5; organic leverage -0.6 to 0.9; GMV scale and the operator's typical
spend each times 0.5-2. The room's orders are Poisson or negative-binomial (dispersion 1.5-5),
its organic carryover 5-30 minutes, and the operator's confounding 0-1.5.

For each truth: 21 sessions of history (seed = the truth's number), `ResponseModel().fit`,
then the session planned as `spendplan plan` plans it (paid ROI >= 2, the budget the history's
mean session spend rounded to 1,000 yuan, within the spend history saw), and valued under the
truth's expectation against:

- the oracle, the same program on the true curves at any spend;
- even pacing of the budget with the history's package mix;
- the same plan without the history's reach (`history_reach: null`).

Printed: per truth, total GMV against the oracle, and the plan's paid ROI under truth; then
the median and worst over truths. Written to `benchmarks/results/random_truths.txt`.

Run: `.venv/bin/python benchmarks/bench_random_truths.py [--truths N]` (about 10 s a truth
on one core; the truths run on every core).
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

from optimizer.curves import ResponseModel  # noqa: E402
from optimizer.data import History  # noqa: E402
from optimizer.planner import PlanningProblem, solve  # noqa: E402
from optimizer.planner.forecast import Forecast  # noqa: E402
from optimizer.sim import LiveRoomSimulator, Scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "random_truths.txt"
DAYS, FLOOR = 21, 2.0


def random_scenario(number: int) -> Scenario:
    """The default room with every package, the room's noise and the operator redrawn."""
    rng = np.random.default_rng(1000 + number)
    data = Scenario.builtin("default").model_dump()
    data["name"] = f"random{number}"
    for package in data["packages"].values():
        family = str(rng.choice(["exponential", "hill", "log"]))
        k = float(package["typical_spend"] * rng.uniform(0.5, 4))
        package["saturation"] = {"family": family, "k": k} | (
            {"shape": float(rng.uniform(0.4, 1.0))} if family == "hill" else {})
        stages = 1 if rng.random() < 0.5 else 2
        package["carryover"] = {"half_lives": [float(h) for h in rng.uniform(0.5, 6, stages)]}
        package["peak_sensitivity"] = float(rng.uniform(0.5, 1.5))
        package["organic_leverage"] = float(rng.uniform(-0.6, 0.9))
        package["max_gmv_per_minute"] *= float(rng.uniform(0.5, 2))
        package["typical_spend"] *= float(rng.uniform(0.5, 2))
        package["day_sigma"] = float(rng.uniform(0.02, 0.15))
    data["room"]["dispersion"] = None if rng.random() < 0.5 else float(rng.uniform(1.5, 5))
    data["room"]["organic_carryover"] = {"half_lives": [float(rng.uniform(5, 30))]}
    data["operator"]["confounding"] = float(rng.uniform(0, 1.5))
    data["operator"]["level_sigma"] = float(rng.uniform(0.2, 0.7))
    return Scenario.model_validate(data)


def measure(number: int) -> dict[str, float]:
    """Total GMV under truth of the plan, the plan without reach and even pacing, each as a
    share of the oracle's minus 1; the plan's paid ROI under truth."""
    sim = LiveRoomSimulator(random_scenario(number))
    simulated = sim.history(DAYS, seed=number)
    history, _ = History.from_frames(simulated.spend, simulated.room)
    panel = history.panel(sim.packages)
    budget = round(float(panel.spend.sum()) / DAYS, -3)
    model = ResponseModel().fit(panel)
    truth = sim.response()
    problem = PlanningProblem(
        response=model.response(truth.minutes, sim.packages), budget=budget,
        paid_roi_min=FLOOR, max_spend_per_minute=np.full(len(sim.packages), np.inf),
        spend_reach=model.seen_spend(sim.packages))
    mix = panel.spend.sum(axis=0) / panel.spend.sum()
    schedules = {
        "plan": solve(problem).spend,
        "no reach": solve(replace(problem, spend_reach=None)).spend,
        "even": np.tile(budget / truth.minutes * mix, (truth.minutes, 1)),
    }
    oracle = Forecast.of(truth, solve(replace(problem, response=truth, spend_reach=None)).spend)
    valued = {name: Forecast.of(truth, spend) for name, spend in schedules.items()}
    plan = valued["plan"]
    return {"truth": number, "paid ROI": plan.paid_total / plan.total_spend} | {
        name: forecast.total_gmv / oracle.total_gmv - 1 for name, forecast in valued.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=20, help="random truths 1..N")
    truths = parser.parse_args().truths
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = list(pool.map(measure, range(1, truths + 1)))
    columns = ["plan", "no reach", "even"]
    lines = [f"bench_random_truths --truths {truths}  {datetime.now():%Y-%m-%d %H:%M:%S}  "
             f"python {platform.python_version()}",
             f"{DAYS} sessions of history per truth; total GMV under truth against the oracle; "
             f"paid ROI floor {FLOOR:g}", "",
             f"{'truth':<7}" + "".join(f"{c:<12}" for c in columns) + "plan's paid ROI"]
    for row in rows:
        lines.append(f"{row['truth']:<7}" + "".join(f"{row[c]:<+12.1%}" for c in columns)
                     + f"{row['paid ROI']:.2f}")
    lines.append("")
    for label, pick in (("median", np.median), ("worst", np.min)):
        lines.append(f"{label:<7}" + "".join(f"{pick([r[c] for r in rows]):<+12.1%}"
                                             for c in columns))
    lines += [
        f"plans within 3% of the oracle: {sum(r['plan'] >= -0.03 for r in rows)} of {truths}",
        f"plans 10% or more above even pacing: "
        f"{sum((1 + r['plan']) >= 1.1 * (1 + r['even']) for r in rows)} of {truths}",
        f"plans breaking the paid ROI floor under truth: "
        f"{sum(r['paid ROI'] < FLOOR for r in rows)} of {truths}"]
    print("\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
