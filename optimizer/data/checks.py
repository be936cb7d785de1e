"""Checks of one history table: its columns, timestamps, numbers and duplicate rows.

A table's index holds each row's 0-based position in the file while it is checked, so every
message can point at the row (and, for CSV, the file line). `raise_rows` is the one place
that words such messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import pandas as pd

from optimizer.data.hints import did_you_mean, quoted
from optimizer.data.report import LoadReport
from optimizer.data.tables import CSV_TIME_FORMAT, TableSource
from optimizer.errors import InputError

MAX_ROWS_SHOWN = 5
TIME_UNIT = "datetime64[us]"
TIME_FIX = "write ts as YYYY-MM-DD HH:MM:SS in local time, with no time zone"


@dataclass(frozen=True)
class TableSpec:
    """What a history table must hold (see CONTRACT.md).

    `amounts` are required yuan columns (finite, >= 0, never empty); `signals` are optional
    count columns (>= 0, may be empty); `key` is the set of columns no two rows may share;
    `text` columns hold ids.
    """

    label: str
    required: tuple[str, ...]
    amounts: tuple[str, ...]
    signals: tuple[str, ...]
    key: tuple[str, ...]
    text: tuple[str, ...] = ()


SPEND = TableSpec(
    label="spend",
    required=("ts", "package", "spend", "paid_gmv"),
    amounts=("spend", "paid_gmv"),
    signals=("impressions", "clicks", "paid_orders"),
    key=("ts", "package"),
    text=("package",),
)
ROOM = TableSpec(
    label="room",
    required=("ts", "organic_gmv"),
    amounts=("organic_gmv",),
    signals=("organic_views", "online_viewers"),
    key=("ts",),
)


def raise_rows(
    source: TableSource,
    rows: Sequence[int],
    *,
    columns: Sequence[str],
    problem: str,
    fix: str,
    details: Sequence[object] | None = None,
) -> NoReturn:
    """Raise an InputError about bad rows (0-based positions), showing the first few.

    `details` (one per row, e.g. the bad value) is shown next to each row shown.
    """
    rows = list(rows)
    shown = [source.row(row) for row in rows[:MAX_ROWS_SHOWN]]
    if details is not None:
        shown = [f"{row}: {detail}" for row, detail in zip(shown, details, strict=False)]
    column = f"column {quoted(columns)}" if len(columns) == 1 else f"columns {quoted(columns)}"
    if len(rows) == 1:
        raise InputError(f"{problem}: {shown[0]}", source=source.name, where=column, fix=fix)
    more = f"; ... ({len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
    raise InputError(
        f"{problem} in {len(rows)} rows: " + "; ".join(shown) + more,
        source=source.name,
        where=column,
        fix=fix,
    )


def raise_where(
    mask: pd.Series,
    frame: pd.DataFrame,
    column: str,
    source: TableSource,
    *,
    problem: str,
    fix: str,
    values: pd.Series | None = None,
) -> None:
    """`raise_rows` for the rows where `mask` holds, showing their raw value in `column`."""
    if mask.any():
        shown = (frame[column] if values is None else values)[mask].head(MAX_ROWS_SHOWN)
        details = [
            "empty" if pd.isna(v) else repr(v) if isinstance(v, str) else str(v) for v in shown
        ]
        raise_rows(
            source, frame.index[mask], columns=(column,), problem=problem, fix=fix, details=details
        )


def require_columns(frame: pd.DataFrame, spec: TableSpec, source: TableSource) -> None:
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        found = [str(c) for c in frame.columns]
        others = [c for c in found if c not in spec.required]
        names = ", ".join(f"{c!r}{did_you_mean(c, others)}" for c in missing)
        raise InputError(
            f"missing required column{'s' if len(missing) > 1 else ''} {names} "
            f"(columns found: {quoted(found) or 'none'})",
            source=source.name,
            fix=f"the {spec.label} table needs the columns {quoted(spec.required)}",
        )


def parse_timestamps(frame: pd.DataFrame, source: TableSource, report: LoadReport) -> pd.Series:
    """The `ts` column as naive local timestamps on whole minutes (`datetime64[us]`)."""
    raw = frame["ts"]
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        raise InputError(
            f"timestamps carry a time zone ({raw.dt.tz})",
            source=source.name,
            where="column 'ts'",
            fix=TIME_FIX,
        )
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        ts = raw.astype(TIME_UNIT)
    else:
        text = raw.astype(str)
        ts = pd.to_datetime(text, format=CSV_TIME_FORMAT, errors="coerce").astype(TIME_UNIT)
        retry = ts.isna() & raw.notna()
        if retry.any():
            ts[retry] = _parse_any(text[retry])
            read = int((ts.notna() & retry).sum())
            if read:
                report.add(
                    f"{source.name}: {read} timestamps were not written as "
                    "YYYY-MM-DD HH:MM:SS and were read with a general date parser"
                )
    raise_where(raw.isna(), frame, "ts", source, problem="ts is empty", fix=TIME_FIX)
    raise_where(ts.isna(), frame, "ts", source, problem="ts is not a local timestamp", fix=TIME_FIX)
    raise_where(
        ts != ts.dt.floor("min"),
        frame,
        "ts",
        source,
        problem="ts is not on a whole minute",
        fix="history is per minute: give each row the start of its minute (seconds 00), "
        "adding up rows within a minute",
        values=ts,
    )
    return ts


_DAY_OR_MONTH_FIRST = r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}"
_FULL_YEAR = r"^\s*\d{4}[-/.]?\d{1,2}[-/.]?\d{1,2}|[A-Za-z]{3}.*\b\d{4}\b"
"""A date that starts with its four-digit year (2026/11/10, 20261110) or names its month
(Nov 10 2026); `1900` or `19:00:00 1234` is a time, not a date."""


def _parse_any(raw: pd.Series) -> pd.Series:
    """Timestamps in other formats than the contract's, NaT where unreadable or zoned, and
    where a guess would be silent: a date with the day or the month first (10/11/2026 is
    October 11 or 10 November, and a parser reads 13/11/2026 the other way round in the same
    column) or with no four-digit year (`26-11-10`, or a time alone, to which the parser adds
    today's date)."""
    raw = raw.where(~raw.str.match(_DAY_OR_MONTH_FIRST) & raw.str.contains(_FULL_YEAR))
    try:
        parsed = pd.to_datetime(raw, format="mixed", errors="coerce")
    except (ValueError, TypeError):  # e.g. several UTC offsets in one column
        return pd.Series(pd.NaT, index=raw.index, dtype=TIME_UNIT)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return pd.Series(pd.NaT, index=raw.index, dtype=TIME_UNIT)
    return parsed.astype(TIME_UNIT)


def boolean_cells(values) -> np.ndarray:
    """Mask (shape of `values`) of the cells that hold True or False: numpy and pandas read
    them as 1 and 0, so a flag pasted into a spend column was 1 yuan."""
    array = np.asarray(values)
    if array.dtype == bool:
        return np.ones(array.shape, dtype=bool)
    if array.dtype != object:
        return np.zeros(array.shape, dtype=bool)
    return np.vectorize(lambda v: isinstance(v, bool | np.bool_), otypes=[bool])(array)


def to_numbers(
    frame: pd.DataFrame, column: str, source: TableSource, *, required: bool
) -> pd.Series:
    """`column` as floats: numbers, finite and >= 0; empty allowed unless `required`."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    what = "amount in yuan" if required else "count"
    raise_where(
        values.isna() & raw.notna() | boolean_cells(raw),
        frame,
        column,
        source,
        problem=f"{column} is not a number",
        fix=f"write a plain number ({what}), with no units or thousands separators",
    )
    if required:
        raise_where(
            raw.isna(),
            frame,
            column,
            source,
            problem=f"{column} is empty",
            fix=f"write 0 when there was no {column} in that minute",
        )
    raise_where(
        pd.Series(np.isinf(values), index=frame.index),
        frame,
        column,
        source,
        problem=f"{column} is infinite",
        fix="write the real value",
    )
    raise_where(
        values < 0,
        frame,
        column,
        source,
        problem=f"{column} is negative",
        fix=f"correct the value: {column} is never below 0",
        values=values,
    )
    return values


def id_text(raw: pd.Series) -> pd.Series:
    """Ids as text: surrounding spaces (a spreadsheet's, or a full-width 　) stripped, whole
    numbers of a float column (ids with a gap, read as floats) without ``.0``; empty stays
    empty (NaN)."""
    empty = raw.isna()
    if pd.api.types.is_float_dtype(raw) and (raw[~empty] % 1 == 0).all():
        raw = raw.fillna(0).astype(np.int64)
    return raw.astype(str).str.strip().where(~empty)


def to_text(frame: pd.DataFrame, column: str, source: TableSource) -> pd.Series:
    """`column` as non-empty ids (`id_text`): `fans` and `fans ` are one package."""
    raw = frame[column]
    raise_where(
        raw.isna() | (raw.astype(str).str.strip() == ""),
        frame,
        column,
        source,
        problem=f"{column} is empty",
        fix=f"write the {column} id in every row",
    )
    return id_text(raw)


def check_duplicates(frame: pd.DataFrame, spec: TableSpec, source: TableSource) -> None:
    key = list(spec.key)
    repeated = frame.duplicated(key, keep="first")
    if repeated.any():
        positions = pd.Series(frame.index, index=frame.index)
        first = positions.groupby([frame[c] for c in key]).transform("first")[repeated]
        values = frame.loc[repeated, key].head(MAX_ROWS_SHOWN)
        details = [
            f"same {' and '.join(key)} ({', '.join(map(str, vals))}) as {source.row(row)}"
            for row, vals in zip(first, values.itertuples(index=False), strict=False)
        ]
        raise_rows(
            source,
            frame.index[repeated],
            columns=key,
            problem=f"duplicate {' and '.join(key)}",
            fix=f"keep one row per {' and '.join(key)}: add up or remove the duplicates",
            details=details,
        )


def clean_table(
    frame: pd.DataFrame, spec: TableSpec, source: TableSource, report: LoadReport
) -> pd.DataFrame:
    """Check one table's values; return it with typed columns (raises InputError)."""
    frame = frame.copy()
    frame["ts"] = parse_timestamps(frame, source, report)
    for column in spec.text:
        frame[column] = to_text(frame, column, source)
    for column in spec.amounts:
        frame[column] = to_numbers(frame, column, source, required=True)
    for column in spec.signals:
        if column in frame.columns:
            frame[column] = to_numbers(frame, column, source, required=False)
    check_duplicates(frame, spec, source)
    return frame
