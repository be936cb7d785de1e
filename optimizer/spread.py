"""How a spend schedule's session totals spread over predictive draws of the response.

Plans hold ROI floors and a GMV target in expectation (CONTRACT.md): a floor that binds holds
in about half the days the fit foresees. `Spread` says how often, and the 90% intervals of the
totals, from the same draws (`pipeline.session_draws`: the fits' uncertainty and history's
day-to-day variation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL = 0.9
"""The intervals' coverage."""


@dataclass(frozen=True)
class Spread:
    """Session totals of one spend schedule in `n` response draws.

    paid, organic: (n,) paid and organic GMV (baseline included) of the session, yuan;
    spend: the schedule's total spend, yuan.
    """

    paid: np.ndarray
    organic: np.ndarray
    spend: float

    @property
    def total(self) -> np.ndarray:
        """(n,) total GMV, yuan."""
        return self.paid + self.organic

    def intervals(self) -> dict[str, list[float]]:
        """{"paid_gmv" | "organic_gmv" | "total_gmv": [low, high]}: central `LEVEL`
        intervals, yuan."""
        tail = (1 - LEVEL) / 2
        return {name: [float(np.quantile(v, tail)), float(np.quantile(v, 1 - tail))]
                for name, v in (("paid_gmv", self.paid), ("organic_gmv", self.organic),
                                ("total_gmv", self.total))}

    def chances(self, paid_roi_min: float | None = None, overall_roi_min: float | None = None,
                gmv_target: float | None = None) -> dict[str, float]:
        """The share of draws (0 to 1) in which each requirement given holds: keys
        "paid_roi", "overall_roi" (ROI floors) and "gmv_target" (total GMV, yuan). A floor
        with no spend holds (no ROI to break)."""
        held = {}
        if paid_roi_min is not None:
            held["paid_roi"] = self._at_least(self.paid, paid_roi_min * self.spend)
        if overall_roi_min is not None:
            held["overall_roi"] = self._at_least(self.total, overall_roi_min * self.spend)
        if gmv_target is not None:
            held["gmv_target"] = self._at_least(self.total, gmv_target)
        return held

    @staticmethod
    def _at_least(values: np.ndarray, bound: float) -> float:
        """Share of `values` at least `bound`, rounding (1e-9 relative) forgiven."""
        return float(np.mean(values >= bound - 1e-9 * max(abs(bound), 1.0)))
