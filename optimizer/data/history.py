"""A room's checked history: spend per minute and package, organic GMV per live minute.

`build_history` runs every check of the contract on a spend and a room table and numbers the
sessions; `History.from_frames` is the same for frames in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from optimizer.data.checks import ROOM, SPEND, TableSpec, clean_table, raise_where, require_columns
from optimizer.data.hints import quoted
from optimizer.data.panel import Panel, build_panel
from optimizer.data.report import LoadReport
from optimizer.data.rooms import select_room
from optimizer.data.tables import TableSource
from optimizer.errors import InputError

ADDED = ("session", "minute")
ONE_MINUTE = np.timedelta64(1, "m")


@dataclass(frozen=True, eq=False)
class History:
    """One room's history, checked against the contract. Times are local, money is yuan.

    - `spend`: one row per minute and package with activity, sorted by ts, package:
      `ts` (datetime64[us]), `package` (str), `spend` (float, yuan in that minute), `paid_gmv`
      (float, yuan), `session` (int), `minute` (int, minute of the session, 0-based), then
      the optional and extra columns as given (optional signals as floats).
    - `room`: one row per live minute, sorted by ts: `ts`, `organic_gmv` (float, yuan),
      `session`, `minute`, then the optional and extra columns.
    - `sessions`: `session` (int, 0 is the earliest), `start` (datetime64[us]), `end`
      (datetime64[us], exclusive), `minutes` (int).
    - `packages`: the package ids in `spend`, sorted.
    - `room_id`: the room, or None when neither the data nor the caller names one.
    - `source`: {"spend": name, "room": name} of the files or frames read.
    """

    spend: pd.DataFrame
    room: pd.DataFrame
    sessions: pd.DataFrame
    packages: tuple[str, ...]
    room_id: str | None
    source: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        sessions = self.sessions
        span = (f", {sessions['start'].min():%Y-%m-%d} to {sessions['start'].max():%Y-%m-%d}"
                if len(sessions) else "")
        return (f"History({len(sessions)} sessions{span}, {len(self.packages)} packages, "
                f"{len(self.spend):,} spend rows, {len(self.room):,} room minutes)")

    @classmethod
    def from_frames(
        cls, spend_df: pd.DataFrame, room_df: pd.DataFrame, room_id: str | None = None
    ) -> tuple[History, LoadReport]:
        """Check frames in memory as `load_tables` checks files; the frames are not changed."""
        report = LoadReport()
        sources = (TableSource("<spend frame>", index=tuple(spend_df.index)),
                   TableSource("<room frame>", index=tuple(room_df.index)))
        return build_history(spend_df, room_df, sources, room_id, report), report

    def panel(self, packages: Iterable[str] | None = None) -> Panel:
        """Dense arrays over all live minutes; `packages` defaults to `self.packages`."""
        return build_panel(self.spend, self.room, self.packages if packages is None else packages)


def build_history(
    spend: pd.DataFrame,
    room: pd.DataFrame,
    sources: tuple[TableSource, TableSource],
    room_id: str | None,
    report: LoadReport,
    session: tuple[datetime, datetime] | None = None,
) -> History:
    """Check the two tables and number the sessions; raise InputError on any problem.

    `session` is the planned session's [start, end): history inside it is an error.
    """
    spend_source, room_source = sources
    spend, room = spend.reset_index(drop=True), room.reset_index(drop=True)
    require_columns(spend, SPEND, spend_source)
    require_columns(room, ROOM, room_source)
    (spend, room), room_id = select_room(
        ((spend, spend_source), (room, room_source)), room_id, report
    )
    spend = clean_table(spend, SPEND, spend_source, report)
    room = clean_table(room, ROOM, room_source, report)
    if room.empty:
        raise InputError(
            "the room table has no rows",
            source=room_source.name,
            fix="write one row per live minute of the room",
        )
    if not (room["organic_gmv"] > 0).any():
        report.add(f"{room_source.name}: organic_gmv is 0 in every live minute: plans count "
                   "no organic GMV and no uplift of it by paid traffic")
    if session is not None:
        _check_before(spend, spend_source, session)
        _check_before(room, room_source, session)
        later = int((room["ts"] >= pd.Timestamp(session[1])).sum())
        if later:
            report.add(f"{room_source.name}: {later} live minutes after the planned session "
                       "are fitted on too (a what-if for a past session; a plan made before "
                       "the session would not have seen them)")
    raise_where(
        ~spend["ts"].isin(room["ts"]),
        spend,
        "ts",
        spend_source,
        problem="spend in a minute when the room was not live (not a minute of the room table)",
        fix=f"add the minute to the room table ({room_source.name}) or remove the row",
        values=spend["ts"],
    )
    _note_columns(spend, SPEND, spend_source, report)
    _note_columns(room, ROOM, room_source, report)
    room = _ordered(room, ROOM, room_source, report)
    spend = _ordered(spend, SPEND, spend_source, report)
    room, sessions = _number_sessions(room)
    _note_split_days(sessions, room_source, report)
    _note_outliers(spend, spend_source, report)
    at = np.searchsorted(room["ts"].to_numpy(), spend["ts"].to_numpy())
    spend = _with_added(spend, SPEND, room["session"].to_numpy()[at], room["minute"].to_numpy()[at])
    packages = tuple(sorted(spend["package"].unique()))
    report.add(
        f"history: {len(sessions)} sessions, {len(room)} live minutes, {len(spend)} spend rows "
        f"for {len(packages)} packages ({quoted(packages) or 'none'})"
    )
    return History(
        spend=spend,
        room=room,
        sessions=sessions,
        packages=packages,
        room_id=room_id,
        source={"spend": spend_source.name, "room": room_source.name},
    )


def _check_before(
    frame: pd.DataFrame, source: TableSource, session: tuple[datetime, datetime]
) -> None:
    start, end = (pd.Timestamp(t) for t in session)
    inside = (frame["ts"] >= start) & (frame["ts"] < end)
    raise_where(
        inside,
        frame,
        "ts",
        source,
        problem=f"history inside the planned session ({start:%Y-%m-%d %H:%M} to "
        f"{end:%Y-%m-%d %H:%M}); a fit must never see the future",
        fix="plan a session after the history, or remove the session's minutes from the history",
        values=frame["ts"],
    )


def _note_columns(
    frame: pd.DataFrame, spec: TableSpec, source: TableSource, report: LoadReport
) -> None:
    known = (*spec.required, *spec.signals, "room_id", *ADDED)
    extra = [c for c in frame.columns if c not in known]
    if extra:
        report.add(f"{source.name}: kept the extra columns {quoted(extra)} as given")
    replaced = [c for c in ADDED if c in frame.columns]
    if replaced:
        report.add(
            f"{source.name}: replaced the columns {quoted(replaced)} by the loader's "
            "session numbering"
        )


def _ordered(
    frame: pd.DataFrame, spec: TableSpec, source: TableSource, report: LoadReport
) -> pd.DataFrame:
    """`frame` sorted by its key columns, with a note when the rows were not in time order.

    (Rows of one minute are put in package order without a note.)
    """
    if not frame["ts"].is_monotonic_increasing:
        report.add(f"{source.name}: rows were not in time order; sorted by {', '.join(spec.key)}")
    return frame.sort_values(list(spec.key), kind="stable")


OUTLIER_FACTOR = 100.0
"""A package's spend in a minute over this many times its median active spend gets a note."""


def _note_outliers(spend: pd.DataFrame, source: TableSource, report: LoadReport) -> None:
    """Note each package's minutes of spend over `OUTLIER_FACTOR` times its median positive
    spend: one such minute (1e9 yuan among tens) took every package's organic leverage to 0."""
    active = spend[spend["spend"] > 0]
    median = active.groupby("package")["spend"].transform("median")
    far = active[active["spend"] > OUTLIER_FACTOR * median]
    for package, rows in far.groupby("package"):
        top = rows.loc[rows["spend"].idxmax()]
        report.add(f"{source.name}: {package} has {len(rows)} minute(s) of spend over "
                   f"{OUTLIER_FACTOR:g} times its median ({top['spend']:,.0f} yuan at "
                   f"{top['ts']:%Y-%m-%d %H:%M}; median {median[rows.index[0]]:,.2f}): check "
                   "them, a spend like that sways the whole fit")


def _note_split_days(sessions: pd.DataFrame, source: TableSource, report: LoadReport) -> None:
    """Note each calendar day (of its start) with more than one session: a gap in the live
    minutes splits a stream, and each part is fitted as a session of its own."""
    days = pd.to_datetime(sessions["start"]).dt.date
    for day, parts in sessions.groupby(days):
        if len(parts) > 1:
            report.add(f"{source.name}: {day} has {len(parts)} sessions "
                       f"({', '.join(str(m) for m in parts['minutes'])} minutes): a gap in the "
                       "live minutes splits a stream, and each part is a session of its own")


def _number_sessions(room: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sessions are runs of consecutive minutes in the (sorted) room table."""
    ts = room["ts"].to_numpy()
    starts_run = np.ones(len(ts), dtype=bool)
    starts_run[1:] = np.diff(ts) != ONE_MINUTE
    session = np.cumsum(starts_run) - 1
    first = np.flatnonzero(starts_run)
    minute = np.arange(len(ts)) - first[session]
    lengths = np.diff(np.append(first, len(ts)))
    sessions = pd.DataFrame(
        {
            "session": np.arange(len(first)),
            "start": ts[first],
            "end": ts[first + lengths - 1] + ONE_MINUTE,
            "minutes": lengths,
        }
    )
    return _with_added(room, ROOM, session, minute), sessions


def _with_added(
    frame: pd.DataFrame, spec: TableSpec, session: np.ndarray, minute: np.ndarray
) -> pd.DataFrame:
    """The required columns, `session` and `minute`, then the rest; index 0..n-1."""
    rest = [c for c in frame.columns if c not in spec.required and c not in ADDED]
    added = pd.DataFrame({"session": session, "minute": minute}, index=frame.index)
    return pd.concat([frame[list(spec.required)], added, frame[rest]], axis=1).reset_index(
        drop=True
    )
