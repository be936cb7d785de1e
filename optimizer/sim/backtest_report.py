"""What a back-test found (`optimizer.sim.backtest`), as summaries and one chart.

`forecast_summary(frame)` is one row per GMV kind: how well forecasts under the actual spend
matched what happened; `uplift_summary(frame)` sums up the plans' predicted uplift over the
actual spend; `summary(frame)` is both, ready for JSON; `plot_backtest(frame, path)` draws them
per session (`backtest_figure`). `frame` is the table `backtest` returns; `forecast_summary`
also takes `forecast_backtest`'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.charts import chart_fonts
from optimizer.sim.backtest import KINDS, LEVEL

FORECAST_SUMMARY = {
    "sessions": "sessions back-tested",
    "wape_median, wape_mean": "median and mean over sessions of the minute-level WAPE "
                              "(fraction)",
    "error_mean": "mean session forecast / actual - 1: the bias (fraction)",
    "coverage": "share of the sessions with a bounded 90% interval whose actual GMV is inside "
                "it",
    "unbounded": "sessions whose interval has an end at infinity (draws of a fit on too little "
                 "history that overflow): they say nothing, and are left out of `coverage`",
}
"""Columns of `forecast_summary` (index: paid, organic, total)."""

UPLIFT_SUMMARY = {
    "sessions": "sessions back-tested",
    "planned": "sessions with a plan (status optimal or feasible)",
    "infeasible": "sessions whose plan is infeasible",
    "statuses": "sessions by status ({status: count}, see `PLAN_COLUMNS`)",
    "uplift_mean, uplift_median": "mean and median predicted uplift of the plans (fraction)",
    "uplift_low, uplift_high": "means of the sessions' 90% interval ends: an interval of the "
                               "mean when the sessions' errors move together, as fits on "
                               "overlapping history do (wider than the mean's otherwise)",
    "beats_actual": "share of planned sessions whose whole uplift interval is above 0",
}
"""Keys of `uplift_summary`; uplift figures are None when no session was planned."""

_FAR = 4.0
"""How many median interval widths from its point an interval end may be and still set the
chart's y range."""


def forecast_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per kind (paid, organic, total), columns `FORECAST_SUMMARY`."""
    rows = {}
    for kind in KINDS:
        wape = frame[f"{kind}_wape"]
        low, high = frame[f"{kind}_low"], frame[f"{kind}_high"]
        inside = frame[f"{kind}_actual"].between(low, high)
        forecast = frame[f"{kind}_forecast"].notna()
        bounded = forecast & np.isfinite(low) & np.isfinite(high)
        rows[kind] = {"sessions": int(forecast.sum()), "wape_median": wape.median(),
                      "wape_mean": wape.mean(), "error_mean": frame[f"{kind}_error"].mean(),
                      "coverage": inside[bounded].mean(),
                      "unbounded": int((forecast & ~bounded).sum())}
    return pd.DataFrame.from_dict(rows, orient="index")


def uplift_summary(frame: pd.DataFrame) -> dict:
    """Predicted uplift of the plans over the actual spend (`UPLIFT_SUMMARY`)."""
    planned = frame[frame["uplift"].notna()]
    out = {"sessions": len(frame), "planned": len(planned),
           "infeasible": int((frame["status"] == "infeasible").sum()),
           "statuses": {str(k): int(n) for k, n in frame["status"].value_counts().items()}}
    if planned.empty:
        return out | dict.fromkeys(("uplift_mean", "uplift_median", "uplift_low", "uplift_high",
                                    "beats_actual"))
    return out | {"uplift_mean": float(planned["uplift"].mean()),
                  "uplift_median": float(planned["uplift"].median()),
                  "uplift_low": float(planned["uplift_low"].mean()),
                  "uplift_high": float(planned["uplift_high"].mean()),
                  "beats_actual": float((planned["uplift_low"] > 0).mean())}


def summary(frame: pd.DataFrame) -> dict:
    """{"forecast": {kind: `FORECAST_SUMMARY`}, "uplift": `UPLIFT_SUMMARY`}, for JSON: a
    number that is not finite (NaN, or an interval end at infinity) is None."""
    forecast = {kind: {key: _finite(value) for key, value in row.items()}
                for kind, row in forecast_summary(frame).to_dict(orient="index").items()}
    uplift = {key: _finite(value) for key, value in uplift_summary(frame).items()}
    return {"forecast": forecast, "uplift": uplift}


def _finite(value):
    """`value`, or None for a float that is NaN or infinite."""
    return None if isinstance(value, float) and not np.isfinite(value) else value


@chart_fonts()
def plot_backtest(frame: pd.DataFrame, path: str | Path) -> Path:
    """`backtest_figure(frame)` as a PNG at `path` (folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    backtest_figure(frame).savefig(path, dpi=110)
    return path


def backtest_figure(frame: pd.DataFrame):
    """A matplotlib Figure, a panel per question, sessions along x (labelled by start date):

    1. total GMV per session (yuan): what happened, the forecast under the actual spend with
       its 90% interval, and the plan's forecast;
    2. minute-level WAPE of paid, organic and total GMV per session (%);
    3. predicted uplift of the plan over the actual spend with its paired 90% interval (%),
       sessions without a plan marked on the zero line.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    x = frame["session"].to_numpy()
    figure = Figure(figsize=(max(8.0, 0.45 * len(x) + 4) + 3.0, 11), layout="constrained")
    FigureCanvasAgg(figure)
    gmv_ax, wape_ax, uplift_ax = figure.subplots(3, 1, sharex=True)

    _with_interval(gmv_ax, x, frame, "total_forecast", "total_low", "total_high",
                   f"forecast under the actual spend ({LEVEL:.0%} interval)",
                   also=("total_actual", "plan_total"))
    gmv_ax.plot(x, frame["total_actual"], "o", color="black", label="actual")
    gmv_ax.plot(x, frame["plan_total"], "^", color="tab:green", label="plan's forecast")
    gmv_ax.set_ylabel("total GMV per session (yuan)")
    gmv_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    gmv_ax.set_title("Total GMV: forecast (fitted on earlier sessions only) vs actual")

    for kind in KINDS:
        wape_ax.plot(x, frame[f"{kind}_wape"], "o-", label=kind)
    wape_ax.set_ylabel("minute-level WAPE (%)")
    wape_ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    wape_ax.set_ylim(bottom=0)
    wape_ax.set_title("Forecast error within each session, by GMV kind")

    _with_interval(uplift_ax, x, frame, "uplift", "uplift_low", "uplift_high",
                   f"plan vs actual spend (paired {LEVEL:.0%} interval)")
    unplanned = frame["uplift"].isna().to_numpy()
    if unplanned.any():
        uplift_ax.plot(x[unplanned], np.zeros(unplanned.sum()), "x", color="crimson",
                       markersize=9, label="no plan (see status)")
    uplift_ax.axhline(0, color="0.4", linewidth=1)
    uplift_ax.set_ylabel("predicted uplift in total GMV (%)")
    uplift_ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    uplift_ax.set_title("Predicted uplift of the plan over the spend actually used")

    uplift_ax.set_xticks(x, [f"{s:%m-%d}" for s in pd.to_datetime(frame["start"])],
                         rotation=45 if len(x) > 12 else 0)
    uplift_ax.set_xlabel("session (start date, MM-DD)")
    for ax in (gmv_ax, wape_ax, uplift_ax):  # legends right of the panels: inside, "best"
        ax.grid(alpha=0.3)                  # still covered a session's interval
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0)
    return figure


def _with_interval(ax, x: np.ndarray, frame: pd.DataFrame, point: str, low: str, high: str,
                   label: str, also: tuple[str, ...] = ()) -> None:
    """Points of column `point` with error bars from columns `low` to `high`.

    The y range (which covers the columns `also` too) leaves out interval ends more than `_FAR`
    median interval widths from their point (a fit on few sessions can draw absurd values):
    those bars run off the panel, and the label says so.
    """
    middle = frame[point].to_numpy(dtype=float)
    ends = frame[[low, high]].to_numpy(dtype=float)
    reach = _FAR * np.nanmedian(ends[:, 1] - ends[:, 0]) if np.isfinite(ends).any() else 0.0
    far = np.abs(ends - middle[:, None]) > reach
    if far.any():
        label += ", cut at the panel's edge"
    ax.errorbar(x, middle, yerr=np.abs(ends - middle[:, None]).T, fmt="s", color="tab:blue",
                ecolor="tab:blue", capsize=3, alpha=0.8, label=label)
    shown = np.concatenate([middle, ends[~far], frame[list(also)].to_numpy(float).ravel()])
    shown = shown[np.isfinite(shown)]
    if far.any() and shown.size:
        margin = 0.05 * max(float(np.ptp(shown)), float(np.abs(shown).max()) * 1e-3)
        ax.set_ylim(shown.min() - margin, shown.max() + margin)
