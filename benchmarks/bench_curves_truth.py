"""Quality of the fitted paid curves against the simulator's truth, package by package.

For each scenario of the curves' acceptance tests (21 sessions x 240 minutes x 6 packages, the
same seed and variants: `tests/curves/test_curves_acceptance.py`), fit the history and compare
each package's fitted marginal paid ROI with the truth's at the 25th, 50th and 75th percentile
of its positive spend in history:

- the family chosen (held-out quasi-deviance) against the truth's family;
- the relative error against the truth at the average day (factors 1, what the acceptance test
  asks) and at the history's own average day factors (what 21 days can identify: a fit cannot
  tell a run of good days from a better curve);
- the half-width of the report's 90% interval (parameter draws from the HAC covariance,
  `optimizer.curves.report.paid_draws`), relative to the estimate, and whether it covers the
  truth at the history's days.

Not a speed benchmark: one run, written to `benchmarks/results/curves_truth.txt`. With
`--seeds N` the same over history seeds 1..N, per package the mean and SD of the errors (is a
miss bias or sampling noise?) and how often each check holds, written to
`benchmarks/results/curves_truth_seeds.txt`.

Run: `.venv/bin/python benchmarks/bench_curves_truth.py [--seeds N]`
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "curves"))  # the acceptance tests' scenario variants

from test_curves_acceptance import (  # noqa: E402
    DAYS,
    HISTORY_SEED,
    MINUTES,
    QUANTILES,
    SCENARIOS,
    build_scenario,
)

from optimizer.curves import ResponseModel  # noqa: E402
from optimizer.curves.report import LEVEL, marginal_roi, paid_draws  # noqa: E402
from optimizer.data import History  # noqa: E402
from optimizer.sim import LiveRoomSimulator  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "curves_truth.txt"
RESULTS_SEEDS = ROOT / "benchmarks" / "results" / "curves_truth_seeds.txt"
DRAWS = 400
SEED_DRAWS = 200  # per package and seed in --seeds


def measure(name: str, seed: int, n_draws: int = DRAWS) -> list[dict]:
    """One scenario's history (`seed`) fitted; per package: truth's and chosen family, relative
    errors of marginal ROI at the spend percentiles (days 1, history days), the interval's
    relative half-width and whether it covers the truth at the history's days."""
    sim = LiveRoomSimulator(build_scenario(name))
    simulated = sim.history(DAYS, seed=seed)
    history, _ = History.from_frames(simulated.spend, simulated.room)
    panel = history.panel(list(sim.packages))
    model = ResponseModel().fit(panel)
    fitted, truth = model.response(MINUTES, list(panel.packages)), sim.response(MINUTES)
    day = np.array([s.day_factor for s in simulated.truth.sessions])
    out = []
    for j, package in enumerate(panel.packages):
        factors = np.array([s.package_factors[package] for s in simulated.truth.sessions])
        spend = panel.spend[:, j]
        levels = np.quantile(spend[spend > 0], QUANTILES)
        estimate = marginal_roi(fitted.paid[j], levels)
        true = marginal_roi(truth.paid[j], levels)
        at_days = true * float(np.mean(day * factors))
        draws = np.array([marginal_roi(term, levels)
                          for term in paid_draws(model, package, MINUTES, n_draws)])
        low, high = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        out.append({"scenario": name, "seed": seed, "package": package,
                    "truth": sim.scenario.packages[package].saturation.family,
                    "chosen": model.paid_[package].family, "error": estimate / true - 1,
                    "error_days": estimate / at_days - 1,
                    "half_width": (high - low) / 2 / estimate,
                    "covers": (low <= at_days) & (at_days <= high)})
    return out


def main() -> None:
    lines = [f"bench_curves_truth  {datetime.now():%Y-%m-%d %H:%M:%S}  python "
             f"{platform.python_version()}",
             f"{DAYS} sessions x {MINUTES} min per scenario, history seed {HISTORY_SEED}; "
             f"marginal paid ROI at the {', '.join(f'{q:.0%}' for q in QUANTILES)} spend "
             "percentiles; errors are fitted / true - 1",
             "",
             f"{'scenario':<19}{'package':<11}{'truth':<7}{'chosen':<7}{'error (days 1)':<22}"
             f"{'error (history days)':<22}{f'{LEVEL:.0%} half-width':<22}covers"]
    rows = [row for name in SCENARIOS for row in measure(name, HISTORY_SEED)]
    for r in rows:
        lines.append(
            f"{r['scenario']:<19}{r['package']:<11}{r['truth'][:5]:<7}{r['chosen'][:5]:<7}"
            f"{_percent(r['error']):<22}{_percent(r['error_days']):<22}"
            f"{_percent(r['half_width'], signed=False):<22}"
            f"{''.join('y' if c else '.' for c in r['covers'])}")
        print(lines[-1], flush=True)
    lines += ["", *_totals(rows)]
    print("\n".join(lines[-3:]))
    _write(RESULTS, lines)


def main_seeds(seeds: int) -> None:
    """The same fits over history seeds 1..`seeds`: per package, the mean and SD of the error
    at the history's days (bias against sampling noise), and how often each check holds."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(name, seed) for name in SCENARIOS for seed in range(1, seeds + 1)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        names, numbers = zip(*jobs, strict=True)
        parts = pool.map(measure, names, numbers, [SEED_DRAWS] * len(jobs))
        rows = [row for part in parts for row in part]
    lines = [f"bench_curves_truth --seeds {seeds}  {datetime.now():%Y-%m-%d %H:%M:%S}  python "
             f"{platform.python_version()}",
             f"{DAYS} sessions x {MINUTES} min, history seeds 1-{seeds}; error = fitted / true "
             "marginal ROI - 1 at the history's days, mean (SD) over seeds at the "
             f"{', '.join(f'{q:.0%}' for q in QUANTILES)} spend percentiles",
             "",
             f"{'scenario':<19}{'package':<11}{'truth':<7}{'chosen = truth':<16}"
             f"{'error mean (SD) over seeds':<44}{'within 15%':<12}covers"]
    for name in SCENARIOS:
        for package in dict.fromkeys(r["package"] for r in rows if r["scenario"] == name):
            mine = [r for r in rows if r["scenario"] == name and r["package"] == package]
            errors = np.array([r["error_days"] for r in mine])
            cells = " ".join(f"{m:+.0%} ({s:.0%})" for m, s in
                             zip(errors.mean(axis=0), errors.std(axis=0), strict=True))
            same = np.mean([r["chosen"] == r["truth"] for r in mine])
            within = np.mean([np.all(np.abs(r["error"]) <= 0.15) for r in mine])
            covers = np.mean([r["covers"] for r in mine])
            lines.append(f"{name:<19}{package:<11}{mine[0]['truth'][:5]:<7}{same:<16.0%}"
                         f"{cells:<44}{within:<12.0%}{covers:.0%}")
    lines += ["", *_totals(rows)]
    print("\n".join(lines))
    _write(RESULTS_SEEDS, lines)


def _totals(rows: list[dict]) -> list[str]:
    within = [bool(np.all(np.abs(r["error"]) <= 0.15)) for r in rows]
    families = [r["chosen"] == r["truth"] for r in rows]
    covered = np.concatenate([r["covers"] for r in rows])
    return [f"packages within 15% at all three percentiles: {sum(within)} of {len(within)}",
            f"family chosen = the truth's: {sum(families)} of {len(families)}",
            f"{LEVEL:.0%} intervals covering the truth at the history's days: "
            f"{np.mean(covered):.0%} of {len(covered)}"]


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"written: {path.relative_to(ROOT)}")


def _percent(values: np.ndarray, signed: bool = True) -> str:
    sign = "+" if signed else ""
    return " ".join(f"{v:{sign}.0%}" if abs(v) < 10 else ">1000%" for v in values)


if __name__ == "__main__":
    if "--seeds" in sys.argv:
        main_seeds(int(sys.argv[sys.argv.index("--seeds") + 1]))
    else:
        main()
