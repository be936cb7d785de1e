"""What the CLI shows in a terminal: rich consoles, progress displays and formatted tables.

Each `*_view` turns a stage's frame or dict into a pandas frame of display strings (money in
yuan without decimals, ratios with two, fractions as percentages) for `print_frame`.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # never break a message a script may grep


def progress_steps(title: str) -> tuple[Progress, callable]:
    """A live progress display and the callback that names the current step."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=errors, transient=True, disable=not errors.is_terminal)
    task = progress.add_task(title)
    return progress, lambda step: progress.update(task, description=f"{title}: {step}")


def progress_bar(title: str, total: int) -> tuple[Progress, callable]:
    """A live progress bar of `total` items and the callback that advances it by n."""
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=errors, transient=True,
                   disable=not errors.is_terminal)
    task = bar.add_task(title, total=total)
    return bar, lambda n: bar.advance(task, n)


def plan_view(plan):
    """Per-package totals of a plan, formatted (the contract's summary is in summary.json)."""
    import pandas as pd

    spend = plan.spend.sum(axis=0)
    paid = plan.paid_gmv.sum(axis=0)
    uplift = plan.organic_uplift_by_package.sum(axis=0)
    prices = plan.shadow_prices.get("packages", {})
    return pd.DataFrame({
        "package": plan.packages,
        "spend ¥": [money(v) for v in spend],
        "paid GMV ¥": [money(v) for v in paid],
        "paid ROI": [ratio(p / s) if s > 0 else "" for p, s in zip(paid, spend, strict=True)],
        "organic uplift ¥": [money(v) for v in uplift],
        "marginal ROI": [ratio(prices.get(p, {}).get("marginal_roi", float("nan")))
                         for p in plan.packages],
    })


_OBJECTIVE_GAIN = {"max_gmv": "expected GMV", "max_profit": "expected profit"}
"""What the budget's shadow price is in, per objective (min_spend: not a gain)."""


def print_summary(summary: dict, title: str) -> None:
    """The headline numbers of summary.json, then what binds (with the budget's shadow price)."""
    table = Table(title=title, title_justify="left", show_header=False,
                  min_width=len(title))  # the title on one line, not wrapped to the numbers
    table.add_column()
    table.add_column(justify="right")
    for key in ("status", "total_spend", "expected_paid_gmv", "expected_organic_gmv",
                "expected_total_gmv", "paid_roi", "overall_roi", "solve_seconds"):
        value = summary.get(key)
        if key == "solve_seconds" and summary.get("status") == "evaluated":
            continue  # a forecast solves nothing: its 0 is the contract's key, not news
        text = (f"{value:,.0f}" if isinstance(value, float) and abs(value) >= 100 else
                f"{value:.3g}" if isinstance(value, float) else str(value))
        table.add_row(key, text)
    console.print(table)
    binding = summary.get("binding") or []
    if binding:
        price = (summary.get("shadow_prices") or {}).get("budget")
        gain = _OBJECTIVE_GAIN.get(summary.get("objective"))
        extra = "" if not price or not gain else (f" (each extra yuan of budget adds "
                                                  f"{price:,.2f} yuan of {gain})")
        console.print(f"Holding the plan back{extra}:", soft_wrap=True)
        for name in binding:
            console.print(f"  - {name}", highlight=False, soft_wrap=True)


CHANCE_HINT = 2 / 3
"""A floor or target that holds in fewer of the draws than this gets a hint to hold it at a
confidence (`planner.confidence`)."""


def print_spread(spread: dict, requirements: dict[str, str], confident: bool) -> None:
    """A schedule's 90% intervals and how often each requirement holds (`spread`: the
    summary's "intervals_90" and "chances"); requirements: each chance's words, e.g.
    {"paid_roi": "paid ROI >= 3.5"}; confident: the plan already holds them at a confidence."""
    for name, (low, high) in spread["intervals_90"].items():
        console.print(f"{name}: 90% interval {low:,.0f} to {high:,.0f} yuan")
    console.print("[dim]intervals: the fit's uncertainty and day-to-day variation as history "
                  "shows it; they held 88% of sessions' paid GMV and 89% of total on the "
                  "simulator's truths, 90% and 91% on 20 outside truths "
                  "(benchmarks/results/forecast_coverage.txt)[/dim]")
    for name, share in spread["chances"].items():
        console.print(f"{requirements[name]}: holds in {share:.0%} of the draws",
                      highlight=False)
    if any(share < 1 for share in spread["chances"].values()):
        console.print("[dim]the draws are the fit's own view: plans held a floor that 90% of "
                      "their draws kept in 75-89% of simulated sessions[/dim]")
    if not confident and any(share < CHANCE_HINT for share in spread["chances"].values()):
        console.print("[dim]hint: floors and targets hold in expectation, about half the days "
                      "when they bind; planner.confidence (e.g. 0.8) plans them to hold at least "
                      "that often, at some GMV[/dim]")


def percent(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A fraction as a signed percentage, with an interval when given (a None end, e.g. draws
    that overflowed: "unbounded")."""
    if value is None or value != value:
        return ""
    if low is None and high is None:
        return f"{value:+.1%}"
    low_text, high_text = ("unbounded" if end is None else f"{end:+.1%}" for end in (low, high))
    return f"{value:+.1%} ({low_text} to {high_text})"


def forecast_view(table):
    """The back-test's forecast summary, formatted: one row per GMV kind."""
    import pandas as pd

    return pd.DataFrame({
        "GMV": table.index,
        "sessions": table["sessions"],
        "median WAPE": table["wape_median"].map(lambda v: f"{v:.1%}"),
        "mean WAPE": table["wape_mean"].map(lambda v: f"{v:.1%}"),
        "mean error": table["error_mean"].map(percent),
        "actual in 90% interval": [
            ("-" if v != v else f"{v:.0%}") + (f" ({n} unbounded left out)" if n else "")
            for v, n in zip(table["coverage"], table["unbounded"], strict=True)],
    })


def uplift_view(uplift: dict):
    """The back-test's uplift summary, formatted: one row per figure."""
    import pandas as pd

    above = uplift["beats_actual"]
    return pd.DataFrame({"figure": [
        "sessions", "planned", "infeasible", "by status", "mean uplift (mean 90% interval)",
        "median uplift", "planned sessions with the interval above 0"], "value": [
        uplift["sessions"], uplift["planned"], uplift["infeasible"],
        ", ".join(f"{status} {n}" for status, n in uplift["statuses"].items()),
        percent(uplift["uplift_mean"], uplift["uplift_low"], uplift["uplift_high"]),
        percent(uplift["uplift_median"]), "" if above is None else f"{above:.0%}"]})


def policy_view(table, floors: dict):
    """`distribution`'s table, formatted: a row per metric, a column per policy with its mean
    (P10 to P90); with a floor, the share of sessions that missed it."""
    import pandas as pd

    from optimizer.sim.closed_loop import FLOOR_MISS

    def share(value: float) -> str:
        return f"{value:.1%}"

    shown = [("total GMV ¥", "total_gmv", money), ("paid GMV ¥", "paid_gmv", money),
             ("organic GMV ¥", "organic_gmv", money), ("spend ¥", "spend", money),
             ("paid ROI", "paid_roi", ratio), ("overall ROI", "overall_roi", ratio),
             ("budget error", "budget_error", share), ("pacing error", "pacing_error", share),
             ("regret vs oracle", "regret", share)]
    shown = [row for row in shown if row[1] in table]
    view = {"metric": [label for label, _, _ in shown]}
    for policy, row in table.iterrows():
        view[policy] = [f"{fmt(row[m, 'mean'])} ({fmt(row[m, 'p10'])} to {fmt(row[m, 'p90'])})"
                        for _, m, fmt in shown]
    for kind, floor in floors.items():
        if floor:
            view["metric"].append(f"{kind} ROI under {floor:g} by > {FLOOR_MISS:.0%} "
                                  "(sessions)")
            for policy, row in table.iterrows():
                view[policy].append(f"{row[f'{kind}_floor_missed', 'mean']:.0%}")
    return pd.DataFrame(view)


def print_frame(frame, title: str) -> None:
    """A pandas frame of display strings as a rich table (text left, numbers right)."""
    table = Table(title=title, title_justify="left")
    for k, column in enumerate(frame.columns):
        values = frame[column].astype(str)
        numeric = values.str.match(r"^[-+\d.,% ()]+$|^$").all()
        # the first column names the row (a package): whole, never cut to "compet…"
        whole = {"no_wrap": True, "min_width": int(values.str.len().max())} if k == 0 \
            and len(values) else {}
        table.add_column(str(column), justify="right" if numeric else "left", **whole)
    for row in frame.astype(str).itertuples(index=False):
        table.add_row(*row)
    console.print(table)


def money(value: float) -> str:
    return "" if value != value else f"{value:,.0f}"


def ratio(value: float, low: float | None = None, high: float | None = None) -> str:
    if value != value:
        return ""
    return f"{value:.2f}" if low is None else f"{value:.2f} ({low:.2f} to {high:.2f})"


def share(value: float, low: float, high: float) -> str:
    """A fraction and a band as whole percents, e.g. '62% (57-68%)'; empty for NaN."""
    if value != value:
        return ""
    return f"{value:.0%}" if low != low else f"{value:.0%} ({low * 100:.0f}-{high:.0%})"


def history_view(summary):
    """The history summary, formatted: one row per package and the room's organic GMV."""
    import pandas as pd

    return pd.DataFrame({
        "package": summary.index,
        "active min": summary["active_minutes"].map(lambda v: f"{v:,.0f}"),
        "spend ¥": summary["spend"].map(money),
        "paid GMV ¥": summary["paid_gmv"].map(money),
        "paid ROI": summary["paid_roi"].map(ratio),
        "organic GMV ¥": summary["organic_gmv"].map(money),
    })


def print_fit(summary, organic=None) -> None:
    """The fit table (`fit_view`), then each package's note (no fitted curve, or a
    half-saturation the data do not identify) and the organic model's (`organic_summary`,
    a ceiling the data do not identify, a close choice of drive) on its own line."""
    print_frame(fit_view(summary), "Fitted response curves")
    notes = summary["note"].items()
    if organic is not None:
        notes = [*notes, ("organic", _LEVERED[organic["driver"].iloc[0]]),
                 *organic["note"].items()]
    for name, note in notes:
        if note:
            errors.print(f"[dim]note:[/dim] {name}: {note}", highlight=False)


_LEVERED = {
    "spend": "uplift levered by each package's spend",
    "paid": "uplift levered by each package's paid GMV (chosen on held-out sessions); the "
            "leverage shown is per paid yuan at typical spend",
}
"""The fit note on what levers organic GMV, by `organic_summary`'s driver."""


def fit_view(summary):
    """The fit summary, formatted: curve (with its family's weight when another was weighed),
    carryover half-life (``×2``: two stages of it, a delayed peak), marginal ROI and leverage
    with 90% bands."""
    import pandas as pd

    rows = summary.reset_index()
    return pd.DataFrame({
        "package": rows.iloc[:, 0],
        "curve": [f"{family} {weight:.0%}" if weight < 1 else family for family, weight
                  in zip(rows["family"].fillna(""), rows["family_weight"].fillna(1.0),
                         strict=True)],
        "half-life min": ["" if h != h else f"{h:.1f}" + (f" ×{n:.0f}" if n > 1 else "")
                          for h, n in zip(rows["half_life"], rows["carryover_stages"],
                                          strict=True)],
        "reach ¥/min": rows["seen_spend"].map(lambda v: "" if v != v else f"{v:,.0f}"),
        "marginal ROI @typical (90%)": [ratio(*v) for v in zip(
            rows["marginal_roi"], rows["marginal_roi_low"], rows["marginal_roi_high"],
            strict=True)],
        "organic leverage (90%)": [ratio(*v) for v in zip(
            rows["organic_leverage"], rows["organic_leverage_low"],
            rows["organic_leverage_high"], strict=True)],
        "held-out WAPE (noise floor 90%)": [share(*v) for v in zip(
            rows["holdout_wape"], rows["noise_floor_low"], rows["noise_floor_high"],
            strict=True)],
    })
