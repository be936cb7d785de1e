"""Planner benchmarks: medians of several runs, and the obvious alternatives on the same problems.

Run: .venv/bin/python benchmarks/bench_planner.py [--quick]
Writes the latest results to benchmarks/results/planner.txt.

Cases: 6 packages x 240 one-minute slots with carryover, shared organic uplift and a paid ROI
floor (solve, and re-plan from minute 120); 50 x 1,440 separable budget-only (water-filling,
and the same problem as a program); 50 x 1,440 with carryover and uplift (once, reported).
Alternatives: naive PuLP (operator-overloaded rows, solved with PuLP's HiGHS) and scipy SLSQP on
the smooth model (iterations capped; its time is a lower bound).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover, Exponential, Hill
from optimizer.planner import PlanningProblem, Replanner, solve
from optimizer.planner.engine import Engine
from optimizer.planner.forecast import objective_value
from optimizer.planner.program import Formulation

RESULTS = Path(__file__).parent / "results" / "planner.txt"


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


def timed(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def naive_pulp(problem: PlanningProblem, time_limit: float = 120.0) -> float:
    """The same program built the natural PuLP way (lpSum per row) and solved through PuLP."""
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
    small = PlanningProblem(
        response=session(6, 240, carryover=True, uplift=True),
        budget=6 * 240 * 100.0,
        paid_roi_min=3.0,
        max_spend_per_minute=np.full(6, 3000.0),
    )
    ours, plan = timed(lambda: solve(small), runs)
    report(
        f"6x240 full model: solve median {ours:.3f} s "
        f"({plan.status}, gap {plan.optimality_gap:.3%})"
    )
    naive, value = timed(lambda: naive_pulp(small), 1)
    report(
        f"  naive PuLP build+solve (initial breakpoints only): {naive:.3f} s  "
        f"ratio {naive / ours:.1f}x"
    )
    iters = 20 if quick else 50
    scipy_time, scipy_value = timed(lambda: slsqp(small, iters), 1)
    report(
        f"  scipy SLSQP ({iters} iterations, not converged): {scipy_time:.3f} s  ratio "
        f"{scipy_time / ours:.1f}x; objective {scipy_value:,.0f} "
        f"vs ours {plan.exact_objective_value:,.0f}"
    )
    replanner = Replanner(small)
    first = replanner.plan
    m = 120
    replan, again = timed(
        lambda: replanner.replan(m, first.spend[:m], first.paid_gmv[:m], first.organic_gmv[:m]),
        runs,
    )
    report(f"6x240 re-plan from minute {m}: median {replan * 1000:.0f} ms ({again.status})")

    large = PlanningProblem(
        response=session(50, 1440, carryover=False, uplift=False),
        budget=50 * 1440 * 60.0,
        time_limit=300.0,
    )
    ours, plan = timed(lambda: solve(large), runs)
    report(
        f"50x1440 separable budget-only: solve median {ours:.3f} s ({plan.solver}, {plan.status})"
    )

    def as_program():
        engine = Engine(Formulation(large))
        return engine.solve_continuous(time.perf_counter() + 300)

    program_time, outcome = timed(as_program, 1)
    report(
        f"  same problem as a program (HiGHS, adaptive breakpoints): {program_time:.1f} s  "
        f"ratio {program_time / ours:.0f}x ({outcome.status}, {outcome.rounds} rounds)"
    )
    if not quick:
        full = PlanningProblem(
            response=session(50, 1440, carryover=True, uplift=True),
            budget=50 * 1440 * 60.0,
            paid_roi_min=3.0,
            time_limit=600.0,
        )
        full_time, plan = timed(lambda: solve(full), 1)
        report(
            f"50x1440 with carryover and uplift: {full_time:.1f} s ({plan.status}, "
            f"gap {plan.optimality_gap if plan.optimality_gap is not None else float('nan'):.3%})"
        )
    return lines


if __name__ == "__main__":
    out = main("--quick" in sys.argv)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(out) + "\n")
