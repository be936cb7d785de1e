"""Files of a plan: the contract's plan.csv and summary.json, and plan.png for people.

The chart is drawn on matplotlib's Agg canvas directly (no pyplot, no GUI backend), imported
only when a chart is drawn, with fixed margins and ticks (no layout engine): importing
matplotlib and laying out three panels cost about as much as the whole solve.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.charts import chart_fonts
from optimizer.planner.plan import Plan

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def write_plan_outputs(
    plan: Plan, start: pd.Timestamp, out_dir: str | Path, table: str = "plan.csv",
    draw: Callable[[Plan, pd.Timestamp, Path], None] | None = None, extra: dict | None = None,
) -> dict[str, Path]:
    """Write summary.json, and unless infeasible the per-minute `table` and plan.png (an
    infeasible plan removes those of an earlier run, which would contradict its summary).

    start: the session's first minute (local time); draw: what draws plan.png (default
    `draw_plan`; the CLI's `ChartInBackground.draw`); extra: keys added to the summary (e.g.
    intervals). Returns the paths written by kind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.json"}
    summary = plan.summary() | (extra or {})
    paths["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    if plan.status == "infeasible":
        for stale in (out / table, out / "plan.png"):
            stale.unlink(missing_ok=True)
        return paths
    frame = plan.to_frame(pd.Timestamp(start))
    frame["ts"] = frame["ts"].dt.strftime(TIME_FORMAT)
    paths["table"] = out / table
    frame.to_csv(paths["table"], index=False)
    paths["chart"] = out / "plan.png"
    (draw or draw_plan)(plan, pd.Timestamp(start), paths["chart"])
    return paths


@chart_fonts()
def draw_plan(plan: Plan, start: pd.Timestamp, path: Path) -> None:
    """`plan_figure(plan, start)` as a PNG at `path`."""
    plan_figure(plan, start).savefig(path, dpi=110)


def plan_figure(plan: Plan, start: pd.Timestamp):
    """A matplotlib Figure of three panels, each with its legend beside it: spend by package
    (stacked, yuan/min), cumulative spend vs budget (yuan), expected GMV (yuan/min).

    The x axis is the minute of the session, labelled with the local time (HH:MM).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    T = plan.spend.shape[0]
    ts = np.arange(T)
    fig = Figure(figsize=(13, 10))
    FigureCanvasAgg(fig)  # attaches itself: savefig renders with Agg
    fig.subplots_adjust(left=0.07, right=0.83, bottom=0.06, top=0.96, hspace=0.3)
    axes = fig.subplots(3, 1, sharex=True)
    spend_ax, cumulative_ax, gmv_ax = axes
    spend_ax.stackplot(ts, plan.spend.T, labels=plan.packages, step="post", alpha=0.85)
    spend_ax.set_ylabel("spend (yuan/min)")
    # titles at a fixed height (y): placing them above the tick labels costs a layout pass
    spend_ax.set_title(
        f"Spend by package ({plan.status}, total {plan.total_spend:,.0f} yuan)", y=1.01
    )
    cumulative_ax.plot(ts, np.cumsum(plan.spend.sum(axis=1)), label="planned cumulative spend")
    cumulative_ax.axhline(plan.problem.budget, color="crimson", linestyle="--", label="budget")
    cumulative_ax.set_ylabel("cumulative spend (yuan)")
    cumulative_ax.set_title("Cumulative spend vs budget", y=1.01)
    gmv_ax.plot(ts, plan.paid_gmv.sum(axis=1), label="expected paid GMV")
    gmv_ax.plot(ts, plan.organic_gmv, label="expected organic GMV")
    gmv_ax.plot(ts, plan.problem.response.baseline, linestyle=":", label="baseline organic")
    gmv_ax.set_ylabel("GMV (yuan/min)")
    gmv_ax.set_xlabel("session time")
    gmv_ax.set_title(
        f"Expected GMV (total {plan.expected_total_gmv:,.0f} yuan, paid ROI "
        f"{_ratio(plan.paid_roi)}, overall ROI {_ratio(plan.overall_roi)})",
        y=1.01,
    )
    for ax in axes:  # legends beside the panels: inside, they covered the peak's spend
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                  fontsize="small")
    gmv_ax.set_xlim(0, max(T - 1, 1))
    gmv_ax.xaxis.set_major_locator(MaxNLocator(10, steps=[1, 1.5, 3, 6, 10]))
    clock = FuncFormatter(lambda minute, _: f"{start + pd.Timedelta(minutes=minute):%H:%M}")
    gmv_ax.xaxis.set_major_formatter(clock)
    return fig


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
