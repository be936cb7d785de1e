"""`spendplan`: the command line, a thin shell over `optimizer.pipeline` and the stages.

Exit status (CONTRACT.md): 0 done; 1 unexpected internal error; 2 bad input (message names the
file, row or key and the fix, no traceback); 3 infeasible.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from optimizer.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Ad-spend planning for live-stream rooms: fit response curves, plan a "
                       "session's budget over audience packages and minutes, simulate.")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # never break a message a script may grep

EXIT_INPUT, EXIT_INTERNAL, EXIT_INFEASIBLE = 2, 1, 3

ConfigArg = Annotated[Path, typer.Argument(help="Campaign config (YAML, see CONTRACT.md).")]
OutDir = Annotated[Path, typer.Option("--out", help="Output folder (created when missing).")]
ModelOpt = Annotated[Path | None, typer.Option(
    "--model", help="Use this fitted model artifact instead of fitting / the cache.")]


def _steps(title: str) -> tuple[Progress, callable]:
    """A live progress display and the callback that names the current step."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=errors, transient=True, disable=not errors.is_terminal)
    task = progress.add_task(title)
    return progress, lambda step: progress.update(task, description=f"{title}: {step}")


def _load_and_fit(config: Path, model: Path | None):
    from optimizer import pipeline

    campaign = pipeline.load_campaign(config)
    for note in campaign.report:
        errors.print(f"[dim]note:[/dim] {note}")
    progress, tell = _steps("fitting response curves")
    with progress:
        fitted, source = pipeline.campaign_model(campaign, config, model, progress=tell)
    errors.print(f"[dim]model:[/dim] {source}")
    return campaign, fitted


def _plan_view(plan):
    """Per-package totals of a plan, formatted (the contract's summary is in summary.json)."""
    import pandas as pd

    spend = plan.spend.sum(axis=0)
    paid = plan.paid_gmv.sum(axis=0)
    uplift = plan.organic_uplift_by_package.sum(axis=0)
    prices = plan.shadow_prices.get("packages", {})
    return pd.DataFrame({
        "package": plan.packages,
        "spend ¥": [_money(v) for v in spend],
        "paid GMV ¥": [_money(v) for v in paid],
        "paid ROI": [_ratio(p / s) if s > 0 else "" for p, s in zip(paid, spend, strict=True)],
        "organic uplift ¥": [_money(v) for v in uplift],
        "marginal ROI": [_ratio(prices.get(p, {}).get("marginal_roi", float("nan")))
                         for p in plan.packages],
    })


def _print_summary(summary: dict, title: str) -> None:
    """The headline numbers of summary.json."""
    table = Table(title=title, title_justify="left", show_header=False)
    for key in ("status", "total_spend", "expected_paid_gmv", "expected_organic_gmv",
                "expected_total_gmv", "paid_roi", "overall_roi", "solve_seconds"):
        value = summary.get(key)
        text = (f"{value:,.0f}" if isinstance(value, float) and abs(value) >= 100 else
                f"{value:.3g}" if isinstance(value, float) else str(value))
        table.add_row(key, text)
    console.print(table)


def _finish_plan(plan, campaign, out: Path) -> None:
    """Write a plan's files, show it, and exit 3 when it is infeasible."""
    from optimizer.planner import write_plan_outputs

    paths = write_plan_outputs(plan, campaign.config.session.start, out)
    summary = plan.summary()
    _print_summary(summary, f"Plan for {campaign.config.session.start:%Y-%m-%d %H:%M}, "
                            f"{campaign.minutes} minutes")
    for warning in plan.warnings:
        errors.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if plan.infeasibility is not None:
        errors.print(f"[bold red]infeasible:[/bold red] {plan.infeasibility.message}",
                     highlight=False)
        console.print(f"summary: {paths['summary']}")
        raise typer.Exit(EXIT_INFEASIBLE)
    _print_frame(_plan_view(plan), "By package")
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
def plan(config: ConfigArg, out: OutDir, model: ModelOpt = None) -> None:
    """Plan CONFIG's session: plan.csv, summary.json and plan.png in --out (CONTRACT.md)."""
    from optimizer import pipeline

    campaign, fitted = _load_and_fit(config, model)
    with _steps("planning")[0]:
        result = pipeline.plan_campaign(campaign, fitted)
    _finish_plan(result, campaign, out)


@app.command()
def evaluate(
    config: ConfigArg,
    plan_csv: Annotated[Path, typer.Option("--plan", help="Spend schedule (plan.csv format; "
                                                          "ts, package, spend are read).")],
    out: OutDir,
    model: ModelOpt = None,
) -> None:
    """Forecast a spend schedule for CONFIG's session: summary.json and forecast.csv."""
    import json

    from optimizer import pipeline
    from optimizer.data.schedule import load_schedule
    from optimizer.planner import write_plan_outputs

    campaign, fitted = _load_and_fit(config, model)
    spend, report = load_schedule(plan_csv, campaign.config.session.start, campaign.minutes,
                                  campaign.packages)
    for note in report:
        errors.print(f"[dim]note:[/dim] {note}")
    forecast, intervals = pipeline.evaluate_campaign(campaign, fitted, spend)
    paths = write_plan_outputs(forecast, campaign.config.session.start, out,
                               table="forecast.csv")
    summary = forecast.summary() | {"intervals_90": intervals}
    paths["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    _print_summary(summary, f"Forecast of {plan_csv}")
    for name, (low, high) in intervals.items():
        console.print(f"{name}: 90% interval {low:,.0f} to {high:,.0f} yuan")
    for warning in forecast.warnings:
        errors.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
def fit(config: ConfigArg,
        out: Annotated[Path, typer.Option("--out", help="Model artifact to write (JSON).")]
        ) -> None:
    """Fit the response curves of CONFIG's history; save them with a fit report (table, PNG)."""
    from optimizer import pipeline
    from optimizer.curves import save_model, to_artifact
    from optimizer.curves.report import fit_summary, plot_curves

    campaign = pipeline.load_campaign(config)
    progress, tell = _steps("fitting response curves")
    with progress:
        model = pipeline.fit_campaign(campaign, progress=tell)
    path = save_model(to_artifact(model), out)
    _print_frame(_fit_view(fit_summary(model, campaign.panel())), "Fitted response curves")
    chart = plot_curves(model, campaign.panel(), path.with_suffix(".png"))
    console.print(f"model: {path}\ncurves chart: {chart}")


@app.command()
def simulate(
    scenario: Annotated[str, typer.Option(help="A builtin scenario name or a scenario YAML.")],
    days: Annotated[int, typer.Option(help="Sessions to simulate, one a day.")] = 21,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: OutDir = Path("simulated"),
) -> None:
    """Simulate a room's history in the contract's format, with its truth.json."""
    from optimizer.sim import Scenario, list_builtin, write_simulation

    chosen = Scenario.builtin(scenario) if scenario in list_builtin() else \
        Scenario.from_yaml(scenario)
    paths = write_simulation(chosen, days, seed, out)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL (postgresql+psycopg://...) or a SQLite file path "
             "(default: spendplan.db here).")] = None,
    replan_budget_ms: Annotated[float | None, typer.Option(
        help="Time a re-plan may take before the fallback, ms (default 500).")] = None,
    max_body_bytes: Annotated[int | None, typer.Option(
        help="Largest request body accepted, bytes.")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="Folder that history and model paths in requests are relative to.")] = None,
) -> None:
    """Serve the bidding API: plans, minute allocations, actuals and re-planning over HTTP."""
    try:
        from optimizer.api.server import serve as run
    except ImportError as error:
        raise InputError(f"the API needs its extra dependencies ({error.name} is missing)",
                         fix='pip install -e ".[api]"') from None
    run(host=host, port=port, db=db, replan_budget_ms=replan_budget_ms,
        max_body_bytes=max_body_bytes, data_dir=data_dir)


def demo_config() -> Path:
    """The shipped demo config (`configs/demo.yaml` of the project checkout)."""
    path = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
    if not path.is_file():
        raise InputError("the demo config is not here", source=str(path),
                         fix="install spendplan from its source checkout (pip install -e .), "
                             "which holds configs/ and data/demo/")
    return path


@app.command()
def demo(out: OutDir = Path("out/demo")) -> None:
    """Run the whole job on the shipped demo data (validate, fit, plan the next session) and
    print where the outputs are."""
    from optimizer import pipeline
    from optimizer.curves import save_model, to_artifact
    from optimizer.curves.report import fit_summary, plot_curves
    from optimizer.data.summary import history_summary

    config = demo_config()
    campaign, model = _load_and_fit(config, None)
    _print_frame(_history_view(history_summary(campaign.history)), f"Demo history: {config}")
    _print_frame(_fit_view(fit_summary(model, campaign.panel())), "Fitted response curves")
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"model: {save_model(to_artifact(model), out / 'model.json')}")
    console.print(f"curves chart: {plot_curves(model, campaign.panel(), out / 'curves.png')}")
    _finish_plan(pipeline.plan_campaign(campaign, model), campaign, out)


def _print_frame(frame, title: str) -> None:
    """A pandas frame of display strings as a rich table (text left, numbers right)."""
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        numeric = frame[column].astype(str).str.match(r"^[-+\d.,% ()]+$|^$").all()
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in frame.astype(str).itertuples(index=False):
        table.add_row(*row)
    console.print(table)


def _money(value: float) -> str:
    return "" if value != value else f"{value:,.0f}"


def _ratio(value: float, low: float | None = None, high: float | None = None) -> str:
    if value != value:
        return ""
    return f"{value:.2f}" if low is None else f"{value:.2f} ({low:.2f} to {high:.2f})"


def _history_view(summary):
    """The history summary, formatted: one row per package and the room's organic GMV."""
    import pandas as pd

    return pd.DataFrame({
        "package": summary["package"],
        "active min": summary["active_minutes"].map(lambda v: f"{v:,.0f}"),
        "spend ¥": summary["spend"].map(_money),
        "paid GMV ¥": summary["paid_gmv"].map(_money),
        "paid ROI": summary["paid_roi"].map(_ratio),
        "organic GMV ¥": summary["organic_gmv"].map(_money),
    })


def _fit_view(summary):
    """The fit summary, formatted: curve, carryover, marginal ROI and leverage with 90% bands."""
    import pandas as pd

    rows = summary.reset_index()
    return pd.DataFrame({
        "package": rows.iloc[:, 0],
        "curve": rows["family"].fillna(""),
        "half-life min": rows["half_life"].map(lambda v: "" if v != v else f"{v:.1f}"),
        "marginal ROI @typical (90%)": [_ratio(*v) for v in zip(
            rows["marginal_roi"], rows["marginal_roi_low"], rows["marginal_roi_high"],
            strict=True)],
        "organic leverage (90%)": [_ratio(*v) for v in zip(
            rows["organic_leverage"], rows["organic_leverage_low"],
            rows["organic_leverage_high"], strict=True)],
        "held-out WAPE": rows["holdout_wape"].map(lambda v: "" if v != v else f"{v:.0%}"),
        "noise floor": rows["noise_floor_wape"].map(lambda v: "" if v != v else f"{v:.0%}"),
    })


def main() -> None:
    """Entry point: runs the app and maps errors to the contract's exit status."""
    try:
        # without standalone mode, typer returns the code of a `typer.Exit` instead of raising
        code = app(standalone_mode=False)
    except InputError as error:
        errors.print(f"[bold red]error:[/bold red] {error.message}", highlight=False)
        sys.exit(EXIT_INPUT)
    except typer.TyperException as error:  # usage errors: bad option, missing argument
        error.show()
        sys.exit(EXIT_INPUT)
    except typer.Abort:
        errors.print("aborted")
        sys.exit(EXIT_INTERNAL)
    except Exception as error:  # noqa: BLE001 - the contract's status 1 with a short report
        errors.print(f"[bold red]internal error:[/bold red] {type(error).__name__}: {error}",
                     highlight=False)
        if os.environ.get("SPENDPLAN_DEBUG"):
            traceback.print_exc()
        else:
            errors.print("set SPENDPLAN_DEBUG=1 for the traceback, and please report it")
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
