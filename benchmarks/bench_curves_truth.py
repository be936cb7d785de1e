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

Not a speed benchmark: one run, written to `benchmarks/results/curves_truth.txt`.

Run: `.venv/bin/python benchmarks/bench_curves_truth.py`
"""

from __future__ import annotations

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
DRAWS = 400


def main() -> None:
    lines = [f"bench_curves_truth  {datetime.now():%Y-%m-%d %H:%M:%S}  python "
             f"{platform.python_version()}",
             f"{DAYS} sessions x {MINUTES} min per scenario, history seed {HISTORY_SEED}; "
             f"marginal paid ROI at the {', '.join(f'{q:.0%}' for q in QUANTILES)} spend "
             "percentiles; errors are fitted / true - 1",
             "",
             f"{'scenario':<19}{'package':<11}{'truth':<7}{'chosen':<7}{'error (days 1)':<22}"
             f"{'error (history days)':<22}{f'{LEVEL:.0%} half-width':<22}covers"]
    covered, families, within = [], [], []
    for name in SCENARIOS:
        sim = LiveRoomSimulator(build_scenario(name))
        simulated = sim.history(DAYS, seed=HISTORY_SEED)
        history, _ = History.from_frames(simulated.spend, simulated.room)
        panel = history.panel(list(sim.packages))
        model = ResponseModel().fit(panel)
        fitted, truth = model.response(MINUTES, list(panel.packages)), sim.response(MINUTES)
        day = np.array([s.day_factor for s in simulated.truth.sessions])
        for j, package in enumerate(panel.packages):
            factors = np.array([s.package_factors[package] for s in simulated.truth.sessions])
            spend = panel.spend[:, j]
            levels = np.quantile(spend[spend > 0], QUANTILES)
            estimate = marginal_roi(fitted.paid[j], levels)
            true = marginal_roi(truth.paid[j], levels)
            at_days = true * float(np.mean(day * factors))
            draws = np.array([marginal_roi(term, levels)
                              for term in paid_draws(model, package, MINUTES, DRAWS)])
            low, high = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
            covers = (low <= at_days) & (at_days <= high)
            chosen, family = model.paid_[package].family, sim.scenario.packages[package]
            covered += covers.tolist()
            families.append(chosen == family.saturation.family)
            within.append(bool(np.all(np.abs(estimate / true - 1) <= 0.15)))
            lines.append(
                f"{name:<19}{package:<11}{family.saturation.family[:5]:<7}{chosen[:5]:<7}"
                f"{_percent(estimate / true - 1):<22}{_percent(estimate / at_days - 1):<22}"
                f"{_percent((high - low) / 2 / estimate, signed=False):<22}"
                f"{''.join('y' if c else '.' for c in covers)}")
            print(lines[-1], flush=True)
    lines += ["",
              f"packages within 15% at all three percentiles: {sum(within)} of {len(within)}",
              f"family chosen = the truth's: {sum(families)} of {len(families)}",
              f"{LEVEL:.0%} intervals covering the truth at the history's days: "
              f"{np.mean(covered):.0%} of {len(covered)}"]
    print("\n".join(lines[-3:]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


def _percent(values: np.ndarray, signed: bool = True) -> str:
    sign = "+" if signed else ""
    return " ".join(f"{v:{sign}.0%}" if abs(v) < 10 else ">1000%" for v in values)


if __name__ == "__main__":
    main()
