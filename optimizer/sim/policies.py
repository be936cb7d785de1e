"""Closed-loop policies built on the planner: static plan, re-planning, even pacing, oracle.

Every policy answers the same `PlanningProblem` (budget, ROI floors, caps, pacing, platform
rules) made from the FITTED curves, e.g. by `pipeline.planning_problem`; only the oracle swaps
the curves for the simulator's true expected response. The problem may list its packages in any
order (a campaign sorts them): policies spend in the simulator's order.

`standard_policies` builds the four as picklable factories for `simulate_policies`: the plans
made before the session are solved once, here; the re-planner is built once per task in the
worker and re-plans every session of its task in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.data import Panel
from optimizer.planner import Plan, PlanningProblem, Replanner, solve
from optimizer.sim.closed_loop import EvenPacing, Observed, PolicyFactory, StaticSchedule
from optimizer.sim.simulator import LiveRoomSimulator


class NoPlan(ValueError):
    """The planner has no plan for the session before it starts (`plan.infeasibility` says why).

    The CLI reports it with the contract's exit status 3 (infeasible).
    """

    def __init__(self, who: str, plan: Plan) -> None:
        self.plan = plan
        reason = plan.infeasibility.message if plan.infeasibility else plan.status
        super().__init__(f"{who}: {reason}")


def in_order(problem: PlanningProblem, packages: Sequence[str]) -> PlanningProblem:
    """`problem` with its packages (curves, caps, least spends, reach) in `packages` order."""
    if sorted(problem.packages) != sorted(packages):
        raise ValueError(f"the problem plans packages {problem.packages}, the simulator has "
                         f"{tuple(packages)}")
    order = [problem.packages.index(p) for p in packages]

    def moved(term: ResponseTerm) -> ResponseTerm:
        return replace(term, weights=term.weights[order])

    def reordered(response: SessionResponse | None) -> SessionResponse | None:
        if response is None:
            return None
        return SessionResponse(tuple(packages), response.baseline,
                               tuple(moved(response.paid[i]) for i in order),
                               tuple(moved(term) for term in response.uplift))

    return replace(problem, response=reordered(problem.response),
                   floor_response=reordered(problem.floor_response),
                   max_spend_per_minute=problem.max_spend_per_minute[order],
                   min_spend_when_active=problem.min_spend_when_active[order],
                   spend_reach=None if problem.spend_reach is None
                   else problem.spend_reach[order])


def truth_problem(problem: PlanningProblem, sim: LiveRoomSimulator) -> PlanningProblem:
    """The oracle's problem: the same constraints on the simulator's true expected response.

    The truth is the average day (day and package factors 1): the oracle knows the curves but
    not the day's draw, which no plan made before the session can know. Floors hold under the
    truth itself (no pessimistic floor response), and the true curves hold at any spend (no
    spend reach).
    """
    problem = in_order(problem, sim.packages)
    return replace(problem, response=sim.response(problem.minutes), floor_response=None,
                   spend_reach=None)


def planned(problem: PlanningProblem, name: str) -> StaticSchedule:
    """Follow `problem`'s plan, made before the session, whatever happens; NoPlan if none."""
    plan = solve(problem)
    if plan.status == "infeasible":
        raise NoPlan(name, plan)
    return StaticSchedule(plan.spend, name=name)


def even_pacing(problem: PlanningProblem, sim: LiveRoomSimulator, history: Panel
                ) -> EvenPacing:
    """The budget spread evenly over the minutes in the package mix of history's spend.

    Within the problem's limits (not its spend reach, a planner's caution): a package gets at
    most its cap (the rest goes to the others in the same mix), and a package whose share would
    fall below its `min_spend_when_active` gets nothing (its share goes to the others).
    Packages the problem switches off (cap 0) get nothing. The budget is spent in full unless
    the caps stop it.
    """
    aligned = replace(in_order(problem, sim.packages), spend_reach=None)
    spend = dict(zip(history.packages, history.spend.sum(axis=0), strict=True))
    mix = np.array([float(spend.get(p, 0.0)) for p in sim.packages])
    amount = paced(problem.budget / problem.minutes, mix, aligned.spend_caps,
                   aligned.min_spend_when_active)
    if amount.sum() <= 0:
        raise ValueError("the history has no spend on the packages the problem may use")
    return EvenPacing(float(amount.sum()) * problem.minutes, problem.minutes,
                      tuple(amount.tolist()))


def paced(per_minute: float, mix: np.ndarray, caps: np.ndarray, least: np.ndarray
          ) -> np.ndarray:
    """(P,) yuan/min: `per_minute` split in `mix` proportions, each package at most its cap
    (the excess goes to the uncapped ones) and none active below its least spend (the
    smallest such package is dropped and the split made again)."""
    active = (np.asarray(mix) > 0) & (caps > 0)
    capped = np.zeros(len(mix), dtype=bool)
    while True:
        amount = np.where(capped, caps, 0.0)
        free = active & ~capped
        if free.any():
            amount[free] = max(per_minute - amount.sum(), 0.0) * mix[free] / mix[free].sum()
        over = free & (amount > caps)
        if over.any():
            capped |= over
            continue
        under = np.flatnonzero(active & (amount > 0) & (amount < least))
        if len(under) == 0:
            return amount
        drop = under[np.argmin(amount[under])]
        active[drop] = capped[drop] = False


@dataclass(frozen=True)
class Replanning:
    """Model-predictive control: `problem`'s plan, re-planned every `every` minutes.

    At minutes every, 2 every, ... the planner fixes what was spent and earned so far (paid and
    organic GMV as realised) and re-plans the rest of the session within the budget left, so
    floors count what actually happened and hold with the rest of the session at the level
    the day has shown so far (`optimizer.planner.calibrate`). A re-plan that finds no plan
    for the rest keeps the last plan. One `Replanner` (one built program) serves every session
    the policy runs; its re-plans start from the last solver basis, so a session's plans may
    differ, within the planner's tolerance, with the sessions run before it in the same task.
    """

    problem: PlanningProblem
    every: int = 5

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"re-plan interval must be at least 1 minute, got {self.every}")

    @property
    def name(self) -> str:
        return f"re-plan every {self.every} min"

    def __call__(self, sim: LiveRoomSimulator) -> _Replanning:
        return _Replanning(Replanner(in_order(self.problem, sim.packages)), self.every, self.name)


class _Replanning:
    """The `Replanning` policy of one worker; minute 0 starts a new session."""

    def __init__(self, replanner: Replanner, every: int, name: str) -> None:
        self.replanner, self.every, self.name = replanner, every, name
        self.schedule = replanner.plan.spend

    def spend(self, minute: int, observed: Observed) -> np.ndarray:
        if minute == 0:
            self.schedule = self.replanner.plan.spend
        elif minute % self.every == 0:
            plan = self.replanner.replan(minute, observed.spend, observed.paid_gmv,
                                         observed.organic_gmv)
            if plan.status != "infeasible":
                self.schedule = plan.spend
        return self.schedule[minute]


def standard_policies(problem: PlanningProblem, sim: LiveRoomSimulator, history: Panel,
                      replan_every: int = 5) -> list[PolicyFactory]:
    """Static plan, re-planning every `replan_every` minutes, even pacing, oracle.

    problem: the session planned on the fitted curves (its packages are the simulator's);
    history: what the fit saw, for even pacing's package mix. Raises NoPlan when the fitted or
    the true problem has no plan.
    """
    aligned = in_order(problem, sim.packages)
    return [planned(aligned, "static plan"), Replanning(aligned, replan_every),
            even_pacing(aligned, sim, history), planned(truth_problem(aligned, sim), "oracle")]
