"""Closed-loop sessions: a spend policy runs minute by minute through a noisy simulated session.

The policy sees only what a bidder would see: the spend and GMV realised in the minutes before.
Expected GMV in a minute depends only on spend up to that minute, so each minute is drawn as it
happens, from the truth's `SessionResponse` of the session's day and the simulator's order
noise. Many seeds make a distribution; policies share each seed's day (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from optimizer.charts import chart_fonts
from optimizer.errors import InputError
from optimizer.sim.noise import draw_orders
from optimizer.sim.simulator import LiveRoomSimulator


@dataclass(frozen=True)
class Observed:
    """What a bidder has seen before minute t: arrays over minutes 0..t-1 (yuan).

    spend, paid_gmv: (t, P); organic_gmv: (t,).
    """

    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: np.ndarray


class Policy(Protocol):
    """Decides each minute's spend per package (yuan, shape (P,)) from what was observed.

    A policy may run several sessions in turn: minute 0 starts a new one.
    """

    name: str

    def spend(self, minute: int, observed: Observed) -> np.ndarray: ...


PolicyFactory = Callable[[LiveRoomSimulator], Policy]
"""Builds a policy for a simulator, once per task of `SESSIONS_PER_TASK` sessions, inside the
worker process (so it must be picklable). A policy without state is its own factory."""

SESSIONS_PER_TASK = 10
"""Sessions one policy runs in turn in a worker: its setup (e.g. a re-planner's program) is
built once for them. Fixed, so results do not depend on the number of workers."""

FLOOR_MISS = 0.03
"""A session misses an ROI floor when its realised ROI falls short by more than this fraction."""


@dataclass(frozen=True)
class Outcome:
    """Realised arrays of one closed-loop session: spend, paid_gmv (T, P); organic_gmv (T,)."""

    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: np.ndarray


def run_session(sim: LiveRoomSimulator, policy: Policy, seed: int) -> Outcome:
    """One noisy session of the scenario's length under `policy`; the day is drawn from `seed`.

    The day draw comes first from its own generator, so every policy run with the same seed
    meets the same day.
    """
    day_factor, package_factors = sim.draw_factors(np.random.default_rng(seed))
    rng = np.random.default_rng([seed, 1])
    truth = sim.response(day_factor=day_factor, package_factors=package_factors)
    room = sim.scenario.room
    aov = np.array([*(p.aov for p in sim.scenario.packages.values()), room.aov])
    noise = {"shape": room.order_value_shape, "dispersion": room.dispersion}
    T, P = truth.minutes, len(truth.packages)
    spend, paid, organic = np.zeros((T, P)), np.zeros((T, P)), np.zeros(T)
    expected = truth.stepper()
    for t in range(T):
        seen = Observed(spend[:t], paid[:t], organic[:t])
        spend[t] = np.maximum(np.asarray(policy.spend(t, seen), dtype=float), 0.0)
        paid_mean, organic_mean = expected.step(spend[t])
        gmv = draw_orders(rng, np.append(paid_mean, organic_mean), aov, **noise)[0]
        paid[t], organic[t] = gmv[:P], gmv[P]
    return Outcome(spend=spend, paid_gmv=paid, organic_gmv=organic)


def metrics(outcome: Outcome, budget: float, paid_roi_min: float | None = None,
            overall_roi_min: float | None = None) -> dict[str, float]:
    """Realised totals (yuan), ROIs, pacing and floor misses of one session.

    pacing_error: largest gap between cumulative spend and even pacing of the budget, as a
    fraction of the budget; budget_error: total spend / budget - 1; paid_roi_miss,
    overall_roi_miss: how far the ROI fell short of its floor, relative (0 when met or no
    floor); paid_floor_missed, overall_floor_missed: 1.0 when that shortfall is over
    `FLOOR_MISS`, else 0.0 (their mean over sessions is the share of sessions that miss).
    """
    spend = float(outcome.spend.sum())
    paid, organic = float(outcome.paid_gmv.sum()), float(outcome.organic_gmv.sum())
    total = paid + organic
    T = len(outcome.organic_gmv)
    cumulative = np.cumsum(outcome.spend.sum(axis=1))
    even = budget * np.arange(1, T + 1) / T
    row = {"spend": spend, "paid_gmv": paid, "organic_gmv": organic, "total_gmv": total,
           "paid_roi": paid / spend if spend else np.nan,
           "overall_roi": total / spend if spend else np.nan, "budget_error": spend / budget - 1,
           "pacing_error": float(np.max(np.abs(cumulative - even)) / budget)}
    for kind, floor in (("paid", paid_roi_min), ("overall", overall_roi_min)):
        roi = row[f"{kind}_roi"]
        miss = 0.0 if not floor or spend == 0 else max(0.0, 1 - roi / floor)
        row |= {f"{kind}_roi_miss": miss, f"{kind}_floor_missed": float(miss > FLOOR_MISS)}
    return row


def _run_task(args: tuple) -> list[dict]:
    sim, factory, seeds, floors = args
    policy = factory(sim)
    return [{"policy": policy.name, "seed": seed, **metrics(run_session(sim, policy, seed),
                                                             **floors)} for seed in seeds]


def simulate_policies(sim: LiveRoomSimulator, factories: Sequence[PolicyFactory],
                      seeds: Sequence[int], budget: float, paid_roi_min: float | None = None,
                      overall_roi_min: float | None = None, workers: int = 2,
                      progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Every policy on every seed: one row of `metrics` per (policy, seed), plus `regret`.

    regret: 1 - total GMV / the total GMV of the policy named "oracle" on the same seed (when
    one of the policies is called that). Runs in `workers` processes (factories must then be
    picklable: module-level functions or classes), in this process when workers is 1, in tasks
    of `SESSIONS_PER_TASK` sessions; `progress` is told how many sessions a task finished.
    """
    seeds = list(seeds)
    if not seeds or not factories:
        raise InputError("needs at least one seed and one policy", where="seeds, factories",
                         fix="e.g. seeds=range(100) and standard_policies(...)")
    if not budget > 0 or not isinstance(workers, int) or workers < 1:
        raise InputError(f"budget must be > 0 yuan and workers a whole number >= 1; got "
                         f"{budget!r} and {workers!r}", where="budget, workers",
                         fix="give the session's budget in yuan and 1 or more processes")
    for factory in factories:  # a policy that plans carries its problem: the same budget
        planned = getattr(getattr(factory, "problem", None), "budget", budget)
        if abs(planned - budget) > 1e-9 * budget:
            raise InputError(
                f"the policy {getattr(factory, 'name', factory)!r} plans for a budget of "
                f"{planned:,.0f} yuan, the runs are measured against {budget:,.0f}",
                where="budget", fix="give the budget of the problem the policies plan")
    floors = {"budget": budget, "paid_roi_min": paid_roi_min, "overall_roi_min": overall_roi_min}
    jobs = [(sim, f, seeds[i:i + SESSIONS_PER_TASK], floors)
            for f in factories for i in range(0, len(seeds), SESSIONS_PER_TASK)]
    rows = []
    with ProcessPoolExecutor(max_workers=workers) if workers > 1 else _Inline() as pool:
        for task in pool.map(_run_task, jobs):
            rows.extend(task)
            if progress:
                progress(len(task))
    frame = pd.DataFrame(rows)
    oracle = frame[frame["policy"] == "oracle"].set_index("seed")["total_gmv"]
    if len(oracle):
        frame["regret"] = 1 - frame["total_gmv"] / frame["seed"].map(oracle)
    return frame


class _Inline:
    """`map` in this process, for one worker (and factories that cannot be pickled)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def map(self, function: Callable, items: Sequence) -> map:
        return map(function, items)


def distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, P10 and P90 of every metric per policy (rows: policy, in the order they first
    appear; columns: metric, stat)."""
    numeric = frame.drop(columns=["seed"]).groupby("policy", sort=False)
    return numeric.agg(["mean", lambda s: s.quantile(0.1), lambda s: s.quantile(0.9)]).rename(
        columns={"<lambda_0>": "p10", "<lambda_1>": "p90"}, level=1)


def _box_stats(values: list[pd.Series], labels: list[str]) -> list[dict]:
    """Box statistics whose whiskers end at P10 and P90 as `distribution` computes them
    (linear interpolation): matplotlib's `whis=(10, 90)` ends them at the last session inside,
    which with a few sessions collapsed them into the box."""
    from matplotlib.cbook import boxplot_stats

    stats = []
    for series, label in zip(values, labels, strict=True):
        x = series.to_numpy(dtype=float)
        low, high = np.quantile(x, [0.1, 0.9])
        stat = boxplot_stats(x, labels=[label])[0]
        stats.append(stat | {"whislo": low, "whishi": high,
                             "fliers": x[(x < low) | (x > high)]})
    return stats


def _labels(frame: pd.DataFrame, policies: list[str]) -> list[str]:
    """Each policy's name, with the share of sessions it missed an ROI floor in when it did:
    regret counts GMV only, and a policy that breaks the floor can look better than the
    oracle (even pacing at -231% under a paid floor of 10, missed in every session)."""
    columns = [c for c in ("paid_floor_missed", "overall_floor_missed") if c in frame]
    labels = []
    for policy in policies:
        rows = frame[frame["policy"] == policy]
        missed = float(rows[columns].max(axis=1).mean()) if columns and len(rows) else 0.0
        labels.append(f"{policy}\n(floor missed in {missed:.0%})" if missed > 0 else policy)
    return labels


@chart_fonts()
def plot_runs(frame: pd.DataFrame, path: str | Path) -> Path:
    """Chart of `simulate_policies`' rows: per policy, the spread over sessions of realised
    total GMV (thousand yuan) and, with an oracle, of regret (% of the oracle's total GMV)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    policies = list(dict.fromkeys(frame["policy"]))[::-1]  # the first policy on top
    panels = [("total_gmv", 1e-3, "realised total GMV of a session (thousand yuan)")]
    if "regret" in frame:
        panels.append(("regret", 100.0, "regret against the oracle (% of its total GMV)"))
    labels = _labels(frame, policies)
    figure = Figure(figsize=(6.0 * len(panels), 1.2 + 0.6 * len(policies)))
    FigureCanvasAgg(figure)
    for ax, (column, scale, label) in zip(figure.subplots(1, len(panels), squeeze=False)[0],
                                          panels, strict=True):
        values = [frame.loc[frame["policy"] == p, column] * scale for p in policies]
        ax.bxp(_box_stats(values, labels), orientation="horizontal", showmeans=True)
        ax.set_xlabel(label)
        ax.grid(axis="x", color="0.9")
    sessions = frame.groupby("policy").size().max()
    figure.suptitle(f"{sessions} noisy sessions per policy (box: quartiles, whiskers: P10 to "
                    "P90, triangle: mean)", fontsize=11)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path


@dataclass(frozen=True)
class EvenPacing:
    """Spend the budget evenly over the session in a fixed package mix (e.g. history's).

    Stateless: it is its own factory.
    """

    budget: float
    minutes: int
    mix: tuple[float, ...]
    name: str = "even pacing"

    def spend(self, minute: int, observed: Observed) -> np.ndarray:
        mix = np.asarray(self.mix) / np.sum(self.mix)
        return self.budget / self.minutes * mix

    def __call__(self, sim: LiveRoomSimulator) -> EvenPacing:
        return self


@dataclass(frozen=True)
class StaticSchedule:
    """Spend a fixed schedule (T, P) whatever happens (e.g. a plan made before the session),
    its columns in the simulator's package order (`LiveRoomSimulator.packages`: a campaign's
    plan has its packages sorted; reorder by name).

    Stateless: it is its own factory.
    """

    schedule: np.ndarray
    name: str = "static plan"

    def spend(self, minute: int, observed: Observed) -> np.ndarray:
        return self.schedule[minute]

    def __call__(self, sim: LiveRoomSimulator) -> StaticSchedule:
        return self
