"""Planner benchmarks against the issue's goals, and the obvious alternatives on the same problems.

Run: .venv/bin/python benchmarks/bench_planner.py [--quick]
Writes the results to benchmarks/results/planner.txt (with the machine's load: other jobs on
the same cores make every time noisy).

Cases (medians of several runs):
- `spendplan plan configs/demo.yaml` end to end (a new process each run; the shipped model),
  and its summary's solve_seconds: goals 3 s and 1 s;
- 6 packages x 240 minutes with carryover, shared organic uplift and a paid ROI floor: solve,
  and re-plan from minute 120 (goal 200 ms);
- 50 x 1,440 with carryover and uplift: solve (goal 20 s);
- 50 x 1,440 separable budget-only: water-filling, and the same problem as a program.
Alternatives, timed once on the same problems with ratios to ours: naive PuLP (the same program
built the natural PuLP way, one `lpSum` per row, solved through PuLP; for 50 x 1,440 only its
construction is timed) and scipy SLSQP on the smooth model (iterations capped, so its time is a
lower bound; dense, so not run at 72,000 variables).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import timed  # noqa: E402

from optimizer.curves.response import ResponseTerm, SessionResponse  # noqa: E402
from optimizer.curves.transforms import Carryover, Exponential, Hill  # noqa: E402
from optimizer.planner import PlanningProblem, Replanner, solve  # noqa: E402
from optimizer.planner.engine import Engine  # noqa: E402
from optimizer.planner.forecast import objective_value  # noqa: E402
from optimizer.planner.program import Formulation  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "planner.txt"
CONFIG = ROOT / "configs" / "demo.yaml"
GOALS = {"end to end": 3.0, "solve": 1.0, "replan": 0.2, "large": 20.0}  # seconds


def session(packages: int, minutes: int, *, carryover: bool, uplift: bool, seed: int = 0):
    """A synthetic session: k 100-600 yuan/min, marginal ROI at zero spend 2-6."""
    rng = np.random.default_rng(seed)
    t = np.arange(minutes)
    profile = 1.0 + 0.5 * np.sin(2 * np.pi * t / max(minutes, 60))
    paid = []
    for p in range(packages):
        k = rng.uniform(100, 600)
        saturation = Exponential(k=k) if p % 2 == 0 else Hill(k=k, shape=rng.uniform(0.6, 1.0))
        halves = (float(rng.uniform(1, 8)),) if carryover else ()
        scale = rng.uniform(2.0, 6.0) * k * profile
        paid.append(
            ResponseTerm(scale, saturation, Carryover(half_lives=halves), np.eye(packages)[p])
        )
    terms = ()
    if uplift:
        weights = rng.uniform(0.2, 1.0, packages)
        weights[-1] = -0.3
        halves = (5.0, 10.0) if carryover else ()
        terms = (
            ResponseTerm(
                2000 * profile, Exponential(k=2000.0), Carryover(half_lives=halves), weights
            ),
        )
    names = tuple(f"pkg{p}" for p in range(packages))
    return SessionResponse(names, 3000 * profile, tuple(paid), terms)


def end_to_end(runs: int) -> tuple[float, float]:
    """Median wall seconds of `spendplan plan configs/demo.yaml`, and of its solve_seconds."""
    walls, solves = [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [str(Path(sys.executable).parent / "spendplan"), "plan", str(CONFIG), "--out", out],
                check=True,
                capture_output=True,
            )
            walls.append(time.perf_counter() - start)
            summary = json.loads((Path(out) / "summary.json").read_text())
            solves.append(summary["solve_seconds"])
    return statistics.median(walls), statistics.median(solves)


def naive_pulp(problem: PlanningProblem, solve_it: bool = True, time_limit: float = 300.0):
    """The same program built the natural PuLP way (lpSum per row), solved through PuLP.

    Only the first round's breakpoints: a lower bound on what the naive way takes.
    """
    import pulp

    lp = Formulation(problem).program()
    model = pulp.LpProblem("naive", pulp.LpMaximize)
    x = [
        pulp.LpVariable(f"v{i}", None if np.isinf(a) else a, None if np.isinf(b) else b)
        for i, (a, b) in enumerate(zip(lp.col_lower, lp.col_upper, strict=True))
    ]
    model += pulp.lpSum(lp.cost[j] * x[j] for j in range(len(x))) + lp.offset
    csr = lp.matrix.tocsr()
    for i in range(csr.shape[0]):
        lo, hi = csr.indptr[i], csr.indptr[i + 1]
        expr = pulp.lpSum(
            v * x[j] for j, v in zip(csr.indices[lo:hi], csr.data[lo:hi], strict=True)
        )
        if lp.row_lower[i] == lp.row_upper[i]:
            model += expr == lp.row_lower[i]
        else:
            if np.isfinite(lp.row_lower[i]):
                model += expr >= lp.row_lower[i]
            if np.isfinite(lp.row_upper[i]):
                model += expr <= lp.row_upper[i]
    if not solve_it:
        return None
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit) if pulp.HiGHS().available() else None
    model.solve(solver or pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    return pulp.value(model.objective)


def slsqp(problem: PlanningProblem, iterations: int) -> float:
    """scipy SLSQP on the exact smooth model, budget and paid floor as constraints."""
    response, T, P = problem.response, problem.minutes, len(problem.packages)
    constraints = [{"type": "ineq", "fun": lambda v: problem.budget - v.sum()}]
    if problem.paid_roi_min:
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda v: (
                    response.paid_gmv(v.reshape(T, P)).sum() - problem.paid_roi_min * v.sum()
                ),
            }
        )
    result = minimize(
        lambda v: -objective_value(problem, v.reshape(T, P)),
        np.full(T * P, 0.5 * problem.budget / (T * P)),
        method="SLSQP",
        bounds=[(0, c) for c in np.tile(problem.spend_caps, T)],
        constraints=constraints,
        options={"maxiter": iterations},
    )
    return -result.fun


def main(quick: bool) -> list[str]:
    lines = []

    def report(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    runs = 3 if quick else 5
    report(
        f"bench_planner  {datetime.now():%Y-%m-%d %H:%M:%S}  python {platform.python_version()}"
        f"  cpus {os.cpu_count()}  load average {os.getloadavg()[0]:.2f} at start"
    )
    report(f"medians of {runs} runs; alternatives run once; ratio = alternative / ours")

    wall, solve_seconds = end_to_end(runs)
    report(
        f"spendplan plan configs/demo.yaml (6 x 240): end to end {wall:.2f} s "
        f"(goal {GOALS['end to end']:g} s), solve {solve_seconds:.3f} s (goal {GOALS['solve']:g} s)"
    )

    small = PlanningProblem(
        response=session(6, 240, carryover=True, uplift=True),
        budget=6 * 240 * 100.0,
        paid_roi_min=3.0,
        max_spend_per_minute=np.full(6, 3000.0),
    )
    ours, plan = timed(lambda: solve(small), runs)
    report(
        f"6 x 240 full model: solve {ours:.3f} s ({plan.status}, within "
        f"{plan.optimality_gap:.2%} of the bound), objective {plan.exact_objective_value:,.0f}"
    )
    naive, value = timed(lambda: naive_pulp(small), 1)
    report(
        f"  naive PuLP build + solve (first round's breakpoints only): {naive:.2f} s, "
        f"ratio {naive / ours:.1f}x"
    )
    iterations = 20 if quick else 50
    slow, slow_value = timed(lambda: slsqp(small, iterations), 1)
    report(
        f"  scipy SLSQP ({iterations} iterations, not converged): {slow:.1f} s, ratio "
        f"{slow / ours:.0f}x; objective {slow_value:,.0f}"
    )
    replanner = Replanner(small)
    first, m = replanner.plan, 120
    replan, again = timed(
        lambda: replanner.replan(m, first.spend[:m], first.paid_gmv[:m], first.organic_gmv[:m]),
        runs,
    )
    report(
        f"6 x 240 re-plan from minute {m}: {replan * 1000:.0f} ms ({again.status}; goal "
        f"{GOALS['replan'] * 1000:.0f} ms)"
    )

    full = PlanningProblem(
        response=session(50, 1440, carryover=True, uplift=True),
        budget=50 * 1440 * 60.0,
        paid_roi_min=3.0,
        time_limit=600.0,
    )
    ours, plan = timed(lambda: solve(full), 3 if not quick else 1)
    report(
        f"50 x 1440 with carryover and uplift: solve {ours:.1f} s (goal {GOALS['large']:g} s; "
        f"{plan.status}, within {plan.optimality_gap:.2%} of the bound, {plan.solver})"
    )
    build, _ = timed(lambda: naive_pulp(full, solve_it=False), 1)
    report(
        f"  naive PuLP construction alone (first round's breakpoints): {build:.1f} s, "
        f"ratio {build / ours:.1f}x; SLSQP not run (dense in 72,000 variables)"
    )

    large = PlanningProblem(
        response=session(50, 1440, carryover=False, uplift=False),
        budget=50 * 1440 * 60.0,
        time_limit=300.0,
    )
    ours, plan = timed(lambda: solve(large), runs)
    report(f"50 x 1440 separable budget-only: solve {ours:.2f} s ({plan.solver}, {plan.status})")
    if not quick:
        program_time, outcome = timed(
            lambda: Engine(Formulation(large)).solve_continuous(time.perf_counter() + 300), 1
        )
        report(
            f"  same problem as a per-minute program: {program_time:.1f} s, ratio "
            f"{program_time / ours:.0f}x ({outcome.status}, {outcome.rounds} rounds)"
        )
    report(f"load average {os.getloadavg()[0]:.2f} at the end")
    return lines


if __name__ == "__main__":
    out = main("--quick" in sys.argv)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(out) + "\n")
