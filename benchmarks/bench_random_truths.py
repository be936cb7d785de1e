"""Plans against random truths that the fit does not assume (a quality benchmark).

The planner's tests value plans under the builtin scenarios, whose truths were written by the
same hands as the fit. Here each truth is `optimizer.sim.random_scenario(n)`: the default room
with every package redrawn from a seed, over curve families (logarithmic among them), delayed
carryover peaks, order noise and operator behaviour that the fit does not assume.

For each truth: 21 sessions of history (seed = the truth's number), `ResponseModel().fit`,
then the session planned as `spendplan plan` plans it (paid ROI >= 2, the budget the history's
mean session spend rounded to 1,000 yuan, within the spend history saw as far as
`pipeline.trusted_reach` raises it), and valued under the truth's expectation against:

- the oracle, the same program on the true curves at any spend;
- even pacing of the budget with the history's package mix;
- the plan held within the spend history saw, without `trusted_reach` raising it;
- the same plan without any reach (`history_reach: null`).

Printed: per truth, total GMV against the oracle, and the plan's paid ROI under truth; then
the median, mean and worst over truths. Written to `benchmarks/results/random_truths.txt`.

With `--paid-driven` each truth is `random_scenario(n, paid_driven=True)`: the room's organic
uplift follows each package's paid GMV (the fit chooses spend or fitted paid GMV as the drive
on held-out sessions, `FitOptions.organic_driver`); the oracle plans on that truth. Written to
`random_truths_paid_driven.txt`.

With `--budget M` the session's budget is M times the history's mean session spend (rounded
to 1,000 yuan): at twice it the spend history saw often cannot take it, and the reach is raised
at the price the raised reaches make (`pipeline.trusted_reach`). Written to
`random_truths_budgetM.txt`.

With `--margin M` the plans are `max_profit` at that gross margin, valued by their profit under
truth (M x (paid GMV + organic uplift) - spend) against the oracle's. Written to
`random_truths_marginM.txt`.

With `--days N` each truth's history is N sessions instead of `DAYS`, the budget the mean of
those. Written to `random_truths_daysN.txt`.

With `--overall R` the session also has an overall ROI floor (all GMV / spend, as in
omni-channel promotion) at R times the history's overall ROI; the oracle holds it under truth.
Where it binds, the plan spends less than the budget. Written to `random_truths_overallR.txt`.

Run: `.venv/bin/python benchmarks/bench_random_truths.py [--truths N] [--paid-driven]` (about
10 s a truth on one core; the truths run on every core).
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
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.curves import FitOptions, ResponseModel, SessionResponse  # noqa: E402
from optimizer.data import History, Panel  # noqa: E402
from optimizer.pipeline import trusted_reach  # noqa: E402
from optimizer.planner import PlanningProblem, solve  # noqa: E402
from optimizer.planner.forecast import Forecast, forecast_objective  # noqa: E402
from optimizer.sim import LiveRoomSimulator, Scenario, random_scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "random_truths.txt"
DAYS, FLOOR = 21, 2.0


class Fitted(NamedTuple):
    """A truth's simulator, its history's panel, the fit, and the session's problem held
    within the spend history saw and as `spendplan plan` makes it (`trusted_reach`)."""

    sim: LiveRoomSimulator
    panel: Panel
    model: ResponseModel
    history_reach: PlanningProblem
    problem: PlanningProblem


def fitted(scenario: Scenario, seed: int, options: FitOptions | None = None,
           budget: float = 1.0, margin: float | None = None, days: int = DAYS,
           overall: float | None = None) -> Fitted:
    """`days` sessions of history of `scenario` (seed `seed`) fitted with `options`; the
    session's budget `budget` times the history's mean session spend, rounded to 1,000 yuan;
    `max_profit` at `margin` when given (else `max_gmv`); an overall ROI floor `overall` times
    the history's overall ROI when given."""
    sim = LiveRoomSimulator(scenario)
    simulated = sim.history(days, seed=seed)
    history, _ = History.from_frames(simulated.spend, simulated.room)
    panel = history.panel(sim.packages)
    budget = round(budget * float(panel.spend.sum()) / days, -3)
    roi = float(panel.paid_gmv.sum() + panel.organic_gmv.sum()) / float(panel.spend.sum())
    model = ResponseModel(options).fit(panel)
    history_reach = PlanningProblem(
        response=model.response(sim.scenario.session.minutes, sim.packages), budget=budget,
        objective="max_gmv" if margin is None else "max_profit", margin=margin,
        paid_roi_min=FLOOR, overall_roi_min=None if overall is None else overall * roi,
        max_spend_per_minute=np.full(len(sim.packages), np.inf),
        spend_reach=model.seen_spend(sim.packages))
    return Fitted(sim, panel, model, history_reach,
                  trusted_reach(history_reach, model, sim.packages))


def write_results(results: Path, lines: list[str], first: int = 1, truths: int = 0) -> None:
    """Print `lines` and write them to `results`; truths numbered from a `first` past 1 (held
    out) keep their own file, ``NAME_FIRST-LAST.txt``."""
    print("\n".join(lines))
    if first != 1:
        results = results.with_stem(f"{results.stem}_{first}-{first + truths - 1}")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text("\n".join(lines) + "\n")
    print(f"written: {results.relative_to(ROOT)}")


def oracle(problem: PlanningProblem, truth: SessionResponse) -> Forecast:
    """The oracle under `truth`: `problem` solved on the true curves at any spend, S-shaped
    ones on their concave envelope as the planner takes every S-shaped curve."""
    return Forecast.of(truth, solve(replace(problem, response=truth.enveloped(),
                                            spend_reach=None)).spend)


def measure(number: int, paid_driven: bool = False, options: dict | None = None,
            budget: float = 1.0, margin: float | None = None, days: int = DAYS,
            overall: float | None = None) -> dict[str, float]:
    """Total GMV under truth of the plan, the plan without reach and even pacing, each as a
    share of the oracle's minus 1; the plan's paid ROI under truth; how many fitted packages
    have the truth's number of carryover stages. paid_driven: the truth's uplift follows paid
    GMV (`random_scenario`); options: `FitOptions` fields other than the default's; budget:
    times the history's mean session spend; margin: plan for profit at this margin, and value
    the plans by their profit instead of their total GMV; days: sessions of history; overall:
    an overall ROI floor at this multiple of the history's overall ROI."""
    scenario = random_scenario(number, paid_driven=paid_driven)
    sim, panel, model, history_reach, problem = fitted(scenario, number,
                                                       FitOptions(**(options or {})), budget,
                                                       margin, days, overall)
    truth = sim.response()
    mix = panel.spend.sum(axis=0) / panel.spend.sum()
    schedules = {
        "plan": solve(problem).spend,
        "history's reach": solve(history_reach).spend,
        "no reach": solve(replace(problem, spend_reach=None)).spend,
        "even": np.tile(problem.budget / truth.minutes * mix, (truth.minutes, 1)),
    }
    under_truth = replace(problem, response=truth)
    best = forecast_objective(under_truth, oracle(problem, truth))
    valued = {name: Forecast.of(truth, spend) for name, spend in schedules.items()}
    plan = valued["plan"]
    stages = [len(scenario.packages[p].carryover.half_lives) == curve.stages
              for p, curve in model.paid_.items()]
    return {"truth": number, "paid ROI": plan.paid_total / plan.total_spend,
            "overall ROI": plan.total_gmv / plan.total_spend / (problem.overall_roi_min or 1.0),
            "stages": sum(stages), "fitted": len(stages)} | {
        name: forecast_objective(under_truth, forecast) / best - 1
        for name, forecast in valued.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=20, help="how many random truths")
    parser.add_argument("--first", type=int, default=1,
                        help="number of the first truth (held-out truths past 1 keep their own "
                             "results file)")
    parser.add_argument("--paid-driven", action="store_true",
                        help="truths whose organic uplift follows paid GMV")
    parser.add_argument("--families", default=None,
                        help="the fit's saturation families, comma-separated (e.g. "
                             "exponential,hill,log; default: FitOptions' default); results "
                             "are then printed, not written")
    parser.add_argument("--stages", default=None,
                        help="the fit's carryover stages, comma-separated (e.g. 1; default: "
                             "FitOptions' default); results are then printed, not written")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="the session's budget in multiples of the history's mean session "
                             "spend (default 1)")
    parser.add_argument("--days", type=int, default=DAYS,
                        help=f"sessions of history per truth (default {DAYS})")
    parser.add_argument("--overall", type=float, default=None,
                        help="an overall ROI floor at this multiple of the history's overall ROI")
    parser.add_argument("--margin", type=float, default=None,
                        help="plan max_profit at this gross margin and value plans by profit")
    parser.add_argument("--folds", type=int, default=None,
                        help="the fit's family_folds (default: FitOptions' default); results "
                             "are then printed, not written")
    args = parser.parse_args()
    truths, paid_driven, first = args.truths, args.paid_driven, args.first
    options = {name: tuple(cast(v) for v in value.split(",")) for name, value, cast in (
        ("families", args.families, str), ("carryover_stages", args.stages, int))
        if value is not None} | ({} if args.folds is None else {"family_folds": args.folds})
    numbers = range(first, first + truths)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = list(pool.map(measure, numbers, [paid_driven] * truths, [options] * truths,
                             [args.budget] * truths, [args.margin] * truths,
                             [args.days] * truths, [args.overall] * truths))
    columns = ["plan", "history's reach", "no reach", "even"]
    width = 17
    flag = " --paid-driven" if paid_driven else ""
    flag += f" --first {first}" if first != 1 else ""
    flag += f" --families {args.families}" if args.families is not None else ""
    flag += f" --stages {args.stages}" if args.stages is not None else ""
    flag += f" --folds {args.folds}" if args.folds is not None else ""
    named = {key: value for key, value, default in (
        ("budget", args.budget, 1.0), ("margin", args.margin, None), ("days", args.days, DAYS),
        ("overall", args.overall, None))
        if value != default}  # settings that name the results file
    flag += "".join(f" --{key} {value:g}" for key, value in named.items())
    valued = "total GMV" if args.margin is None else f"profit at a {args.margin:g} margin"
    lines = [f"bench_random_truths --truths {truths}{flag}  {datetime.now():%Y-%m-%d %H:%M:%S}  "
             f"python {platform.python_version()}",
             f"{args.days} sessions of history per truth; {valued} under truth against the oracle; "
             f"paid ROI floor {FLOOR:g}"
             + (f", overall ROI floor {args.overall:g} x the history's" if args.overall else "")
             + f"; budget {args.budget:g} x the history's mean session spend", "",
             f"{'truth':<7}" + "".join(f"{c:<{width}}" for c in columns) + "plan's paid ROI"]
    for row in rows:
        lines.append(f"{row['truth']:<7}" + "".join(f"{row[c]:<+{width}.1%}" for c in columns)
                     + f"{row['paid ROI']:.2f}")
    lines.append("")
    for label, pick in (("median", np.median), ("mean", np.mean), ("worst", np.min)):
        lines.append(f"{label:<7}" + "".join(f"{pick([r[c] for r in rows]):<+{width}.1%}"
                                             for c in columns))
    lines += [
        f"plans within 3% of the oracle: {sum(r['plan'] >= -0.03 for r in rows)} of {truths}",
        f"plans 10% or more above even pacing: "
        f"{sum((1 + r['plan']) >= 1.1 * (1 + r['even']) for r in rows)} of {truths}",
        f"plans breaking the paid ROI floor under truth: "
        f"{sum(r['paid ROI'] < FLOOR for r in rows)} of {truths}",
        *([f"plans breaking the overall ROI floor under truth: "
           f"{sum(r['overall ROI'] < 1.0 for r in rows)} of {truths}, the worst at "
           f"{min(r['overall ROI'] for r in rows):.1%} of it, the median at "
           f"{np.median([r['overall ROI'] for r in rows]):.1%}"] if args.overall else []),
        f"packages fitted with the truth's number of carryover stages: "
        f"{sum(r['stages'] for r in rows)} of {sum(r['fitted'] for r in rows)}"]
    if options:
        print("\n".join(lines))
        return
    name = RESULTS.stem + ("_paid_driven" if paid_driven else "") + "".join(
        f"_{key}{value:g}" for key, value in named.items())
    write_results(RESULTS.with_stem(name), lines, first, truths)


if __name__ == "__main__":
    main()
