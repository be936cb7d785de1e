"""Rolling back-test on a room's own history: forecasts and plans of past sessions.

For each past session d from `first` on, fit only on sessions before d, then
(a) forecast session d under the spend the operator actually used and compare with what
happened (`forecast_backtest`, history alone), and
(b) plan session d under the campaign config's constraints and compare the plan's forecast
with the forecast of the actual spend: the predicted uplift (`backtest`, (a) and (b)).

A fit never sees the session it forecasts, nor anything after it. Money in yuan; sessions are
numbered 0.. in time order; intervals are 90% (`LEVEL`), from predictive response draws (the
fits' parameter uncertainty and day-to-day variation, `ResponseModel.response_draws`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from optimizer.curves import FitOptions, ResponseModel, SessionResponse, wape
from optimizer.curves.model import MIN_SESSIONS, PanelLike
from optimizer.data import Panel
from optimizer.data.config import PackageLimits
from optimizer.errors import InputError
from optimizer.pipeline import Campaign, planning_problem, session_draws, session_response
from optimizer.planner import NoPlanInTime, SolverFailure, evaluate_schedule, solve

LEVEL = 0.9
"""Coverage of the forecast and uplift intervals."""

MIN_TRAIN = MIN_SESSIONS
"""Fewest sessions a back-test fit sees: the first back-tested session is at least this."""

Budget = Literal["actual", "config"]
"""Budget of a past session's plan: the yuan the operator actually spent that session (the
default: what the plan would have earned with the same money), or the config's `budget`."""

Progress = Callable[[int], None]
"""Told the number of each session done."""

KINDS = ("paid", "organic", "total")

FORECAST_COLUMNS = {
    "session": "session number in the history (0 is the earliest)",
    "start": "first minute of the session",
    "minutes": "length of the session, minutes",
    "train_sessions": "sessions the fit saw (all before this one)",
    "spend": "yuan the operator spent",
    "{kind}_actual": "GMV that happened (yuan); kind is paid, organic or total",
    "{kind}_forecast": "forecast GMV under the actual spend (yuan)",
    "{kind}_low, {kind}_high": "90% interval of the forecast (yuan)",
    "{kind}_error": "forecast / actual - 1 for the session total",
    "{kind}_wape": "WAPE of the minute-level forecast within the session (fraction)",
}
"""Columns of `forecast_backtest` and their meaning."""

PLAN_COLUMNS = {
    "status": "the plan's status (optimal, feasible, infeasible); 'not planned' when the fit "
              "cannot make the session's planning problem, 'fit failed' when the fit fails",
    "reason": "why the session is infeasible, not planned or not fitted; or which packages "
              "were left out, with no spend before the session nor in it (empty otherwise)",
    "budget": "yuan the plan may spend: the actual spend, or the config's budget",
    "actual_breaks": "the config's rules the actual spend breaks under the fit (caps, floors, "
                     "budget; '; '-separated): a plan held to them can forecast below it",
    "plan_spend": "yuan the plan spends",
    "plan_{kind}": "forecast GMV of the plan (yuan)",
    "uplift": "predicted uplift: plan_total / total_forecast - 1 (fraction)",
    "uplift_low, uplift_high": "its 90% interval: the same response draws applied to both "
                               "schedules (paired), so it is an interval of the ratio itself",
}
"""Columns `backtest` adds to `FORECAST_COLUMNS`; plan columns are empty unless planned.

In `backtest` every forecast is of the response the planner optimises (the config's explicit
curves and switched-off packages included), so the plan and the actual spend compare alike."""


def columns(documented: dict[str, str]) -> list[str]:
    """The column names a table of documented columns (such as `FORECAST_COLUMNS`) has."""
    names = [name for key in documented for name in key.split(", ")]
    return [name.format(kind=kind) for name in names
            for kind in (KINDS if "{kind}" in name else (None,))]


def past_campaign(campaign: Campaign, session: int, budget: float | None = None) -> Campaign:
    """`campaign` with history session `session` as the session to plan.

    The config keeps its constraints (floors, caps, objective, slot length, platform rules,
    pacing, confidence) and, unless `budget` (yuan) is given, its budget; its session moves to
    the past session's minutes, so every part of the planning problem has that session's length.
    """
    config = campaign.config
    past = campaign.history.sessions.set_index("session").loc[session]
    changes = {"session": config.session.model_copy(
        update={"start": past["start"].to_pydatetime(), "end": past["end"].to_pydatetime()})}
    if budget is not None:
        changes["budget"] = budget
    return replace(campaign, config=config.model_copy(update=changes))


def backtest(campaign: Campaign, first: int = MIN_TRAIN, budget: Budget = "actual",
             options: FitOptions | None = None, workers: int = 2,
             progress: Progress | None = None) -> pd.DataFrame:
    """Back-test sessions `first`.. of the campaign's history, forecasts and plans.

    One row per session in time order (`FORECAST_COLUMNS`, `PLAN_COLUMNS`); a session whose
    plan is infeasible, that cannot be planned or whose fit fails keeps its row, with the reason.
    Sessions run in `workers` processes; `progress` is told each finished session number.
    """
    check_budget(budget)
    _check_workers(workers)
    panel = campaign.panel()
    check_first(first, panel.n_sessions)
    jobs = [(campaign, d, budget, options) for d in range(first, panel.n_sessions)]
    frame = _run(backtest_session, jobs, workers, progress)
    return frame.reindex(columns=columns(FORECAST_COLUMNS) + columns(PLAN_COLUMNS))


def backtest_session(campaign: Campaign, session: int, budget: Budget = "actual",
                     options: FitOptions | None = None, n_draws: int = 100, seed: int = 0
                     ) -> dict:
    """One row of `backtest`: fit on sessions before `session`, forecast and plan it."""
    panel = campaign.panel()
    rows = panel.session == session
    spend = panel.spend[rows]
    past = past_campaign(campaign, session, float(spend.sum()) if budget == "actual" else None)
    row = _session_columns(panel, rows, session) | {"budget": past.config.budget}
    try:
        model = ResponseModel(options).fit(panel.sessions(range(session)))
    except ValueError as error:  # the estimators' failures on this stretch of history
        return row | {"status": "fit failed", "reason": f"{type(error).__name__}: {error}"}
    past, left_out = _without_unseen(past, model, spend, panel.spend.sum(axis=0) > 0)
    try:
        response = session_response(past, model)
        draws = session_draws(past, model, n_draws, seed)
        row |= _forecast_columns(panel, rows, response, draws)
        problem = planning_problem(past, model, response)
    except InputError as error:  # e.g. a package the fit before this session has no curve of
        return row | {"status": "not planned", "reason": error.message}
    try:
        plan = solve(problem)
    except (NoPlanInTime, SolverFailure) as error:  # the solver stopped without any plan
        return row | {"status": "not planned", "reason": str(error)}
    row |= {"status": plan.status, "reason": left_out,
            "actual_breaks": "; ".join(evaluate_schedule(response, spend, problem).broken_rules)}
    if plan.infeasibility is not None:
        return row | {"reason": plan.infeasibility.message}
    low, high = paired_uplift(draws, plan.spend, spend)
    return row | {
        "plan_spend": plan.total_spend, "plan_paid": plan.expected_paid_gmv,
        "plan_organic": plan.expected_organic_gmv, "plan_total": plan.expected_total_gmv,
        "uplift": plan.expected_total_gmv / row["total_forecast"] - 1,
        "uplift_low": low, "uplift_high": high}


def _without_unseen(past: Campaign, model: ResponseModel, spend: np.ndarray,
                    in_history: np.ndarray) -> tuple[Campaign, str]:
    """`past` with the packages that start later in history switched off, and a note naming
    them ('' when none): those the fit has no curve of, that the session (T, P) gives no spend
    and that spend somewhere in history (`in_history`, (P,) bool). One the session spends on
    stays, and so does one history never spends on: planning them says why they cannot be
    forecast, as `spendplan plan` does."""
    config, known = past.config, set(model.paid_) | set(past.explicit_curves()) | \
        past.switched_off()
    unseen = [p for j, p in enumerate(past.packages)
              if p not in known and spend[:, j].sum() == 0 and in_history[j]]
    if not unseen:
        return past, ""
    limits = dict(config.packages)
    for package in unseen:
        given = limits.get(package) or PackageLimits()
        limits[package] = given.model_copy(update={"max_spend_per_minute": 0.0,
                                                   "min_spend_when_active": None})
    note = (f"{', '.join(unseen)}: no spend before this session nor in it, left out of the "
            "plan")
    return replace(past, config=config.model_copy(update={"packages": limits})), note


def check_budget(budget: str, name: str = "budget") -> None:
    """Raise InputError, naming the option `name`, unless `budget` is a `Budget`."""
    if budget not in ("actual", "config"):
        raise InputError(f"must be 'actual' or 'config', got {budget!r}", where=name,
                         fix=f"give {name} actual (the spend of each session) or config (the "
                             "config's budget)")


def _check_workers(workers: int) -> None:
    if not isinstance(workers, int) or workers < 1:
        raise InputError(f"must be a whole number of processes >= 1, got {workers!r}",
                         where="workers", fix="give 1 to run in this process, or more")


def paired_uplift(draws: Sequence[SessionResponse], plan: np.ndarray, actual: np.ndarray,
                  level: float = LEVEL) -> tuple[float, float]:
    """Interval of total GMV under `plan` over total GMV under `actual`, minus 1 (fraction).

    Both schedules (T, P) yuan/min go through each response draw; the interval is the central
    `level` quantiles of the draws' ratios, so uncertainty both schedules share cancels.
    """
    ratios = [_totals(d, plan)["total"] / _totals(d, actual)["total"] - 1 for d in draws]
    return interval(ratios, level)


def forecast_backtest(panel: PanelLike, first: int, options: FitOptions | None = None,
                      workers: int = 2, progress: Progress | None = None) -> pd.DataFrame:
    """Back-test the forecasts of sessions `first`.. of `panel`, one row each
    (`FORECAST_COLUMNS`), from history alone: no config, every package fitted.

    Sessions run in `workers` processes; `progress` is told each finished session number.
    """
    _check_workers(workers)
    check_first(first, panel.n_sessions)
    jobs = [(panel, d, options) for d in range(first, panel.n_sessions)]
    return _run(forecast_session, jobs, workers, progress).reindex(
        columns=columns(FORECAST_COLUMNS))


def forecast_session(panel: Panel, session: int, options: FitOptions | None = None,
                     n_draws: int = 100, seed: int = 0) -> dict:
    """One row of `forecast_backtest`: fit on sessions before `session`, forecast it."""
    model = ResponseModel(options).fit(panel.sessions(range(session)))
    rows = panel.session == session
    minutes, start = int(rows.sum()), pd.Timestamp(panel.ts[rows][0]).time()
    response = model.response(minutes, panel.packages, start=start)
    draws = model.response_draws(minutes, n_draws, panel.packages, seed=seed, start=start)
    return _session_columns(panel, rows, session) | _forecast_columns(panel, rows, response,
                                                                      draws)


def _session_columns(panel: Panel, rows: np.ndarray, session: int) -> dict:
    """What session `rows` was: its start, length, spend and `{kind}_actual` GMV (yuan)."""
    return {"session": session, "start": pd.Timestamp(panel.ts[rows][0]),
            "minutes": int(rows.sum()), "train_sessions": session,
            "spend": float(panel.spend[rows].sum())} | {
        f"{kind}_actual": float(values.sum()) for kind, values in _actual(panel, rows).items()}


def _actual(panel: Panel, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Minute-level paid, organic and total GMV (T,) yuan that session `rows` had."""
    paid = panel.paid_gmv[rows].sum(axis=1)
    return {"paid": paid, "organic": panel.organic_gmv[rows],
            "total": paid + panel.organic_gmv[rows]}


def _forecast_columns(panel: Panel, rows: np.ndarray, response: SessionResponse,
                      draws: Sequence[SessionResponse]) -> dict:
    """The `{kind}_*` columns of session `rows` forecast under its actual spend."""
    spend = panel.spend[rows]
    actual = _actual(panel, rows)
    forecast = _minutes(response, spend)
    drawn = [_totals(d, spend) for d in draws]
    row = {}
    for kind in KINDS:
        low, high = interval([d[kind] for d in drawn])
        row |= {f"{kind}_forecast": float(forecast[kind].sum()),
                f"{kind}_low": low, f"{kind}_high": high,
                f"{kind}_error": float(forecast[kind].sum() / actual[kind].sum() - 1),
                f"{kind}_wape": wape(actual[kind], forecast[kind])}
    return row


def _minutes(response: SessionResponse, spend: np.ndarray) -> dict[str, np.ndarray]:
    """Minute-level paid, organic and total GMV (T,) yuan of a response under spend (T, P)."""
    paid = response.paid_gmv(spend).sum(axis=1)
    organic = response.organic_gmv(spend)
    return {"paid": paid, "organic": organic, "total": paid + organic}


def _totals(response: SessionResponse, spend: np.ndarray) -> dict[str, float]:
    """Session totals (yuan) of `_minutes`."""
    return {kind: float(values.sum()) for kind, values in _minutes(response, spend).items()}


def interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """Central `level` interval of draws.

    A draw whose response overflowed (an infinite total, or inf / inf = nan in a ratio: the
    Gaussian parameter draws of a fit on a few sessions reach absurd curves) counts as the most
    extreme on the high side, and the quantiles are then read off the order of the draws
    without interpolating between them: the bounds stay finite unless more than
    (1 - level) / 2 of the draws overflowed, where they were nan.
    """
    draws = np.asarray(values, dtype=float)
    method = "linear" if np.isfinite(draws).all() else "inverted_cdf"
    draws = np.where(np.isnan(draws), np.inf, draws)
    return (float(np.quantile(draws, (1 - level) / 2, method=method)),
            float(np.quantile(draws, (1 + level) / 2, method=method)))


def check_first(first: int, n_sessions: int, name: str = "first") -> None:
    """Raise InputError, naming the option `name`, unless session `first` can be back-tested."""
    if n_sessions <= MIN_TRAIN:
        raise InputError(f"a back-test needs more than {MIN_TRAIN} sessions of history, this "
                         f"one has {n_sessions}", fix="back-test a longer history")
    if not MIN_TRAIN <= first < n_sessions:
        raise InputError(
            f"the first back-tested session must have at least {MIN_TRAIN} sessions before it "
            f"and be one of the history's {n_sessions} sessions (0 is the earliest); got {first}",
            where=name, fix=f"choose {name} from {MIN_TRAIN} to {n_sessions - 1}")


def _run(task: Callable[..., dict], jobs: list[tuple], workers: int,
         progress: Progress | None) -> pd.DataFrame:
    """`task(*job)` for each job in `workers` processes; the rows in session order."""
    rows = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done in as_completed([pool.submit(task, *job) for job in jobs]):
            rows.append(done.result())
            if progress:
                progress(rows[-1]["session"])
    return pd.DataFrame(rows).sort_values("session", ignore_index=True)
