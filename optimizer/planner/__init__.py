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
rules; `waterfill` solves the separable case exactly and fast; `coarse` plans large sessions
on a coarser time grid and `certificate` bounds the per-minute optimum from that plan;
`diagnose` explains infeasibility. A solver that stops without any plan raises `NoPlanInTime`
(the time limit) or `SolverFailure` (numerical trouble), never returns an infeasible plan.
"""

from optimizer.planner.evaluate import evaluate_schedule
from optimizer.planner.outputs import write_plan_outputs
from optimizer.planner.plan import Infeasibility, NoPlanInTime, Plan, SolverFailure
from optimizer.planner.problem import Pacing, PlanningProblem, PlatformRules
from optimizer.planner.replan import Replanner
from optimizer.planner.solve import solve

__all__ = [
    "Infeasibility",
    "NoPlanInTime",
    "Pacing",
    "Plan",
    "PlanningProblem",
    "PlatformRules",
    "Replanner",
    "SolverFailure",
    "evaluate_schedule",
    "solve",
    "write_plan_outputs",
]
