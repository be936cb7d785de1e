"""The planner's answer: a `Plan` with exact model values, its summary and its per-minute table.

Every GMV figure is the exact expected response of the plan's spend (`Forecast`), never the
program's approximation. Shapes: (T, P) per minute and package, (T,) per minute; yuan/min per
minute, yuan for totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.planner.forecast import Forecast, objective_scale
from optimizer.planner.problem import PlanningProblem


@dataclass(frozen=True)
class Infeasibility:
    """Which requirement cannot be met, in plain words, and the best reachable value(s).

    requirement: e.g. "paid ROI >= 3.0"; best: e.g. {"paid_roi": 2.4, "spend": 12000.0}.
    """

    requirement: str
    message: str
    best: dict[str, float] = field(default_factory=dict)


class NoPlanInTime(InputError):
    """The time limit stopped the solver before it had any plan: not a proof of infeasibility.

    An `InputError` (the CLI's exit status 2) naming the config's `planner.time_limit`.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the solver found no plan within the time limit of {seconds:g} s (this does not "
            "mean that the requirements cannot be met)",
            where="planner.time_limit",
            fix="allow more time",
        )


class SolverFailure(RuntimeError):
    """The solver failed (numerical trouble) before it had any plan: an internal error (exit 1),
    not infeasibility."""


@dataclass
class Plan:
    """A spend schedule and what the exact model expects from it.

    status: "optimal", "feasible" (a limit stopped the solver with a plan in hand; see
        warnings), "infeasible" (see `infeasibility`; spend is zero after the minutes a
        re-plan was given) or "evaluated"
        (a given schedule, see `broken_rules`).
    objective_value: the program's objective (yuan, maximised; -spend for min_spend);
        exact_objective_value: the same objective under the exact model; bound: an upper
        bound on the best exact objective any plan reaches (continuous relaxation).
    binding: plain names of the requirements that hold with no slack.
    shadow_prices: "budget" (objective yuan per extra yuan of budget), floors and target
        (objective yuan per unit), and "packages": per package the marginal GMV per yuan
        (paid and total, from the exact model) at the plan: the marginal ROI threshold.
    """

    problem: PlanningProblem
    spend: np.ndarray
    status: str
    solve_seconds: float = 0.0
    objective_value: float | None = None
    exact_objective_value: float | None = None
    bound: float | None = None
    mip_gap: float | None = None
    binding: list[str] = field(default_factory=list)
    shadow_prices: dict = field(default_factory=dict)
    infeasibility: Infeasibility | None = None
    warnings: list[str] = field(default_factory=list)
    solver: str = ""
    rounds: int = 0
    forecast: Forecast | None = None
    broken_rules: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.forecast is None:
            self.forecast = Forecast.of(self.problem.response, self.spend)

    def __repr__(self) -> str:
        """One line for a notebook (the default printed the problem's arrays, 40 kB)."""
        T, P = self.spend.shape
        roi = "-" if self.paid_roi is None else f"{self.paid_roi:.2f}"
        return (f"Plan(status={self.status!r}, {P} packages x {T} minutes, spend "
                f"{self.total_spend:,.0f} of {self.problem.budget:,.0f} yuan, expected GMV "
                f"{self.expected_total_gmv:,.0f} yuan, paid ROI {roi}, "
                f"{len(self.warnings)} warning(s))")

    # ------------------------------------------------------------------ exact values
    @property
    def packages(self) -> tuple[str, ...]:
        return self.problem.packages

    @property
    def paid_gmv(self) -> np.ndarray:
        return self.forecast.paid_gmv

    @property
    def organic_uplift_by_package(self) -> np.ndarray:
        return self.forecast.organic_uplift_by_package

    @property
    def organic_gmv(self) -> np.ndarray:
        return self.forecast.organic_gmv

    @property
    def total_spend(self) -> float:
        return self.forecast.total_spend

    @property
    def expected_paid_gmv(self) -> float:
        return self.forecast.paid_total

    @property
    def expected_organic_gmv(self) -> float:
        return self.forecast.organic_total

    @property
    def expected_total_gmv(self) -> float:
        return self.forecast.total_gmv

    @property
    def paid_roi(self) -> float | None:
        return self.forecast.roi(self.expected_paid_gmv)

    @property
    def overall_roi(self) -> float | None:
        return self.forecast.roi(self.expected_total_gmv)

    @property
    def optimality_gap(self) -> float | None:
        """(bound - exact objective) relative to the objective's scale, when both are known."""
        if self.bound is None or self.exact_objective_value is None:
            return None
        gap = (self.bound - self.exact_objective_value) / objective_scale(self.problem, self.spend)
        return max(0.0, gap)

    # ------------------------------------------------------------------------ outputs
    def summary(self) -> dict:
        """The contract's summary.json keys, then extras; JSON-serialisable."""
        p = self.problem
        out = {
            "status": self.status,
            "total_spend": _num(self.total_spend),
            "expected_paid_gmv": _num(self.expected_paid_gmv),
            "expected_organic_gmv": _num(self.expected_organic_gmv),
            "expected_total_gmv": _num(self.expected_total_gmv),
            "paid_roi": _num(self.paid_roi),
            "overall_roi": _num(self.overall_roi),
            "solve_seconds": _num(self.solve_seconds),
            "objective": p.objective,
            "budget": _num(p.budget),
            "objective_value": _num(self.objective_value),
            "exact_objective_value": _num(self.exact_objective_value),
            "upper_bound": _num(self.bound),
            "optimality_gap": _num(self.optimality_gap),
            "mip_gap": _num(self.mip_gap),
            "binding": list(self.binding),
            "shadow_prices": _json(self.shadow_prices),
            "floors": self.floor_check(),
            "packages": self._by_package(),
            "warnings": list(self.warnings),
            "solver": self.solver,
            "refinement_rounds": self.rounds,
        }
        if self.status == "evaluated":
            out["broken_rules"] = list(self.broken_rules)
        if self.infeasibility is not None:
            out["infeasibility"] = {
                "requirement": self.infeasibility.requirement,
                "message": self.infeasibility.message,
                "best": _json(self.infeasibility.best),
            }
        return out

    def floor_check(self) -> dict:
        """Each requirement's value under the response it is held under (`floor_model`)."""
        p = self.problem
        floor = Forecast.of(p.floor_model, self.spend) if p.floor_response else self.forecast
        out = {}
        if p.paid_roi_min is not None:
            out["paid_roi"] = {"min": p.paid_roi_min, "value": _num(floor.roi(floor.paid_total))}
        if p.overall_roi_min is not None:
            out["overall_roi"] = {
                "min": p.overall_roi_min,
                "value": _num(floor.roi(floor.total_gmv)),
            }
        if p.gmv_target is not None:
            out["gmv_target"] = {"min": p.gmv_target, "value": _num(floor.total_gmv)}
        if p.floor_response is not None:
            out["held_under"] = "floor_response"
        return out

    def _by_package(self) -> dict:
        f = self.forecast
        spend, paid = f.spend.sum(axis=0), f.paid_gmv.sum(axis=0)
        uplift = f.organic_uplift_by_package.sum(axis=0)
        return {
            name: {
                "spend": _num(spend[k]),
                "expected_paid_gmv": _num(paid[k]),
                "expected_organic_uplift": _num(uplift[k]),
                "paid_roi": _num(paid[k] / spend[k]) if spend[k] > 0 else None,
            }
            for k, name in enumerate(self.packages)
        }

    def to_frame(self, start: pd.Timestamp) -> pd.DataFrame:
        """Contract table: one row per minute and package, minutes in order.

        Columns ts, package, spend, expected_paid_gmv, expected_organic_uplift (yuan/min).
        """
        T, P = self.spend.shape
        ts = pd.Timestamp(start) + pd.to_timedelta(np.arange(T), unit="min")
        return pd.DataFrame(
            {
                "ts": np.repeat(ts.values, P),
                "package": np.tile(np.array(self.packages, dtype=object), T),
                "spend": self.spend.ravel(),
                "expected_paid_gmv": self.paid_gmv.ravel(),
                "expected_organic_uplift": self.organic_uplift_by_package.ravel(),
            }
        )


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None


def _json(value):
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, str) or value is None:
        return value
    return _num(value)
