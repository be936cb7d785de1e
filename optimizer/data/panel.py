"""History as dense arrays over the live minutes, for model fitting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class Panel:
    """Every live minute of the history, in time order (n minutes, p packages).

    - `ts`: (n,) datetime64[us], the minute.
    - `session`: (n,) int, session number (0 is the earliest); `minute`: (n,) int, minute of
      the session, 0-based.
    - `spend`, `paid_gmv`: (n, p) float, yuan in that minute per package; 0 where the history
      has no row (the contract: no row means no spend and no paid GMV).
    - `organic_gmv`: (n,) float, yuan in that minute.
    - `packages`: the p package ids, in column order.
    """

    ts: np.ndarray
    session: np.ndarray
    minute: np.ndarray
    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: np.ndarray
    packages: tuple[str, ...]

    @property
    def n_sessions(self) -> int:
        return int(self.session.max()) + 1 if len(self.session) else 0

    def sessions(self, chosen: Iterable[int]) -> Panel:
        """The rows of the `chosen` sessions, renumbered 0.. in time order (for back-tests)."""
        keep = np.isin(self.session, np.fromiter(chosen, dtype=int))
        _, renumbered = np.unique(self.session[keep], return_inverse=True)
        return Panel(ts=self.ts[keep], session=renumbered, minute=self.minute[keep],
                     spend=self.spend[keep], paid_gmv=self.paid_gmv[keep],
                     organic_gmv=self.organic_gmv[keep], packages=self.packages)


def build_panel(spend: pd.DataFrame, room: pd.DataFrame, packages: Iterable[str]) -> Panel:
    """Spread `spend` rows (ts, package, spend, paid_gmv) over `room`'s minutes (sorted ts).

    Packages without rows get zero columns; rows of packages not asked for are not used.
    """
    packages = tuple(packages)
    if len(set(packages)) != len(packages):
        raise ValueError(f"packages are repeated: {packages}")
    minutes = room["ts"].to_numpy()
    column = spend["package"].map({p: i for i, p in enumerate(packages)})
    used = column.notna().to_numpy()
    rows = np.searchsorted(minutes, spend["ts"].to_numpy()[used])
    cols = column.to_numpy()[used].astype(int)
    dense = {}
    for name in ("spend", "paid_gmv"):
        dense[name] = np.zeros((len(minutes), len(packages)))
        dense[name][rows, cols] = spend[name].to_numpy()[used]
    return Panel(
        ts=minutes,
        session=room["session"].to_numpy(),
        minute=room["minute"].to_numpy(),
        spend=dense["spend"],
        paid_gmv=dense["paid_gmv"],
        organic_gmv=room["organic_gmv"].to_numpy(dtype=float),
        packages=packages,
    )
