"""`spendplan`: the command line, a thin shell over `optimizer.pipeline` and the stages.

Exit status (CONTRACT.md): 0 done; 1 unexpected internal error; 2 bad input (message names the
file, row or key and the fix, no traceback); 3 infeasible.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from optimizer.errors import InputError
from optimizer.terminal import (
    console,
    errors,
    forecast_view,
    history_view,
    plan_view,
    policy_view,
    print_fit,
    print_frame,
    print_spread,
    print_summary,
    progress_bar,
    progress_steps,
    uplift_view,
)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Ad-spend planning for live-stream rooms: fit response curves, plan a "
                       "session's budget over audience packages and minutes, simulate.")

EXIT_INPUT, EXIT_INTERNAL, EXIT_INFEASIBLE = 2, 1, 3


def _print_version(value: bool) -> None:
    if value:
        from optimizer import __version__

        console.print(f"spendplan {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the installed version and exit.")] = False) -> None:
    """Ad-spend planning for live-stream rooms."""

ConfigArg = Annotated[Path, typer.Argument(help="Campaign config (YAML, see CONTRACT.md).")]


def _usable_folder(path: Path) -> Path:
    """`path`, created when missing; bad input (exit 2) before any work when it cannot be
    written into (a file, a read-only place)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):  # os.access says yes to root, even in /proc
            pass
        usable, why = True, ""
    except OSError as error:
        usable, why = False, error.strerror or type(error).__name__
    if not usable:
        raise InputError(f"cannot write into {path} ({why})", where="--out",
                         fix="give a folder you can write to: a new one, or an existing folder "
                             "(not a file)")
    return path


def _usable_model_file(path: Path) -> Path:
    """`path` as the model artifact to write: a .json file (its chart goes beside it, as .png)
    whose folder is usable (`_usable_folder`)."""
    if path.is_dir():
        raise InputError(f"{path} is a folder", where="--out",
                         fix="give the file to write, e.g. models/NAME.json")
    if path.suffix.lower() != ".json":
        raise InputError(f"{path} is not a .json file: the model is JSON, and its curves chart "
                         "is written beside it with .png", where="--out",
                         fix=f"give a name ending in .json, e.g. {path.with_suffix('.json')}")
    _usable_folder(path.parent)
    return path


OutDir = Annotated[Path, typer.Option("--out", help="Output folder (created when missing).",
                                      callback=_usable_folder)]
ModelOpt = Annotated[Path | None, typer.Option(
    "--model", help="Use this fitted model artifact instead of fitting / the cache.")]


def _load(config: Path):
    """The campaign of `config`, the loader's notes printed (rows left out, re-sorted...)."""
    from optimizer import pipeline

    campaign = pipeline.load_campaign(config)
    for note in campaign.report:
        errors.print(f"[dim]note:[/dim] {escape(note)}")
    return campaign


def _load_and_fit(config: Path, model: Path | None):
    from optimizer import pipeline

    campaign = _load(config)
    progress, tell = progress_steps("fitting response curves")
    with progress:
        fitted, source = pipeline.campaign_model(campaign, config, model, progress=tell,
                                                 n_jobs=os.cpu_count() or 1)
    errors.print(f"[dim]model:[/dim] {source}")
    return campaign, fitted


def _spread(campaign, fitted, spend) -> dict:
    """The summary's "intervals_90" and "chances" (`pipeline.schedule_spread`) of a schedule."""
    from optimizer import pipeline

    with progress_steps("drawing forecast intervals")[0]:
        spread = pipeline.schedule_spread(campaign, fitted, spend)
    return {"intervals_90": spread.intervals(),
            "chances": pipeline.config_chances(campaign, spread)}


def _show_spread(spread: dict, campaign) -> None:
    config = campaign.config
    words = {"paid_roi": ("paid ROI >= {:g}", config.roi.paid_min),
             "overall_roi": ("overall ROI >= {:g}", config.roi.overall_min),
             "gmv_target": ("GMV target {:,.0f}", config.gmv_target)}
    print_spread(spread, {name: words[name][0].format(words[name][1])
                          for name in spread["chances"]},
                 confident=config.planner.confidence is not None)


def _finish_plan(plan, campaign, fitted, out: Path, draw=None) -> None:
    """Write a plan's files (plan.png by `draw`, default in this process), show it, and exit 3
    when it is infeasible."""
    from optimizer.planner import write_plan_outputs

    spread = None if plan.status == "infeasible" else _spread(campaign, fitted, plan.spend)
    paths = write_plan_outputs(plan, campaign.config.session.start, out, draw=draw,
                               extra=spread)
    summary = plan.summary()
    print_summary(summary, f"Plan for {campaign.config.session.start:%Y-%m-%d %H:%M}, "
                            f"{campaign.minutes} minutes")
    if spread is not None:
        _show_spread(spread, campaign)
    for warning in plan.warnings:
        errors.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if plan.infeasibility is not None:
        errors.print(f"[bold red]infeasible:[/bold red] {plan.infeasibility.message}",
                     highlight=False)
        console.print(f"summary: {paths['summary']}")
        raise typer.Exit(EXIT_INFEASIBLE)
    print_frame(plan_view(plan), "By package")
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
def plan(config: ConfigArg, out: OutDir, model: ModelOpt = None) -> None:
    """Plan CONFIG's session: plan.csv, summary.json and plan.png in --out (CONTRACT.md)."""
    from optimizer.planner.chart_process import ChartInBackground

    with ChartInBackground() as chart:  # first: matplotlib loads while the rest works
        from optimizer import pipeline

        campaign, fitted = _load_and_fit(config, model)
        with progress_steps("planning")[0]:
            result = pipeline.plan_campaign(campaign, fitted)
        _finish_plan(result, campaign, fitted, out, chart.draw)


@app.command()
def evaluate(
    config: ConfigArg,
    plan_csv: Annotated[Path, typer.Option("--plan", help="Spend schedule (plan.csv format; "
                                                          "ts, package, spend are read).")],
    out: OutDir,
    model: ModelOpt = None,
) -> None:
    """Forecast a spend schedule for CONFIG's session: summary.json and forecast.csv."""
    from optimizer import pipeline
    from optimizer.data.schedule import load_schedule
    from optimizer.planner import write_plan_outputs

    campaign, fitted = _load_and_fit(config, model)
    spend, report = load_schedule(plan_csv, campaign.config.session.start, campaign.minutes,
                                  campaign.packages)
    for note in report:
        errors.print(f"[dim]note:[/dim] {note}")
    forecast = pipeline.forecast_campaign(campaign, fitted, spend)
    spread = _spread(campaign, fitted, spend)
    paths = write_plan_outputs(forecast, campaign.config.session.start, out,
                               table="forecast.csv", extra=spread)
    print_summary(forecast.summary(), f"Forecast of {plan_csv}")
    _show_spread(spread, campaign)
    for warning in forecast.warnings:
        errors.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
def fit(config: ConfigArg,
        out: Annotated[Path, typer.Option("--out", help="Model artifact to write (JSON).",
                                          callback=_usable_model_file)]
        ) -> None:
    """Fit the response curves of CONFIG's history; save them with a fit report (table, PNG)."""
    from optimizer import pipeline
    from optimizer.curves import save_model
    from optimizer.curves.report import fit_summary, organic_summary, plot_curves

    campaign = _load(config)
    progress, tell = progress_steps("fitting response curves")
    with progress:
        model = pipeline.fit_campaign(campaign, progress=tell, n_jobs=os.cpu_count() or 1)
    path = save_model(model, out)
    print_fit(fit_summary(model, campaign.panel()), organic_summary(model))
    chart = plot_curves(model, campaign.panel(), path.with_suffix(".png"))
    console.print(f"model: {path}\ncurves chart: {chart}")


@app.command()
def simulate(
    scenario: Annotated[str, typer.Option(help="A builtin scenario name or a scenario YAML.")],
    days: Annotated[int, typer.Option(min=1, help="Sessions to simulate, one a day.")] = 21,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    out: OutDir = Path("simulated"),
) -> None:
    """Simulate a room's history in the contract's format, with its truth.json."""
    from optimizer.sim import write_simulation

    paths = write_simulation(_scenario(scenario), days, seed, out)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
def backtest(
    config: ConfigArg,
    out: OutDir,
    first: Annotated[int | None, typer.Option(
        help="First session to back-test, 0 is the earliest (default 3: every session with "
             "at least 3 before it).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Sessions fitted at once, one process "
                                                     "each.")] = 2,
    budget: Annotated[str, typer.Option(
        help="Budget of each past session's plan: 'actual' (the yuan the operator spent that "
             "session: what the plan would have earned with the same money) or 'config'.")
    ] = "actual",
) -> None:
    """Back-test CONFIG's history: backtest.csv, summary.json and backtest.png in --out.

    Each past session is fitted on the sessions before it only, forecast under the spend
    actually used (WAPE) and planned under the config's constraints (predicted uplift).
    Sessions whose plan is infeasible are reported, and the exit status stays 0."""
    import json

    from optimizer.sim import backtest as rolling
    from optimizer.sim.backtest_report import forecast_summary, plot_backtest, summary

    rolling.check_budget(budget, "--budget")
    campaign = _load(config)
    sessions = len(campaign.history.sessions)
    first = rolling.MIN_TRAIN if first is None else first
    rolling.check_first(first, sessions, "--first")
    bar, advance = progress_bar("back-testing sessions", sessions - first)
    with bar:
        frame = rolling.backtest(campaign, first, budget, workers=workers,
                                 progress=lambda _session: advance(1))
    out.mkdir(parents=True, exist_ok=True)
    paths = {"per session": out / "backtest.csv", "summary": out / "summary.json"}
    frame.to_csv(paths["per session"], index=False)
    result = summary(frame) | {"budget": budget, "first_session": first}
    paths["summary"].write_text(json.dumps(result, indent=2, ensure_ascii=False))
    paths["chart"] = plot_backtest(frame, out / "backtest.png")
    print_frame(forecast_view(forecast_summary(frame)),
                 f"Forecasts under the actual spend, sessions {first} to {sessions - 1}")
    print_frame(uplift_view(result["uplift"]), f"Predicted uplift of plans over the actual "
                                                 f"spend (budget: {budget})")
    for row in frame[frame["uplift"].isna()].itertuples():
        errors.print(f"[yellow]{row.start:%Y-%m-%d} {row.status}:[/yellow] {row.reason}",
                     highlight=False)
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


@app.command("simulate-policy")
def simulate_policy(
    config: Annotated[Path | None, typer.Argument(
        help="Campaign config whose history was simulated (truth.json beside its spend "
             "table, as `spendplan simulate` writes); or give --scenario.")] = None,
    scenario: Annotated[str | None, typer.Option(
        help="A builtin scenario name or a scenario YAML: simulate --days of history into "
             "--out, fit it and plan the next session.")] = None,
    days: Annotated[int, typer.Option(help="With --scenario: sessions of history.")] = 21,
    history_seed: Annotated[int, typer.Option(
        min=0, help="With --scenario: the history's seed.")] = 0,
    sessions: Annotated[int, typer.Option(help="Noisy sessions per policy.")] = 100,
    replan_every: Annotated[int, typer.Option(help="Minutes between re-plans.")] = 5,
    budget: Annotated[float | None, typer.Option(
        help="Yuan for the session (default: the config's; with --scenario the history's "
             "mean session spend).")] = None,
    paid_roi_min: Annotated[float | None, typer.Option(
        help="Floor on paid ROI (default: the config's; none with --scenario).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Processes (default: the machine's cores).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the first session.")] = 0,
    out: OutDir = Path("out/policies"),
    model: ModelOpt = None,
) -> None:
    """Compare planning policies in noisy simulated sessions: runs.csv, distribution.csv, PNG.

    The static plan, re-planning, even pacing and the oracle (the planner on the simulator's
    true curves) each run through the same sessions; policies.png goes in --out too."""
    from dataclasses import replace

    from optimizer import pipeline
    from optimizer.data import load_config
    from optimizer.sim.closed_loop import distribution, plot_runs, simulate_policies
    from optimizer.sim.policies import NoPlan, standard_policies

    for name, value, least in (("--days", days, 3), ("--sessions", sessions, 1),
                               ("--replan-every", replan_every, 1), ("--workers", workers, 1)):
        if value is not None and value < least:
            raise InputError(f"must be at least {least}, got {value}", where=name,
                             fix=f"give {name} {least} or more")
    if budget is not None and not budget > 0:
        raise InputError(f"must be > 0 yuan, got {budget}", where="--budget",
                         fix="give the session's budget in yuan")
    if paid_roi_min is not None and not paid_roi_min >= 0:
        raise InputError(f"must be >= 0, got {paid_roi_min}", where="--paid-roi-min",
                         fix="give a paid ROI floor >= 0, or leave the option out")
    if (config is None) == (scenario is None):
        raise InputError("give either a campaign CONFIG or --scenario NAME, not both or neither",
                         where="simulate-policy", fix="e.g. `spendplan simulate-policy "
                         "--scenario default` or `spendplan simulate-policy configs/demo.yaml`")
    if scenario is not None:
        config = _simulated_campaign(scenario, days, history_seed, budget, paid_roi_min, out)
    sim = _simulator_of(load_config(config))  # before the fit, which takes a while
    if replan_every >= sim.scenario.session.minutes:
        raise InputError(f"{replan_every} minutes is not shorter than the session "
                         f"({sim.scenario.session.minutes} minutes): it would never re-plan",
                         where="--replan-every", fix="give minutes between re-plans, e.g. 5")
    campaign, fitted = _load_and_fit(config, model)
    if set(sim.packages) != set(campaign.packages):
        raise InputError(f"the campaign plans packages {', '.join(campaign.packages)}; the "
                         f"simulated room has {', '.join(sim.packages)}", source=str(config),
                         where="packages", fix="plan exactly the simulated room's packages")
    given = {"budget": budget, "paid_roi_min": paid_roi_min}
    problem = replace(pipeline.planning_problem(campaign, fitted),
                      **{key: value for key, value in given.items() if value is not None})
    try:
        with progress_steps("planning before the session")[0]:
            factories = standard_policies(problem, sim, campaign.panel(), replan_every)
    except NoPlan as error:
        errors.print(f"[bold red]infeasible:[/bold red] {error}", highlight=False)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    bar, advance = progress_bar(f"simulating {len(factories)} policies: sessions",
                        len(factories) * sessions)
    with bar:
        runs = simulate_policies(sim, factories, range(seed, seed + sessions), problem.budget,
                                 problem.paid_roi_min, problem.overall_roi_min,
                                 workers=workers or os.cpu_count() or 1,
                                 progress=advance)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"runs": out / "runs.csv", "distribution": out / "distribution.csv",
             "chart": out / "policies.png"}
    runs.to_csv(paths["runs"], index=False)
    table = distribution(runs)
    table.stack(level=0, future_stack=True).rename_axis(["policy", "metric"]).to_csv(
        paths["distribution"])
    plot_runs(runs, paths["chart"])
    floors = {"paid": problem.paid_roi_min, "overall": problem.overall_roi_min}
    print_frame(policy_view(table, floors), f"{sessions} noisy sessions per policy, budget "
                                              f"{problem.budget:,.0f} yuan: mean (P10 to P90)")
    if _same_runs(runs, "static plan", f"re-plan every {replan_every} min"):
        errors.print("[dim]note:[/dim] re-planning spent exactly as the static plan in every "
                     "session: with no floor that binds, a re-plan keeps the plan (give "
                     "--paid-roi-min to see it hold a floor)", highlight=False)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


def _same_runs(runs, first: str, second: str) -> bool:
    """Whether policies `first` and `second` spent the same in every session of `runs`."""
    import numpy as np

    a, b = (runs[runs["policy"] == name].sort_values("seed") for name in (first, second))
    return len(a) == len(b) > 0 and np.allclose(a["spend"].to_numpy(), b["spend"].to_numpy(),
                                                rtol=1e-9, atol=1e-6)


def _simulated_campaign(scenario: str, days: int, seed: int, budget: float | None,
                        paid_roi_min: float | None, out: Path) -> Path:
    """Simulate a scenario's history into OUT/history and write OUT/campaign.yaml that plans
    the session after it (budget: the history's mean session spend unless given)."""
    import datetime as dt

    import pandas as pd
    import yaml

    from optimizer.sim import write_simulation

    chosen = _scenario(scenario)
    paths = write_simulation(chosen, days, seed, out / "history")
    start = dt.datetime.combine(chosen.first_day + dt.timedelta(days=days), chosen.session.start)
    end = start + dt.timedelta(minutes=chosen.session.minutes)
    spent = float(pd.read_csv(paths["spend"])["spend"].sum()) / days
    config = {
        "room_id": chosen.room_id,
        "history": {"spend": "history/spend.csv", "room": "history/room.csv"},
        "session": {"start": f"{start:%Y-%m-%d %H:%M}", "end": f"{end:%Y-%m-%d %H:%M}"},
        "budget": budget if budget is not None else round(spent, -2),
        "roi": {"paid_min": paid_roi_min},
    }
    path = out / "campaign.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    console.print(f"simulated history and campaign: {path}")
    return path


def _scenario(name: str):
    """The builtin scenario `name`, or the scenario YAML at that path."""
    from optimizer.sim import Scenario, list_builtin

    if name in list_builtin():
        return Scenario.builtin(name)
    if not Path(name).is_file():
        raise InputError(f"'{name}' is neither a builtin scenario nor a scenario file",
                         where="--scenario",
                         fix=f"give one of {', '.join(list_builtin())}, or a scenario YAML")
    return Scenario.from_yaml(name)


def _simulator_of(config):
    """The simulator of the truth.json beside a campaign config's history, checked against the
    config's session."""
    from optimizer.sim import Truth

    path = config.history.spend.parent / "truth.json"
    if not path.is_file():
        raise InputError(f"no simulator truth beside the history ({path} is missing)",
                         source=config.source, where="history.spend",
                         fix="use a history written by `spendplan simulate`, or --scenario")
    sim = Truth.load(path).simulator()
    if sim.scenario.session.minutes != config.session.minutes:
        raise InputError(f"the session is {config.session.minutes} minutes, the simulated "
                         f"room's sessions {sim.scenario.session.minutes}", source=config.source,
                         where="session", fix="plan a session as long as the simulated ones")
    return sim


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
    """Run the whole job on the shipped demo data: validate, fit, plan the next session.

    Prints where the outputs are."""
    from optimizer import pipeline
    from optimizer.curves import save_model
    from optimizer.curves.report import fit_summary, organic_summary, plot_curves
    from optimizer.data.summary import history_summary

    config = demo_config()
    campaign, model = _load_and_fit(config, None)
    print_frame(history_view(history_summary(campaign.history)), f"Demo history: {config}")
    print_fit(fit_summary(model, campaign.panel()), organic_summary(model))
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"model: {save_model(model, out / 'model.json')}")
    console.print(f"curves chart: {plot_curves(model, campaign.panel(), out / 'curves.png')}")
    _finish_plan(pipeline.plan_campaign(campaign, model), campaign, model, out)


def main() -> None:
    """Entry point: runs the app and maps errors to the contract's exit status.

    OpenBLAS runs on one thread unless the environment says otherwise (set before numpy or
    scipy loads it, and inherited by back-test and closed-loop workers): its matrices here are
    small, and its threads spin against each other and against other processes on the other
    core. With the other core busy, `spendplan plan` from a saved fit took 1.68-1.84 s with
    two threads and 1.30-1.39 s with one (the same on a quiet machine); `ResponseModel.fit`
    limits its own BLAS for the Python API's users.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        # without standalone mode, typer returns the code of a `typer.Exit` instead of raising
        code = app(standalone_mode=False)
    except InputError as error:
        for note in error.notes:  # ids from the user's files may hold [brackets]
            errors.print(f"[dim]note:[/dim] {escape(note)}")
        errors.print(f"[bold red]error:[/bold red] {escape(error.message)}", highlight=False)
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
