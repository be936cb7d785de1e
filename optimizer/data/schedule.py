"""A spend schedule to evaluate: a `plan.csv` (or any table with ts, package, spend)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.data.checks import TableSpec, clean_table, raise_where, require_columns
from optimizer.data.hints import quoted
from optimizer.data.report import LoadReport
from optimizer.data.tables import TableSource, read_table

SCHEDULE = TableSpec(
    label="schedule",
    required=("ts", "package", "spend"),
    amounts=("spend",),
    signals=(),
    key=("ts", "package"),
    text=("package",),
)


def load_schedule(path: str | Path, start: datetime, minutes: int,
                  packages: Sequence[str]) -> tuple[np.ndarray, LoadReport]:
    """Spend (minutes, P) yuan/min of `packages` over the session from `start`.

    Only `ts, package, spend` are read. A minute with no row for a package has no spend (as in
    the history tables), which the report notes; rows outside the session or of unknown
    packages are errors naming the rows.
    """
    source = TableSource.for_path(path)
    report = LoadReport()
    frame = read_table(path)
    require_columns(frame, SCHEDULE, source)
    frame = clean_table(frame[list(SCHEDULE.required)], SCHEDULE, source, report)
    minute = (frame["ts"] - pd.Timestamp(start)) // pd.Timedelta(minutes=1)
    raise_where((minute < 0) | (minute >= minutes), frame, "ts", source,
                problem="minute outside the session being evaluated",
                fix=f"keep only the session's minutes, {start:%Y-%m-%d %H:%M} for {minutes} "
                    "minutes")
    column = frame["package"].map({p: j for j, p in enumerate(packages)})
    raise_where(column.isna(), frame, "package", source, problem="unknown package",
                fix=f"use the campaign's packages: {quoted(packages)}")
    spend = np.zeros((minutes, len(packages)))
    spend[minute.to_numpy(), column.to_numpy(dtype=int)] = frame["spend"].to_numpy()
    missing = minutes * len(packages) - len(frame)
    if missing:
        report.add(f"{missing} package-minutes had no row in {source.name}: no spend there")
    return spend, report
