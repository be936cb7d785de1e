"""What the planner is asked: a `PlanningProblem` (frozen dataclass, validated on construction).

Units: spend in yuan per minute, budget and GMV in yuan, minutes of the session. Arrays per
package follow `response.packages`. Invalid values raise `InputError` naming the field, so the
CLI can report them with the contract's exit status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np

from optimizer.curves.response import SessionResponse
from optimizer.errors import InputError

Objective = Literal["max_gmv", "min_spend", "max_profit"]
SolverChoice = Literal["auto", "highs", "cbc"]


@dataclass(frozen=True)
class Pacing:
    """Bounds on cumulative spend, as a fraction of the budget, by the end of each minute.

    lower, upper: (T,) fractions in [0, 1] (None: no bound). `Pacing.even` builds a band of
    +- `tolerance` around spending the budget evenly over the session.
    """

    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    @classmethod
    def even(cls, minutes: int, tolerance: float) -> Pacing:
        share = np.arange(1, minutes + 1) / minutes
        return cls(np.clip(share - tolerance, 0, 1), np.clip(share + tolerance, 0, 1))


@dataclass(frozen=True)
class PlatformRules:
    """The ad platform's rules; each one, when set, makes the program an integer program.

    max_changes: at most this many spend-level changes per package per session (a change is a
        slot whose level differs from the previous slot's; the first slot's level is free).
    change_step: yuan/min; every change moves the level by at least this much.
    spend_unit: yuan/min; every level is a whole multiple of it.
    """

    max_changes: int | None = None
    change_step: float | None = None
    spend_unit: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.max_changes, self.change_step, self.spend_unit))


@dataclass(frozen=True)
class PlanningProblem:
    """One session to plan.

    response: expected response of the session (T minutes x P packages); the objective uses it.
    floor_response: optional pessimistic response (e.g. a lower confidence bound from the
        curves stage); when given, ROI floors and the GMV target must hold under it.
    budget: yuan, hard cap on total planned spend.
    gmv_target: yuan of total GMV (paid + organic incl. baseline); required by min_spend.
    paid_roi_min, overall_roi_min: floors, held as sum(GMV) >= floor * sum(spend).
    margin: gross margin used by max_profit: margin * (paid GMV + organic uplift) - spend.
    max_spend_per_minute: (P,) yuan/min (inf: no cap, 0: package off).
    min_spend_when_active: (P,) yuan/min; spend in a minute is 0 or at least this.
    spend_reach: (P,) yuan/min, how far the curves' evidence reaches (inf: no limit); None: no
        limit at all. Past it a curve is extrapolation, so a plan keeps each package's spend
        per minute within it, raised for every package by one factor (`reach_factor`) when
        the budget could not be spent otherwise. A package's reach is never below its
        `min_spend_when_active`: the reach holds it to its least spend, not off (on the demo,
        fans with a least spend of 200 yuan/min, history's reach 94, was left off and the plan
        lost 8.8% of the oracle's GMV under truth instead of 0.4%).
    reach_multiples: (P,) how many times the spend history saw each `spend_reach` is, where it
        was raised because the curve still pays past it (messages only); None: once.
    slot_minutes: planning step (any whole number of minutes that divides the session); a
        slot's spend is the same in each of its minutes.
    time_limit: seconds for the whole solve; tolerance: relative accuracy of the plan.
    """

    response: SessionResponse
    budget: float
    objective: Objective = "max_gmv"
    slot_minutes: int = 1
    gmv_target: float | None = None
    paid_roi_min: float | None = None
    overall_roi_min: float | None = None
    margin: float | None = None
    max_spend_per_minute: np.ndarray | None = None
    min_spend_when_active: np.ndarray | None = None
    spend_reach: np.ndarray | None = None
    reach_multiples: np.ndarray | None = None
    pacing: Pacing | None = None
    rules: PlatformRules = field(default_factory=PlatformRules)
    floor_response: SessionResponse | None = None
    time_limit: float = 60.0
    solver: SolverChoice = "auto"
    tolerance: float = 0.005

    def __post_init__(self) -> None:
        n = len(self.response.packages)
        for name, default in (("max_spend_per_minute", np.inf), ("min_spend_when_active", 0.0)):
            given = getattr(self, name)
            value = np.full(n, default) if given is None else np.asarray(given, dtype=float)
            if value.shape != (n,) or np.isnan(value).any() or (value < 0).any():
                raise InputError(f"needs {n} values >= 0, one per package", where=name)
            object.__setattr__(self, name, value)
        if self.spend_reach is not None:
            reach = np.asarray(self.spend_reach, dtype=float)
            if reach.shape != (n,) or np.isnan(reach).any() or (reach <= 0).any():
                raise InputError(f"needs {n} values > 0, one per package", where="spend_reach")
            object.__setattr__(self, "spend_reach",
                               np.maximum(reach, self.min_spend_when_active))
        _check(np.isfinite(self.budget) and self.budget >= 0, "budget", "must be >= 0 yuan")
        _check(
            self.objective in ("max_gmv", "min_spend", "max_profit"),
            "objective",
            "must be max_gmv, min_spend or max_profit",
        )
        _check(
            isinstance(self.slot_minutes, int | np.integer) and self.slot_minutes >= 1,
            "slot_minutes",
            "must be a whole number of minutes >= 1",
        )
        _check(
            self.minutes % self.slot_minutes == 0,
            "slot_minutes",
            f"the session's {self.minutes} minutes are not a whole number of slots",
        )
        _check(
            self.objective != "min_spend" or self.gmv_target is not None,
            "gmv_target",
            "is required by objective min_spend",
        )
        _check(
            self.objective != "max_profit" or (self.margin is not None and self.margin > 0),
            "margin",
            "objective max_profit needs a margin > 0",
        )
        for name in ("paid_roi_min", "overall_roi_min", "gmv_target"):
            value = getattr(self, name)
            _check(value is None or (np.isfinite(value) and value >= 0), name, "must be >= 0")
        _check(0 < self.tolerance < 0.5, "tolerance", "must be in (0, 0.5)")
        _check(self.solver in ("auto", "highs", "cbc"), "solver", "must be auto, highs or cbc")
        _check(self.time_limit > 0, "time_limit", "must be > 0 seconds")
        self._check_rules()
        self._check_pacing()
        floor = self.floor_response
        _check(
            floor is None
            or (floor.packages == self.response.packages and floor.minutes == self.minutes),
            "floor_response",
            "must cover the same packages and minutes as the response",
        )

    def _check_rules(self) -> None:
        rules = self.rules
        _check(rules.max_changes is None or rules.max_changes >= 0, "max_changes", "must be >= 0")
        for name in ("change_step", "spend_unit"):
            value = getattr(rules, name)
            _check(value is None or value > 0, name, "must be > 0 yuan")

    def _check_pacing(self) -> None:
        if self.pacing is None:
            return
        for name in ("lower", "upper"):
            value = getattr(self.pacing, name)
            if value is None:
                continue
            value = np.asarray(value, dtype=float)
            _check(
                value.shape == (self.minutes,) and bool(((value >= 0) & (value <= 1)).all()),
                f"pacing.{name}",
                f"needs {self.minutes} fractions of the budget in [0, 1]",
            )
            object.__setattr__(self.pacing, name, value)

    @property
    def packages(self) -> tuple[str, ...]:
        return self.response.packages

    @property
    def minutes(self) -> int:
        """Session length T in minutes."""
        return self.response.minutes

    @cached_property
    def spend_caps(self) -> np.ndarray:
        """(P,) highest spend a package can have in a minute, yuan/min.

        The configured cap, no more than the budget spread over one slot nor than the spend
        reach times `reach_factor`, and 0 for a package whose `min_spend_when_active` is above
        that (it can never be active).
        """
        cap = self._rule_caps()
        if self.spend_reach is not None:
            cap = np.minimum(cap, self.spend_reach * self.reach_factor)
        return np.where(self.min_spend_when_active > cap, 0.0, cap)

    @cached_property
    def reach_factor(self) -> float:
        """The least factor >= 1 on `spend_reach` that lets the session spend its budget within
        every cap (1 without a reach; the largest useful factor when no factor can)."""
        if self.spend_reach is None:
            return 1.0
        return raise_factor(self._rule_caps(), self.spend_reach, self.budget / self.minutes)

    def _rule_caps(self) -> np.ndarray:
        """(P,) yuan/min: the configured caps within the budget, 0 where never active."""
        cap = np.minimum(self.max_spend_per_minute, self.budget / self.slot_minutes)
        return np.where(self.min_spend_when_active > cap, 0.0, cap)

    def continuous(self, **changes) -> PlanningProblem:
        """This problem, with `changes`, without what makes it an integer program: no platform
        rules and no least spend when active (its continuous relaxation)."""
        return replace(self, rules=PlatformRules(),
                       min_spend_when_active=np.zeros(len(self.packages)), **changes)

    @property
    def needs_integers(self) -> bool:
        """True when an option makes the program an integer program."""
        active = (self.min_spend_when_active > 0) & (self.spend_caps > 0)
        return bool(active.any()) or self.rules.any

    @property
    def floor_model(self) -> SessionResponse:
        """The response that floors and the GMV target are held under."""
        return self.floor_response if self.floor_response is not None else self.response


def raise_factor(cap: np.ndarray, reach: np.ndarray, need: float) -> float:
    """The least s >= 1 with ``sum(min(cap, s * reach)) >= need``.

    cap, reach: (P,) yuan/min (inf allowed); need: yuan/min. When no s reaches `need`, the
    smallest s past which nothing changes (every package at its cap).
    """
    if np.minimum(cap, reach).sum() >= need:
        return 1.0
    free = np.isfinite(reach) & (cap > reach)  # packages a larger s lets spend more
    if not free.any():
        return 1.0
    held = float(np.minimum(cap, reach)[~free].sum())
    turns = cap[free] / reach[free]  # where each free package reaches its cap
    order = np.argsort(turns)
    turns, caps, reaches = turns[order], cap[free][order], reach[free][order]
    for i, turn in enumerate(turns):
        s = (need - held - caps[:i].sum()) / reaches[i:].sum()
        if s <= turn:
            return max(float(s), 1.0)
    return float(turns[-1])


def _check(ok: bool, where: str, problem: str) -> None:
    if not ok:
        raise InputError(problem, where=where)
