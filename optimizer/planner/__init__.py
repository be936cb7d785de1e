"""The planner: spend per audience package and minute that maximises the session's objective.

Public API::

    problem = PlanningProblem(response=..., budget=80_000, paid_roi_min=2.0)
    plan = solve(problem)                 # Plan: spend (T, P), exact GMV, status, prices
    write_plan_outputs(plan, start, out)  # plan.csv, summary.json, plan.png
    replanner = Replanner(problem)        # then replanner.replan(minute, spend, paid, organic)
    evaluate_schedule(response, spend, problem)

How: `program` states the problem once as a sparse linear program (chords of every concave
response, carryover as recursion rows, the room's organic uplift shared by all packages);
`engine` solves it with `backends` (highspy, or PuLP/CBC) and refines its breakpoints until a
Lagrangian bound certifies the plan within `tolerance`; `integer` meets the platform's integer
rules; `waterfill` solves the separable case exactly and fast; `diagnose` explains
infeasibility.
"""

from optimizer.planner.evaluate import evaluate_schedule
from optimizer.planner.outputs import write_plan_outputs
from optimizer.planner.plan import Infeasibility, Plan
from optimizer.planner.problem import Pacing, PlanningProblem, PlatformRules
from optimizer.planner.replan import Replanner
from optimizer.planner.solve import solve

__all__ = [
    "Infeasibility",
    "Pacing",
    "Plan",
    "PlanningProblem",
    "PlatformRules",
    "Replanner",
    "evaluate_schedule",
    "solve",
    "write_plan_outputs",
]
