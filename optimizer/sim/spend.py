"""Spend schedules given to the simulator: a (T, P) array or a long `ts, package, spend` frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.data.checks import boolean_cells
from optimizer.errors import InputError
from optimizer.sim.scenario import SessionSpec

Spend = np.ndarray | pd.DataFrame
"""A (T, P) array in the scenario's package order (`LiveRoomSimulator.packages`, not a
campaign's sorted order), a wide frame with one column per package (taken by name, rows in
minute order), or a long frame with `ts, package, spend` (plan.csv)."""

SOURCE = "<spend frame>"


def spend_array(
    spend: Spend,
    packages: tuple[str, ...],
    session: SessionSpec,
    start: str | pd.Timestamp | None = None,
) -> np.ndarray:
    """Spend (see `Spend`) as a (T, P) float array, yuan/min, finite and >= 0.

    A long frame covers `session.minutes` minutes from `start` (default: the first row's date at the
    session's start time); a package-minute without a row has no spend. Problems in a frame are
    InputErrors; a malformed array is a ValueError (a programming error).
    """
    if isinstance(spend, pd.DataFrame) and set(spend.columns) == set(packages):
        if boolean_cells(spend).any():
            raise InputError("spend holds True or False", source=SOURCE,
                             fix="give yuan per minute, a number >= 0 in every cell")
        spend = spend[list(packages)].to_numpy(dtype=float)  # wide: columns by name
    if isinstance(spend, pd.DataFrame):
        return _frame_to_array(spend, packages, session, start)
    array = np.asarray(spend, dtype=float)
    if array.ndim != 2 or array.shape[1] != len(packages):
        raise ValueError(f"spend needs shape (T, {len(packages)}), got {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError("spend must be finite and >= 0")
    return array


def _frame_to_array(
    frame: pd.DataFrame,
    packages: tuple[str, ...],
    session: SessionSpec,
    start: str | pd.Timestamp | None,
) -> np.ndarray:
    missing = {"ts", "package", "spend"} - set(frame.columns)
    if missing:
        raise InputError(
            f"missing columns {sorted(missing)}", source=SOURCE,
            fix=f"give a long frame (ts, package, spend, as plan.csv) or a wide one with one "
                f"column per package: {', '.join(packages)}")
    ts = pd.to_datetime(frame["ts"])
    if start is None:
        start = pd.Timestamp.combine(ts.min().date(), session.start)
    minute = (ts - pd.Timestamp(start)) / pd.Timedelta(minutes=1)
    outside = (minute < 0) | (minute >= session.minutes) | (minute % 1 != 0)
    if outside.any():
        raise InputError(
            f"ts {ts[outside].iloc[0]} is not a minute of the session starting {start}",
            source=SOURCE,
            where=f"column 'ts', {int(outside.sum())} rows",
        )
    column = frame["package"].map({p: i for i, p in enumerate(packages)})
    if column.isna().any():
        unknown = sorted(set(frame["package"][column.isna()]))
        raise InputError(f"unknown packages {unknown}", source=SOURCE, where="column 'package'")
    values = pd.to_numeric(frame["spend"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(values) & (values >= 0)).all() or boolean_cells(frame["spend"]).any():
        raise InputError("spend must be a number >= 0", source=SOURCE, where="column 'spend'")
    cells = pd.DataFrame({"minute": minute.astype(int), "column": column.astype(int)})
    if cells.duplicated().any():
        raise InputError("duplicate (ts, package) rows", source=SOURCE)
    array = np.zeros((session.minutes, len(packages)))
    array[cells["minute"], cells["column"]] = values
    return array
