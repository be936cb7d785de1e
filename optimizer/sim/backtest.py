"""Rolling back-test of forecasts on a room's own history.

For each past session d from `first` on: fit only on sessions before d, forecast session d under
the spend the operator actually used, and compare with what happened. A fit never sees the
session it forecasts, nor anything after it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from optimizer.curves import FitOptions, ResponseModel, SessionResponse, wape
from optimizer.curves.model import PanelLike
from optimizer.data import Panel

LEVEL = 0.9
"""Coverage of the forecast intervals."""

FORECAST_COLUMNS = {
    "session": "session number in the history (0 is the earliest)",
    "start": "first minute of the session",
    "train_sessions": "sessions the fit saw (all before this one)",
    "spend": "yuan the operator spent",
    "{kind}_actual": "GMV that happened (yuan); kind is paid, organic or total",
    "{kind}_forecast": "forecast GMV under the actual spend (yuan)",
    "{kind}_low, {kind}_high": "90% interval of the forecast from the fits' uncertainty",
    "{kind}_error": "forecast / actual - 1 for the session total",
    "{kind}_wape": "WAPE of the minute-level forecast within the session (fraction)",
}
"""Columns of `forecast_backtest` and their meaning."""

_KINDS = ("paid", "organic", "total")


def _gmv(response: SessionResponse, spend: np.ndarray) -> dict[str, np.ndarray]:
    """Minute-level paid, organic and total GMV (T,) of a response under spend (T, P)."""
    paid = response.paid_gmv(spend).sum(axis=1)
    organic = response.organic_gmv(spend)
    return {"paid": paid, "organic": organic, "total": paid + organic}


def forecast_session(panel: Panel, session: int, options: FitOptions | None = None,
                     n_draws: int = 100, seed: int = 0) -> dict:
    """One row of the back-test: fit on sessions before `session`, forecast it (see columns)."""
    model = ResponseModel(options).fit(panel.sessions(range(session)))
    rows = panel.session == session
    spend = panel.spend[rows]
    minutes = int(rows.sum())
    response = model.response(minutes, panel.packages)
    actual = {"paid": panel.paid_gmv[rows].sum(axis=1), "organic": panel.organic_gmv[rows]}
    actual["total"] = actual["paid"] + actual["organic"]
    forecast = _gmv(response, spend)
    draws = [_gmv(r, spend) for r in model.response_draws(minutes, n_draws, panel.packages,
                                                          seed=seed)]
    row = {"session": session, "start": pd.Timestamp(panel.ts[rows][0]),
           "train_sessions": session, "spend": float(spend.sum())}
    for kind in _KINDS:
        totals = [float(d[kind].sum()) for d in draws]
        row |= {f"{kind}_actual": float(actual[kind].sum()),
                f"{kind}_forecast": float(forecast[kind].sum()),
                f"{kind}_low": float(np.quantile(totals, (1 - LEVEL) / 2)),
                f"{kind}_high": float(np.quantile(totals, (1 + LEVEL) / 2)),
                f"{kind}_error": float(forecast[kind].sum() / actual[kind].sum() - 1),
                f"{kind}_wape": wape(actual[kind], forecast[kind])}
    return row


def forecast_backtest(panel: PanelLike, first: int, options: FitOptions | None = None,
                      workers: int = 2, progress: Callable[[int], None] | None = None
                      ) -> pd.DataFrame:
    """Back-test sessions `first`.. of `panel`, one row each (`FORECAST_COLUMNS`).

    Sessions run in `workers` processes; `progress` is told each finished session number.
    """
    sessions = range(first, panel.n_sessions)
    if first < 3:
        raise ValueError("the first back-tested session needs at least 3 sessions before it")
    rows = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in pool.map(forecast_session, [panel] * len(sessions), sessions,
                            [options] * len(sessions)):
            rows.append(row)
            if progress:
                progress(row["session"])
    return pd.DataFrame(rows)
