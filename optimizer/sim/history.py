"""Simulated history in the contract's table format, and writing it to disk.

Each session: draw the day factors, the operator's spend, then one noisy realisation. The
`spend` table has a row only for package-minutes with spend > 0 or paid GMV > 0; the `room`
table has every live minute. Money is rounded to 2 decimals (fen), as the CSV files hold it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.sim.outcome import Realised
from optimizer.sim.scenario import Scenario
from optimizer.sim.simulator import LiveRoomSimulator
from optimizer.sim.truth import SessionDraw, Truth

SPEND_COLUMNS = (
    "ts",
    "package",
    "spend",
    "paid_gmv",
    "room_id",
    "impressions",
    "clicks",
    "paid_orders",
)
ROOM_COLUMNS = ("ts", "organic_gmv", "room_id", "organic_views", "online_viewers")
CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class SimulatedHistory:
    """Contract `spend` and `room` tables (ts as datetime64, minute resolution) and their truth."""

    spend: pd.DataFrame
    room: pd.DataFrame
    truth: Truth


def simulate_history(sim: LiveRoomSimulator, days: int, seed: int) -> SimulatedHistory:
    """`days` sessions on consecutive days from the scenario's `first_day`, reproducible by seed;
    each at the scenario's start and length, or drawn from its `session.history` kinds."""
    if days < 1:
        raise InputError(f"days must be at least 1, got {days}", where="days")
    scenario = sim.scenario
    rng = np.random.default_rng(seed)
    kinds = np.random.default_rng([seed, 1])  # starts and lengths: the other draws unchanged
    draws, spend_tables, room_tables = [], [], []
    for offset in range(days):
        date = scenario.first_day + dt.timedelta(days=offset)
        clock, length = (scenario.session.draw_history(kinds) if scenario.session.history
                         else (scenario.session.start, scenario.session.minutes))
        start = dt.datetime.combine(date, clock)
        day_factor, package_factors = sim.draw_factors(rng)
        realised = sim.sample(
            sim.operator_spend(rng, length, clock), rng, start=pd.Timestamp(start),
            day_factor=day_factor, package_factors=package_factors
        )
        minutes = pd.Timestamp(start) + pd.to_timedelta(np.arange(len(realised.spend)), "min")
        spend_tables.append(_spend_table(realised, minutes, sim.packages))
        room_tables.append(_room_table(realised, minutes))
        draws.append(
            SessionDraw(
                date=date, start=start, day_factor=day_factor, package_factors=package_factors
            )
        )
    spend = pd.concat(spend_tables, ignore_index=True).assign(room_id=scenario.room_id)
    room = pd.concat(room_tables, ignore_index=True).assign(room_id=scenario.room_id)
    truth = Truth(scenario=scenario, seed=seed, sessions=tuple(draws))
    return SimulatedHistory(spend[list(SPEND_COLUMNS)], room[list(ROOM_COLUMNS)], truth)


def _spend_table(
    realised: Realised, minutes: pd.DatetimeIndex, packages: tuple[str, ...]
) -> pd.DataFrame:
    """Long table of one session, minute-major then package order, active cells only."""
    table = pd.DataFrame(
        {
            "ts": minutes.repeat(len(packages)),
            "package": np.tile(packages, len(minutes)),
            "spend": realised.spend.ravel().round(2),
            "paid_gmv": realised.paid_gmv.ravel().round(2),
            "impressions": realised.impressions.ravel(),
            "clicks": realised.clicks.ravel(),
            "paid_orders": realised.paid_orders.ravel(),
        }
    )
    return table[(table["spend"] > 0) | (table["paid_gmv"] > 0)]


def _room_table(realised: Realised, minutes: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": minutes,
            "organic_gmv": realised.organic_gmv.round(2),
            "organic_views": realised.organic_views,
            "online_viewers": realised.online_viewers,
        }
    )


def write_simulation(
    scenario: Scenario, days: int, seed: int, out_dir: str | Path
) -> dict[str, Path]:
    """Write `spend.csv`, `room.csv` and `truth.json` into `out_dir` (created if missing).

    Returns the paths by name (`spend`, `room`, `truth`).
    """
    history = LiveRoomSimulator(scenario).history(days, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"spend": out / "spend.csv", "room": out / "room.csv", "truth": out / "truth.json"}
    history.spend.to_csv(paths["spend"], index=False, date_format=CSV_TIME_FORMAT)
    history.room.to_csv(paths["room"], index=False, date_format=CSV_TIME_FORMAT)
    history.truth.save(paths["truth"])
    return paths
