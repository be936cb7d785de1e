"""What one simulated session yields: its expectation (`Expected`) or one noisy draw (`Realised`).

Arrays are per minute of the session: (T, P) per package in the scenario's package order, (T,)
for the room. Money in yuan per minute; totals in yuan per session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Session:
    """spend, paid_gmv: (T, P) yuan/min; organic_gmv: (T,) yuan/min, baseline included."""

    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: np.ndarray

    def totals(self) -> dict[str, float]:
        """Session totals (yuan) and ROIs (NaN without spend), named as in `summary.json`."""
        spend, paid, organic = self.spend.sum(), self.paid_gmv.sum(), self.organic_gmv.sum()

        def roi(gmv: float) -> float:
            return float(gmv / spend) if spend > 0 else float("nan")

        return {
            "total_spend": float(spend),
            "paid_gmv": float(paid),
            "organic_gmv": float(organic),
            "total_gmv": float(paid + organic),
            "paid_roi": roi(paid),
            "overall_roi": roi(paid + organic),
        }


@dataclass(frozen=True)
class Expected(_Session):
    """The truth's expectation; baseline and uplift: (T,) yuan/min, organic = baseline + uplift."""

    baseline: np.ndarray
    uplift: np.ndarray

    def totals(self) -> dict[str, float]:
        return super().totals() | {
            "baseline": float(self.baseline.sum()),
            "uplift": float(self.uplift.sum()),
        }


@dataclass(frozen=True)
class Realised(_Session):
    """One noisy draw. Counts (int): paid_orders, impressions, clicks (T, P); organic_orders,
    organic_views, online_viewers (T,)."""

    paid_orders: np.ndarray
    organic_orders: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    organic_views: np.ndarray
    online_viewers: np.ndarray
