"""How often the forecasts' 90% intervals hold a realised session's GMV (a quality benchmark).

For each truth: 21 sessions of history, `ResponseModel().fit`, the next session planned at
expectation (budget the history's mean session spend rounded to 1,000 yuan, paid ROI >= 2,
within the spend history saw), and the plan's 90% intervals of session paid, organic and
total GMV from 200 `response_draws` (as `spendplan evaluate` makes them). Then `SESSIONS`
sessions are realised under the truth with that plan (day factors and order noise drawn as
the simulator draws them, seed 10,000 + the history's), and each interval is scored on them:
coverage, and mean width relative to the point forecast.

Truths: the simulator's own (builtin scenarios default, strong_confounding, cannibal,
offmodel; history seeds 1-6), outside truths (`optimizer.sim.random_scenario` 1-20, history
seed = the truth's number), whose families, carryovers and noise the fit does not assume, and
the `clock` room (seeds 1-6: a clock component fitted, its day effects shrunk), and the same
outside truths with their uplift driven by paid GMV (`random_scenario(n, paid_driven=True)`,
named paidN), each reported apart. Written to `benchmarks/results/forecast_coverage.txt`.

Run: `.venv/bin/python benchmarks/bench_forecast_coverage.py [--workers N] [--cache DIR]`;
`--cache` keeps the fitted models (artifacts) between runs, so that a change to the draws alone
is measured on the same fits.
"""

from __future__ import annotations

import argparse
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.curves import ResponseModel  # noqa: E402
from optimizer.curves.artifact import fitted_model, load_model, save_model  # noqa: E402
from optimizer.data import History, Panel  # noqa: E402
from optimizer.errors import InputError  # noqa: E402
from optimizer.planner import PlanningProblem, solve  # noqa: E402
from optimizer.sim import LiveRoomSimulator, Scenario, random_scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "forecast_coverage.txt"
DAYS, FLOOR, SESSIONS, DRAWS, LEVEL = 21, 2.0, 40, 200, 0.9
OWN = [(name, seed) for name in ("default", "strong_confounding", "cannibal", "offmodel")
       for seed in range(1, 7)]
OUTSIDE = [(f"random{n}", n) for n in range(1, 21)]
CLOCKED = [("clock", seed) for seed in range(1, 7)]
"""The builtin `clock` room: traffic by clock time, history's sessions at varying starts."""
PAID_DRIVEN = [(f"paid{n}", n) for n in range(1, 21)]
"""The outside truths with their organic uplift levered by paid GMV."""
PARTS = ("paid", "organic", "total")


def scenario(name: str) -> Scenario:
    """A builtin scenario, or `random_scenario(N)` for the name randomN (paid-driven for
    paidN)."""
    if name.startswith("random"):
        return random_scenario(int(name.removeprefix("random")))
    if name.startswith("paid"):
        return random_scenario(int(name.removeprefix("paid")), paid_driven=True)
    return Scenario.builtin(name)


def fitted(panel: Panel, name: str, seed: int, cache: Path | None) -> ResponseModel:
    """The model fitted on the truth's history `panel` (read from `cache` when there)."""
    path = cache / f"{name}-{seed}.json" if cache else None
    if path is not None and path.exists():
        try:
            return fitted_model(load_model(path))
        except InputError:  # an artifact of another schema: refit
            pass
    model = ResponseModel().fit(panel)
    if path is not None:
        save_model(model, path)
    return model


def measure(job: tuple[str, int, Path | None]) -> dict:
    """One truth: per part, the interval (low, high), point forecast and realised totals."""
    name, seed, cache = job
    sim = LiveRoomSimulator(scenario(name))
    simulated = sim.history(DAYS, seed=seed)
    panel = History.from_frames(simulated.spend, simulated.room)[0].panel(sim.packages)
    model = fitted(panel, name, seed, cache)
    minutes, start = sim.scenario.session.minutes, sim.scenario.session.start
    response = model.response(minutes, sim.packages, start=start)
    budget = round(float(panel.spend.sum()) / DAYS, -3)
    spend = solve(PlanningProblem(
        response=response, budget=budget, paid_roi_min=FLOOR,
        max_spend_per_minute=np.full(len(sim.packages), np.inf),
        spend_reach=model.seen_spend(sim.packages))).spend
    draws = model.response_draws(minutes, DRAWS, sim.packages, start=start)
    drawn = _parts(np.array([d.paid_gmv(spend).sum() for d in draws]),
                   np.array([d.organic_gmv(spend).sum() for d in draws]))
    point = _parts(response.paid_gmv(spend).sum(), response.organic_gmv(spend).sum())
    rng = np.random.default_rng(10_000 + seed)
    paid, organic = [], []
    for _ in range(SESSIONS):
        day, factors = sim.draw_factors(rng)
        realised = sim.sample(spend, rng, day_factor=day, package_factors=factors)
        paid.append(realised.paid_gmv.sum())
        organic.append(realised.organic_gmv.sum())
    realised = _parts(np.array(paid), np.array(organic))
    return {"truth": name, "seed": seed} | {
        part: {"interval": np.quantile(drawn[part], [(1 - LEVEL) / 2, (1 + LEVEL) / 2]),
               "point": float(point[part]), "realised": realised[part]} for part in PARTS}


def _parts(paid, organic) -> dict:
    return {"paid": paid, "organic": organic, "total": paid + organic}


def summary(rows: list[dict], label: str) -> list[str]:
    """Coverage and mean relative width per part over `rows`."""
    lines = [f"{label}: {len(rows)} histories x {SESSIONS} sessions"]
    for part in PARTS:
        covered = np.concatenate([(r[part]["interval"][0] <= r[part]["realised"])
                                  & (r[part]["realised"] <= r[part]["interval"][1])
                                  for r in rows])
        width = np.mean([np.diff(r[part]["interval"])[0] / r[part]["point"] for r in rows])
        lines.append(f"  {part:<8} coverage {covered.mean():6.1%}   mean width "
                     f"{width:6.1%} of the point forecast")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="folder of fitted models")
    args = parser.parse_args()
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    groups = {"own truths (builtin scenarios, seeds 1-6)": OWN,
              "outside truths (random_scenario 1-20)": OUTSIDE,
              "the clock room (seeds 1-6)": CLOCKED,
              "paid-driven outside truths (random_scenario 1-20, paid_driven)": PAID_DRIVEN}
    jobs = [(name, seed, args.cache) for group in groups.values() for name, seed in group]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(measure, jobs))
    lines = [f"bench_forecast_coverage  {datetime.now():%Y-%m-%d %H:%M:%S}  python "
             f"{platform.python_version()}",
             f"{LEVEL:.0%} intervals of session GMV from {DRAWS} response draws, {DAYS} "
             f"sessions of history, plan at expectation (paid ROI >= {FLOOR:g}); "
             f"{SESSIONS} realised sessions per history", "",
             f"{'truth':<20}{'seed':<6}" + "".join(f"{p + ' covered':<18}" for p in PARTS)]
    for r in rows:
        lines.append(f"{r['truth']:<20}{r['seed']:<6}" + "".join(
            f"{_held(r[p]):<18}" for p in PARTS))
    lines.append("")
    first = 0
    for label, group in groups.items():
        lines += summary(rows[first:first + len(group)], label)
        first += len(group)
    print("\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


def _held(part: dict) -> str:
    low, high = part["interval"]
    return f"{np.sum((low <= part['realised']) & (part['realised'] <= high))} of {SESSIONS}"


if __name__ == "__main__":
    main()
