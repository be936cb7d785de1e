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
  truth at the history's days;
- the same error of a fit told the truth's form (`known_form`): what the history allows a fit
  that knows more than any fit can, a reference for the acceptance test's fixed-seed checks;
- session totals of paid GMV on the acceptance test's held-out schedules, of both fits.

Not a speed benchmark: one run, written to `benchmarks/results/curves_truth.txt`. With
`--seeds N` the same over history seeds 1..N, per package the mean and SD of the errors (is a
miss bias or sampling noise?) and how often each check holds, for the fit and for the known
form, written to `benchmarks/results/curves_truth_seeds.txt`.

Run: `.venv/bin/python benchmarks/bench_curves_truth.py [--seeds N]`
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "curves"))  # the acceptance tests' scenario variants
sys.path.insert(0, str(ROOT / "tests"))  # and the fits they import

from test_curves_acceptance import (  # noqa: E402
    DAYS,
    HISTORY_SEED,
    MINUTES,
    QUANTILES,
    SCENARIOS,
    SCHEDULE_SEED,
    SCHEDULES,
    build_scenario,
)

from optimizer.curves import ResponseModel, ResponseTerm  # noqa: E402
from optimizer.curves.report import LEVEL, marginal_roi, paid_draws  # noqa: E402
from optimizer.data import History, Panel  # noqa: E402
from optimizer.sim import LiveRoomSimulator  # noqa: E402
from optimizer.sim.scenario import PackageTruth  # noqa: E402
from optimizer.sim.truth import SessionDraw  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "curves_truth.txt"
RESULTS_SEEDS = ROOT / "benchmarks" / "results" / "curves_truth_seeds.txt"
DRAWS = 400
SEED_DRAWS = 200  # per package and seed in --seeds
TOLERANCE = 0.15  # the acceptance test's on marginal ROI
START_SHIFTS = (-1.0, 0.0, 1.0)  # known form: starts of log k (and log shape) about the truth's


def known_form(sim: LiveRoomSimulator, draws: tuple[SessionDraw, ...], panel: Panel,
               package: str) -> PackageTruth:
    """The package's truth refitted with its form given: its carryover, peak sensitivity and
    saturation family are the truth's, and only the saturation's parameters (k, a Hill shape)
    and one level per session are estimated, by Poisson quasi-likelihood with the levels
    profiled out. Returns the fitted truth with V at the average day: the mean of the session
    levels, as the truth's day factors have mean 1. draws: the history's sessions, in the
    panel's session order.

    It knows the form no fit is told; its errors are what the history's days and noise leave.
    """
    truth, j = sim.scenario.packages[package], panel.packages.index(package)
    sessions = []  # per session: (m(τ)^γ, carried-over spend, paid GMV), each (T,)
    for number, draw in enumerate(draws):
        rows = panel.session == number
        m = sim.levels(int(rows.sum()), draw.start.time())
        sessions.append((m ** truth.peak_sensitivity,
                         truth.carryover.apply(panel.spend[rows, j]), panel.paid_gmv[rows, j]))
    names = [name for name in ("k", "shape") if hasattr(truth.saturation, name)]

    def saturation(log_values: np.ndarray):
        return truth.saturation.model_copy(
            update={name: float(np.exp(v)) for name, v in zip(names, log_values, strict=True)})

    def levels_and_units(log_values: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        curve = saturation(log_values)
        units = [m * curve(x) for m, x, _ in sessions]
        levels = np.array([y.sum() / max(u.sum(), 1e-12)
                           for u, (_, _, y) in zip(units, sessions, strict=True)])
        return levels, units

    def deviance(log_values: np.ndarray) -> float:
        levels, units = levels_and_units(log_values)
        total = 0.0
        for level, unit, (_, _, y) in zip(levels, units, sessions, strict=True):
            mean = np.maximum(level * unit, 1e-12)
            total += float(np.sum(mean - y * np.log(mean)))
        return total

    start = np.log([getattr(truth.saturation, name) for name in names])
    best = min((minimize(deviance, start + shift, method="Nelder-Mead",
                         options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
                for shift in START_SHIFTS), key=lambda result: result.fun)
    levels, _ = levels_and_units(best.x)
    return truth.model_copy(update={"saturation": saturation(best.x),
                                    "max_gmv_per_minute": float(np.mean(levels))})


def _paid_term(sim: LiveRoomSimulator, package: str, truth: PackageTruth) -> ResponseTerm:
    """The paid term of `package` in a new session of the simulator with its truth replaced by
    `truth` (the simulator's own response, at the average day)."""
    packages = {**sim.scenario.packages, package: truth}
    other = LiveRoomSimulator(sim.scenario.model_copy(update={"packages": packages}))
    return other.response(MINUTES).paid[list(sim.packages).index(package)]


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
    rng = np.random.default_rng(SCHEDULE_SEED)  # the acceptance test's held-out schedules
    schedules = [sim.operator_spend(rng, MINUTES) for _ in range(SCHEDULES)]
    day = np.array([s.day_factor for s in simulated.truth.sessions])
    out = []
    for j, package in enumerate(panel.packages):
        known = _paid_term(sim, package, known_form(sim, simulated.truth.sessions, panel, package))
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
                    "covers": (low <= at_days) & (at_days <= high),
                    "known_error": marginal_roi(known, levels) / true - 1,
                    "known_paid": [float(known.value(s).sum()) for s in schedules],
                    "true_paid": [float(truth.paid[j].value(s).sum()) for s in schedules]})
    fitted_paid = [float(fitted.paid_gmv(s).sum()) for s in schedules]
    for r in out:
        r["fitted_paid"] = fitted_paid
    return out


def main() -> None:
    lines = [f"bench_curves_truth  {datetime.now():%Y-%m-%d %H:%M:%S}  python "
             f"{platform.python_version()}",
             f"{DAYS} sessions x {MINUTES} min per scenario, history seed {HISTORY_SEED}; "
             f"marginal paid ROI at the {', '.join(f'{q:.0%}' for q in QUANTILES)} spend "
             "percentiles; errors are fitted / true - 1",
             "",
             f"{'scenario':<19}{'package':<11}{'truth':<7}{'chosen':<7}{'error (days 1)':<22}"
             f"{'error (history days)':<22}{f'{LEVEL:.0%} half-width':<22}{'covers':<8}"
             "known form (days 1)"]
    rows = [row for name in SCENARIOS for row in measure(name, HISTORY_SEED)]
    for r in rows:
        lines.append(
            f"{r['scenario']:<19}{r['package']:<11}{r['truth'][:5]:<7}{r['chosen'][:5]:<7}"
            f"{_percent(r['error']):<22}{_percent(r['error_days']):<22}"
            f"{_percent(r['half_width'], signed=False):<22}"
            f"{''.join('y' if c else '.' for c in r['covers']):<8}{_percent(r['known_error'])}")
        print(lines[-1], flush=True)
    lines += ["", *_totals(rows), "", *_paid_totals(rows)]
    print("\n".join(lines[-12:]))
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
             f"{'error mean (SD) over seeds':<44}{'within 15%':<12}{'covers':<8}"
             "known form within 15%"]
    for name in SCENARIOS:
        for package in dict.fromkeys(r["package"] for r in rows if r["scenario"] == name):
            mine = [r for r in rows if r["scenario"] == name and r["package"] == package]
            errors = np.array([r["error_days"] for r in mine])
            cells = " ".join(f"{m:+.0%} ({s:.0%})" for m, s in
                             zip(errors.mean(axis=0), errors.std(axis=0), strict=True))
            same = np.mean([r["chosen"] == r["truth"] for r in mine])
            within = np.mean([_within(r["error"]) for r in mine])
            covers = np.mean([r["covers"] for r in mine])
            known = np.mean([_within(r["known_error"]) for r in mine])
            lines.append(f"{name:<19}{package:<11}{mine[0]['truth'][:5]:<7}{same:<16.0%}"
                         f"{cells:<44}{within:<12.0%}{covers:<8.0%}{known:.0%}")
    every = {key: sum(all(_within(r[key]) for r in rows if r["seed"] == seed)
                      for seed in range(1, seeds + 1)) for key in ("error", "known_error")}
    lines += ["", *_totals(rows),
              f"seeds with every package of every scenario within 15%: {every['error']} of "
              f"{seeds} (known form {every['known_error']})"]
    print("\n".join(lines))
    _write(RESULTS_SEEDS, lines)


def _within(errors: np.ndarray) -> bool:
    """The acceptance test's check: within 15% at all three spend percentiles."""
    return bool(np.all(np.abs(errors) <= TOLERANCE))


def _totals(rows: list[dict]) -> list[str]:
    within = [_within(r["error"]) for r in rows]
    known = [_within(r["known_error"]) for r in rows]
    families = [r["chosen"] == r["truth"] for r in rows]
    covered = np.concatenate([r["covers"] for r in rows])
    return [f"packages within 15% at all three percentiles: {sum(within)} of {len(within)} "
            f"(known form {sum(known)})",
            f"family chosen = the truth's: {sum(families)} of {len(families)}",
            f"{LEVEL:.0%} intervals covering the truth at the history's days: "
            f"{np.mean(covered):.0%} of {len(covered)}"]


def _paid_totals(rows: list[dict]) -> list[str]:
    """Per scenario, relative errors of paid GMV session totals on the held-out schedules,
    of the fit and of the known form (the acceptance test's tolerance is 5%)."""
    lines = ["paid GMV session totals on the held-out schedules, fitted / true - 1",
             f"{'scenario':<19}{'fit':<34}known form"]
    for name in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == name]
        true = np.sum([r["true_paid"] for r in mine], axis=0)
        known = np.sum([r["known_paid"] for r in mine], axis=0) / true - 1
        fit = np.array(mine[0]["fitted_paid"]) / true - 1
        lines.append(f"{name:<19}{' '.join(f'{v:+.1%}' for v in fit):<34}"
                     f"{' '.join(f'{v:+.1%}' for v in known)}")
    return lines


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
