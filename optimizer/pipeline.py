"""The job as functions: load a campaign, fit or reuse its response model, build its session.

The CLI, the HTTP API and notebooks all call these; each stage's own package does the work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from optimizer.curves import (
    FitOptions,
    ResponseModel,
    SessionResponse,
    fingerprint,
    fitted_model,
    from_artifact,
    load_model,
    save_model,
    to_artifact,
)
from optimizer.curves.basis import TAIL_MINUTES
from optimizer.curves.clock import minute_of_day
from optimizer.curves.model import MIN_SESSIONS, Progress
from optimizer.curves.reach import REACH_CONFIDENCE, paying_multiples, reach_bounds
from optimizer.data import CampaignConfig, History, LoadReport, Panel, load_config, load_history
from optimizer.errors import InputError
from optimizer.planner import (
    Pacing,
    Plan,
    PlanningProblem,
    PlatformRules,
    evaluate_schedule,
    solve,
)
from optimizer.planner.evaluate import yuan_values
from optimizer.spread import Spread


@dataclass(frozen=True)
class Campaign:
    """A campaign config with its checked history.

    packages: every package the plan covers, history's first then those only in the config.
    """

    config: CampaignConfig
    history: History
    report: LoadReport

    def __repr__(self) -> str:
        session = self.config.session
        return (f"Campaign(room={self.config.room_id!r}, session {session.start:%Y-%m-%d %H:%M}"
                f" ({self.minutes} minutes), budget {self.config.budget:,.0f} yuan, "
                f"{len(self.packages)} packages, history {self.history!r})")

    @property
    def packages(self) -> tuple[str, ...]:
        extra = sorted(set(self.config.packages) - set(self.history.packages))
        return (*self.history.packages, *extra)

    @property
    def minutes(self) -> int:
        """Length of the session to plan, minutes."""
        return self.config.session.minutes

    def panel(self) -> Panel:
        """The history as dense arrays over every package the plan covers."""
        return self.history.panel(self.packages)

    def explicit_curves(self) -> dict:
        """Packages whose curves the config sets by hand (`packages.NAME.curve`)."""
        return {name: limits.curve for name, limits in self.config.packages.items()
                if limits.curve is not None}

    def switched_off(self) -> set[str]:
        """Packages the config gives no spend (`max_spend_per_minute: 0`)."""
        return {name for name, limits in self.config.packages.items()
                if limits.max_spend_per_minute == 0}


def load_campaign(config: str | Path | Mapping | CampaignConfig,
                  base_dir: str | Path | None = None) -> Campaign:
    """Read and check a campaign config and its history (see CONTRACT.md): a YAML file, or a
    dict or `CampaignConfig` in a notebook (`load_config`; `base_dir` for a dict's history
    paths, default the current folder)."""
    config = load_config(config, base_dir)
    history, report = load_history(config)
    return Campaign(config=config, history=history, report=report)


def default_cache_dir() -> Path:
    """Where fitted models are cached: $SPENDPLAN_CACHE, else ~/.cache/spendplan."""
    return Path(os.environ.get("SPENDPLAN_CACHE", Path.home() / ".cache" / "spendplan"))


def model_search_dirs(config_path: str | Path) -> list[Path]:
    """Folders searched for a fitted model of the same data: `models/` beside the config's
    folder (the project layout) and inside it, then the cache."""
    folder = Path(config_path).resolve().parent
    return [folder.parent / "models", folder / "models", default_cache_dir()]


def find_model(print_: str, folders: Iterable[Path]) -> Path | None:
    """The first model artifact in `folders` whose data fingerprint is `print_`."""
    needle = f'"fingerprint": "{print_}"'
    for folder in folders:
        for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else ():
            with path.open(encoding="utf-8", errors="replace") as handle:
                if needle in handle.read(4096):
                    return path
    return None


def fit_campaign(campaign: Campaign, options: FitOptions | None = None,
                 progress: Progress | None = None, n_jobs: int = 1) -> ResponseModel:
    """Fit the campaign's response model from its history (no cache); `n_jobs` processes fit
    the packages' curves (`ResponseModel`)."""
    return ResponseModel(options, n_jobs).fit(campaign.panel(), progress)


def campaign_model(campaign: Campaign, config_path: str | Path, model_path: Path | None = None,
                   options: FitOptions | None = None, progress: Progress | None = None,
                   n_jobs: int = 1) -> tuple[ResponseModel, str]:
    """The campaign's fitted model and where it came from.

    With `model_path`, that artifact is used as it is. Otherwise a model of the same data and
    options (same fingerprint) is reused from `model_search_dirs`; failing that the history is
    fitted (`fit_campaign`, `n_jobs`) and the result cached.
    """
    if model_path is not None:
        return from_artifact(load_model(model_path)), f"model file {model_path}"
    options = options or FitOptions()
    wanted = fingerprint(campaign.panel(), options)
    found = find_model(wanted, model_search_dirs(config_path))
    if found is not None:
        reused = from_artifact(load_model(found))
        if reused.n_sessions_ >= MIN_SESSIONS:  # an earlier version fitted fewer
            return reused, f"reused fit {found}"
    model = fit_campaign(campaign, options, progress, n_jobs)
    cache = default_cache_dir() / f"{wanted[:16]}.json"
    try:
        save_model(to_artifact(model), cache)
    except OSError:
        return model, "fitted (cache not writable)"
    return model, f"fitted, cached as {cache}"


def session_response(campaign: Campaign, model: ResponseModel) -> SessionResponse:
    """Expected response of the campaign's session, columns in `campaign.packages` order."""
    model = fitted_model(model)
    with _in_config(campaign):
        return model.response(campaign.minutes, campaign.packages, campaign.explicit_curves(),
                              switched_off=campaign.switched_off(),
                              start=campaign.config.session.start.time())


def session_draws(campaign: Campaign, model: ResponseModel, n_draws: int = 200, seed: int = 0
                  ) -> list[SessionResponse]:
    """`n_draws` predictive responses of the campaign's session (the fits' uncertainty and
    day-to-day variation), columns and explicit curves as in `session_response`."""
    model = fitted_model(model)
    with _in_config(campaign):
        return model.response_draws(campaign.minutes, n_draws, campaign.packages,
                                    campaign.explicit_curves(), seed, campaign.switched_off(),
                                    start=campaign.config.session.start.time())


@contextmanager
def _in_config(campaign: Campaign) -> Iterator[None]:
    """An InputError about a package (``packages.NAME``) is one the config fixes: it names the
    config file, when it names no other (a package of the history with no spend to fit was
    named only as packages.retarget, though no such key was in the config)."""
    try:
        yield
    except InputError as error:
        if error.source is None and (error.where or "").startswith("packages."):
            error.source = campaign.config.source
        raise


def planning_problem(campaign: Campaign, model: ResponseModel,
                     response: SessionResponse | None = None) -> PlanningProblem:
    """The campaign's session as a `PlanningProblem` for the planner.

    With `planner.confidence` in the config, floors and target are held under the model's
    pessimistic response at that confidence (curves' uncertainty and day-to-day variation),
    measured where a plan at expectation spends (see `floor_reference`).
    `planner.history_reach` times the spend history has seen is the plan's spend reach,
    raised where the curve still pays (`trusted_reach`).
    """
    config, model = campaign.config, fitted_model(model)
    response = response or session_response(campaign, model)
    limits = [config.packages.get(p) for p in campaign.packages]
    caps = [np.inf if lim is None or lim.max_spend_per_minute is None
            else lim.max_spend_per_minute for lim in limits]
    least = [0.0 if lim is None or lim.min_spend_when_active is None
             else lim.min_spend_when_active for lim in limits]
    settings = config.planner
    reach = None
    if settings.history_reach is not None:
        reach = settings.history_reach * model.seen_spend(campaign.packages,
                                                          campaign.explicit_curves())
    problem = PlanningProblem(
        response=response, budget=config.budget, objective=config.objective,
        slot_minutes=config.session.slot_minutes, gmv_target=config.gmv_target,
        paid_roi_min=config.roi.paid_min, overall_roi_min=config.roi.overall_min,
        margin=config.margin, max_spend_per_minute=np.array(caps),
        min_spend_when_active=np.array(least), spend_reach=reach,
        pacing=Pacing.even(campaign.minutes, config.pacing.tolerance) if config.pacing else None,
        rules=PlatformRules(**config.platform.model_dump()),
        time_limit=settings.time_limit, solver=settings.solver, tolerance=settings.tolerance)
    problem = trusted_reach(problem, model, campaign.packages)
    if settings.confidence is None:
        return problem
    floor = model.pessimistic_response(campaign.minutes, settings.confidence, campaign.packages,
                                       campaign.explicit_curves(), floor_reference(problem),
                                       switched_off=campaign.switched_off(),
                                       start=campaign.config.session.start.time())
    return replace(problem, floor_response=floor)


def trusted_reach(problem: PlanningProblem, model: ResponseModel, packages: Sequence[str],
                  confidence: float = REACH_CONFIDENCE) -> PlanningProblem:
    """The problem with the spend reach of each package the plan presses against raised as far
    as the lower bound of its marginal ROI (its `1 - confidence` quantile over the curve's
    draws, `reach_bounds`) beats what the budget, the GMV target and the ROI floors that bind
    ask of a yuan (`_reach_price`), for every objective.

    The continuous program at the reach finds the price and the packages held back. On 20
    random truths the fit does not assume (benchmarks/bench_random_truths.py) the hard reach
    lost 9.9% and 15.5% to the oracle in two, where the best plan spends far past history;
    raised this way they lose 2.7% and 3.3% (`REACH_CONFIDENCE` has the numbers over 60).
    The marginal ROI is taken at the minutes where the continuous plan presses each reach.

    A budget the reach cannot take has no price at the reach, or a degenerate one: the plan
    spends at every reach at once (raised by one factor, `PlanningProblem.reach_factor`), or
    finds nothing within them worth the rest. The price is then the one the raised reaches
    make themselves (`_self_priced`). With budgets twice history's mean session spend, random
    truths 1-40 lost 4.3% of the oracle's GMV on average and 28.3% at worst when the reach
    stayed put at no price (or went to 8 times at a few thousandths); raised at their own
    price, 2.4% and 9.3% (benchmarks/results/random_truths_budget2.txt).

    A GMV target out of reach (the program infeasible) is priced the same way, at the reaches
    a plan for the most GMV presses: raised as little as makes the target reachable and
    priced at or above the raise (`_self_priced`). Where even the largest raise the bounds
    allow cannot reach it, the problem is returned as it was, and the plan says infeasible.
    A `min_spend` target within reach is not raised for: the plan would spend less by staking
    its target on the curves past history, where a `max_gmv` plan stakes only part of its
    GMV, since it spends its budget either way. On random truth 17 such a raise cut the spend
    to 32% under the oracle's and missed the target by 24% under truth (5% held within
    history's reach; benchmarks/bench_target.py).
    """
    if problem.spend_reach is None:
        return problem
    first = solve(problem.continuous())
    feasible = first.status != "infeasible"
    if (not feasible and problem.gmv_target is None) or \
            (feasible and problem.objective == "min_spend"):
        return problem
    price = _reach_price(problem, first)
    if not feasible:  # the target is out of reach: press the reaches where GMV is held back
        first = solve(problem.continuous(objective="max_gmv", gmv_target=None))
    reach = problem.spend_reach * problem.reach_factor
    at_reach = first.spend >= reach * (1 - 1e-6)
    pressed = np.any(at_reach, axis=0) & (reach < problem.max_spend_per_minute)
    if not pressed.any():
        return problem
    index = np.flatnonzero(pressed)
    bounds = reach_bounds(model, [packages[i] for i in index], problem.spend_reach[index],
                          problem.minutes, price or 0.0, confidence, pressed=at_reach[:, index])

    def raised(threshold: float) -> np.ndarray:
        multiples = np.ones(len(packages))
        multiples[index] = paying_multiples(bounds, threshold)
        return multiples

    if not feasible:  # out of reach even where the bounds pay nothing: left to say so
        furthest = replace(problem, spend_reach=problem.spend_reach * raised(0.0))
        if solve(furthest.continuous()).status == "infeasible":
            return problem
    threshold = price if price is not None else _self_priced(problem, bounds, raised)
    multiples = raised(threshold)
    if np.all(multiples == 1.0):
        return problem
    return replace(problem, spend_reach=problem.spend_reach * multiples,
                   reach_multiples=multiples)


def _self_priced(problem: PlanningProblem, bounds: np.ndarray,
                 raised: Callable[[float], np.ndarray]) -> float:
    """The largest of the `bounds`' values (and 0) such that the continuous program with the
    reaches raised at it (`raised`: threshold -> (P,) multiples of the spend reach) takes the
    budget within them and prices a yuan (`_reach_price`) at that value or above (GMV yuan per
    yuan): raised at a higher threshold, a yuan would be worth less than the threshold.
    Reaches that cannot take the budget do not price it (`PlanningProblem.reach_factor`
    raises them all to fit, and the budget's price is then degenerate), nor does a program
    they leave infeasible (a GMV target out of reach). The price falls as the threshold rises
    (less reach, less to spend on, a target dearer to reach), so a bisection over the sorted
    values finds it in a few solves."""
    values = np.unique(np.concatenate([[0.0], bounds[np.isfinite(bounds) & (bounds > 0)]]))
    low, high = 0, len(values) - 1  # values[low] is priced at or above itself
    while low < high:
        middle = (low + high + 1) // 2
        at = replace(problem, spend_reach=problem.spend_reach * raised(values[middle]))
        price = _reach_price(at, solve(at.continuous()))
        if price is not None and price >= values[middle]:
            low = middle
        else:
            high = middle - 1
    return float(values[low])


def _reach_price(problem: PlanningProblem, plan: Plan) -> float | None:
    """GMV yuan an extra yuan of spend must earn to be worth it in `plan`, the solved
    continuous `problem`: where the yuan's value in the objective and to the GMV target, less
    what it costs in the budget and in each ROI floor that binds, is 0.

    With the budget's shadow price mu (objective yuan per yuan), the GMV target's nu (objective
    yuan per GMV yuan) and each binding floor f's lambda_f (objective yuan per yuan of the
    floor's slack: its shadow price over the plan's spend), a yuan earning m GMV yuan is worth
    ``w m - c - mu + nu m + sum lambda_f (m - f)``: w = 1, c = 0 for `max_gmv`; w = margin,
    c = 1 for `max_profit` (a yuan earns margin x its GMV and costs itself); w = 0, c = 1 for
    `min_spend` (a yuan is all cost, and its GMV is worth what the target makes the rest of
    the spend pay for it). The price is the m where that is 0,
    ``(c + mu + sum lambda_f f) / (w + nu + sum lambda_f)``. A floor that binds asks less than
    itself of a yuan when lambda_f is finite: the plan can move spend from the packages that
    hold its ROI down. None where the reach and not the budget, the target or a floor sets the
    price: a `max_gmv` plan where nothing binds, a `min_spend` plan whose target does not
    bind, or any budget the reach could not take without raising every package's
    (`PlanningProblem.reach_factor`), where the budget and the reaches bind together and the
    price is degenerate; and None for an infeasible plan."""
    if problem.reach_factor > 1.0 or plan.status == "infeasible":
        return None
    prices, spent = plan.shadow_prices, float(np.sum(plan.spend))
    floors = [(floor, abs(prices.get(key, 0.0)) / spent)
              for key, floor in (("paid_roi_min", problem.paid_roi_min),
                                 ("overall_roi_min", problem.overall_roi_min))
              if floor is not None and spent > 0 and abs(prices.get(key, 0.0)) > 1e-9]
    budget = max(prices.get("budget", 0.0), 0.0)
    held = sum(weight * floor for floor, weight in floors)
    weights = sum(weight for _, weight in floors)
    target = abs(prices.get("gmv_target", 0.0))
    value, cost = {"max_gmv": (1.0, 0.0), "max_profit": (problem.margin, 1.0),
                   "min_spend": (0.0, 1.0)}[problem.objective]
    asked, earned = cost + budget + held, value + target + weights
    if asked <= 1e-9 or earned <= 1e-9:
        return None
    return asked / earned


def floor_reference(problem: PlanningProblem) -> np.ndarray | None:
    """(T, P) yuan/min where the plan at expectation spends (the continuous program, without
    integer rules); None when it spends nothing.

    The curves' uncertainty that matters to a floor is at the spend the plan comes near, not
    at some fixed level. Measured on six simulated histories (300 sessions each), a paid ROI
    floor held at 90% confidence this way was missed in 2-11% of sessions and the plans
    earned up to 16% more GMV than with the uncertainty measured at each curve's saturation
    scale (misses 2-9%); tests/planner/test_planner_truth.py checks two of them.
    """
    spend = solve(problem.continuous()).spend
    return spend if spend.sum() > 0 else None


def plan_campaign(campaign: Campaign, model: ResponseModel) -> Plan:
    """The best plan for the campaign's session (status infeasible with the reason if none)."""
    model = fitted_model(model)
    plan = solve(planning_problem(campaign, model))
    plan.warnings.extend(session_warnings(campaign, model))
    return plan


HOUR_APART = 60
"""Minutes of the day a session may start away from every history session's start before a
plan or forecast says its traffic is taken from history's hours."""


BUDGET_APART = 50.0
"""A budget this many times below history's median session spend, or above its largest, is
probably in another unit than history's amounts (fen against yuan: 100 times)."""


def _budget_unit_warnings(campaign: Campaign) -> list[str]:
    """A warning when the budget and history's spend per session are `BUDGET_APART` apart."""
    budget = campaign.config.budget
    per_session = campaign.history.spend.groupby("session")["spend"].sum()
    median, most = float(per_session.median()), float(per_session.max())
    if budget * BUDGET_APART < median:
        where = f"{budget / median:.1%} of history's median session spend ({median:,.0f})"
    elif budget > BUDGET_APART * most:
        where = f"{budget / most:,.0f} times history's largest session spend ({most:,.0f})"
    else:
        return []
    return [f"the budget ({budget:,.0f} yuan) is {where}: check that the budget and history's "
            "spend and GMV are all in yuan (fen are 100 times larger)"]


def session_warnings(campaign: Campaign, model: ResponseModel) -> list[str]:
    """What a plan or forecast of the campaign's session must say about the fit behind it."""
    seen, notes = model.session_minutes_, []
    if campaign.minutes > seen:
        notes.append(f"the session runs {campaign.minutes} minutes, the longest in history "
                     f"{seen}: minutes {seen}-{campaign.minutes - 1} are planned with the mean "
                     f"traffic profile of the last {TAIL_MINUTES} minutes that history saw")
    sessions = getattr(campaign.history, "sessions", None)  # None: a stored model's
    start = campaign.config.session.start
    outside = model.clock_outside(campaign.minutes, start.time())
    if outside:
        notes.append(f"{outside} of the session's minutes fall at clock times history's "
                     f"sessions rarely or never covered: their clock-of-day traffic is held at "
                     f"that of the nearest times history covered")
    if sessions is not None and len(sessions):
        notes += _budget_unit_warnings(campaign)
    if sessions is not None and len(sessions) and model.clock_ is None:
        starts = sessions["start"].dt.hour * 60 + sessions["start"].dt.minute
        apart = np.abs(starts.to_numpy() - minute_of_day(start.time()))
        near = np.minimum(apart, 24 * 60 - apart) <= HOUR_APART
        if not near.any():
            usual = starts.mode().iloc[0]
            notes.append(
                f"the session starts at {start:%H:%M}, history's sessions at "
                f"{usual // 60:02d}:{usual % 60:02d} (the most) and never within an hour of "
                f"{start:%H:%M}: the curves follow minutes of session, so this session's "
                f"traffic is taken to be as it was at history's hours")
        elif near.mean() < 0.5:
            notes.append(
                f"only {near.sum()} of history's {len(near)} sessions start within an hour of "
                f"{start:%H:%M}: the curves follow minutes of session, not the hour of day, "
                f"so this session's traffic is that of sessions at all of history's hours; if "
                f"the room's traffic follows the clock, plan from a history of sessions at "
                f"this session's hours")
    return notes


def schedule_array(campaign: Campaign, spend) -> np.ndarray:
    """`spend` (an array, or a DataFrame with package columns) as the (T, P) float array of
    the campaign's minutes and packages, yuan/min; bad input (`InputError`) when its shape or
    packages do not match or a value is not a finite number >= 0 (`yuan_values`)."""
    import pandas as pd

    packages, shape = list(campaign.packages), (campaign.minutes, len(campaign.packages))
    if isinstance(spend, pd.DataFrame):
        missing = [p for p in packages if p not in spend.columns]
        unknown = [str(c) for c in spend.columns if c not in packages]
        if missing or unknown:
            raise InputError(
                f"its columns must be the campaign's packages; missing: "
                f"{', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}",
                where="spend", fix=f"name one column per package: {', '.join(packages)}")
        spend = spend[packages]
        if isinstance(spend.index, pd.DatetimeIndex):
            spend = _on_session_minutes(campaign, spend)
    array = yuan_values(spend, "spend", packages)
    if array.shape != shape:
        raise InputError(f"has shape {array.shape}, the session needs {shape} (minutes x "
                         "packages)", where="spend",
                         fix=f"one row per minute, one column per package "
                             f"({', '.join(packages)})")
    return array


def _on_session_minutes(campaign: Campaign, spend):
    """A schedule frame indexed by timestamps, its rows put in the session's minute order;
    bad input unless the index holds each of the session's minutes once (a shuffled or
    reversed frame was read row by row as another schedule)."""
    import pandas as pd

    minutes = pd.date_range(campaign.config.session.start, periods=campaign.minutes,
                            freq="min")
    index = spend.index
    if index.tz is not None:
        raise InputError(f"its index has a time zone ({index.tz}); the session's minutes are "
                         "local times without one", where="spend.index",
                         fix="drop it: frame.tz_convert(None) or frame.tz_localize(None)")
    repeated = index[index.duplicated()]
    missing, outside = minutes.difference(index), index.difference(minutes)
    if len(repeated) or len(missing) or len(outside):
        problems = [f"{name} {len(stamps)}, first {stamps[0]:%Y-%m-%d %H:%M}"
                    for name, stamps in (("repeated", repeated), ("missing", missing),
                                         ("outside the session", outside)) if len(stamps)]
        raise InputError(
            f"its index must hold each minute of the session once, "
            f"{minutes[0]:%Y-%m-%d %H:%M} to {minutes[-1]:%Y-%m-%d %H:%M}; "
            f"{'; '.join(problems)}", where="spend.index",
            fix="index the rows by the session's minutes (pivot plan.csv on ts), or give "
                "them in minute order with a plain index")
    return spend.loc[minutes]


MIN_DRAWS = 20
"""Fewest response draws `evaluate_campaign` takes for its intervals."""


def evaluate_campaign(campaign: Campaign, model: ResponseModel, spend: np.ndarray,
                      n_draws: int = 200, seed: int = 0) -> tuple[Plan, dict]:
    """The forecast of a spend schedule (T, P) yuan/min, and 90% predictive intervals.

    `spend`: an array whose columns are `campaign.packages` in order, or a DataFrame with one
    column per package, named (taken by name, in any order), and rows in minute order, or
    indexed by the session's minutes (a DatetimeIndex, taken by time, in any order). Rules
    the schedule breaks (budget, caps, floors...) are listed in the plan's warnings.
    Intervals: {"paid_gmv" | "organic_gmv" | "total_gmv": [low, high]} in yuan, from `n_draws`
    (at least `MIN_DRAWS`) response draws over the fits' uncertainty and day-to-day
    variation (each curve's day effect drawn from the Student-t predictive of history's,
    `optimizer.curves.days`). On the simulator's truths (24 histories of four scenarios, 40
    realised sessions each, `benchmarks/bench_forecast_coverage.py`) they held 87.5% of
    sessions' paid GMV, 91.8% of organic and 90.0% of total; on 20 truths outside the fitted
    families 90.2%, 90.8% and 90.1%. Drawing history's own days instead (each equally often)
    held 85.5%, 91.9% and 88.1% (outside: 88.9%, 91.4%, 88.4%), with intervals 4% narrower on
    paid and total GMV: 21 days sample the day-to-day spread's tails thinly.
    """
    spread = schedule_spread(campaign, model, spend, n_draws, seed)
    return forecast_campaign(campaign, model, spend), spread.intervals()


def forecast_campaign(campaign: Campaign, model: ResponseModel, spend: np.ndarray) -> Plan:
    """`evaluate_campaign`'s forecast alone, without intervals."""
    spend, model = schedule_array(campaign, spend), fitted_model(model)
    problem = planning_problem(campaign, model)
    forecast = evaluate_schedule(problem.response, spend, problem)
    forecast.warnings.extend(session_warnings(campaign, model))
    return forecast


def schedule_spread(campaign: Campaign, model: ResponseModel, spend: np.ndarray,
                    n_draws: int = 200, seed: int = 0) -> Spread:
    """The session totals of a spend schedule (as `evaluate_campaign` takes it) in `n_draws`
    (at least `MIN_DRAWS`) predictive draws: its 90% intervals (`Spread.intervals`) and how
    often each of the config's floors and target holds (`Spread.chances`)."""
    spend, model = schedule_array(campaign, spend), fitted_model(model)
    if n_draws < MIN_DRAWS:
        raise InputError(
            f"must be at least {MIN_DRAWS}, got {n_draws}: 90% intervals from fewer draws are "
            "noise (from 5, 7 of 30 left out the forecast itself)", where="n_draws",
            fix="give the number of response draws for the intervals, e.g. 200")
    draws = session_draws(campaign, model, n_draws, seed)
    return Spread(paid=np.array([d.paid_gmv(spend).sum() for d in draws]),
                  organic=np.array([d.organic_gmv(spend).sum() for d in draws]),
                  spend=float(spend.sum()))


def config_chances(campaign: Campaign, spread: Spread) -> dict[str, float]:
    """`Spread.chances` of the campaign config's ROI floors and GMV target."""
    config = campaign.config
    return spread.chances(config.roi.paid_min, config.roi.overall_min, config.gmv_target)
