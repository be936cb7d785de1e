"""Keeping one room's rows of history tables that may hold several rooms (`room_id` column).

Rows with an empty `room_id` belong to the chosen room (the contract: `room_id` defaults to
the config's). Rows of other rooms are left out, with a note of how many.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from optimizer.data.checks import id_text
from optimizer.data.hints import did_you_mean, quoted
from optimizer.data.report import LoadReport
from optimizer.data.tables import TableSource
from optimizer.errors import InputError

COLUMN = "room_id"


def select_room(
    tables: Sequence[tuple[pd.DataFrame, TableSource]],
    room_id: str | None,
    report: LoadReport,
) -> tuple[list[pd.DataFrame], str | None]:
    """Return the tables cut down to one room's rows, and that room's id.

    With no `room_id`, the history must hold at most one room, which then becomes the room.
    """
    frames = [_as_text(frame) for frame, _ in tables]
    sources = [source for _, source in tables]
    found = sorted({room for frame in frames if COLUMN in frame for room in frame[COLUMN].dropna()})
    if room_id is None and len(found) > 1:
        raise InputError(
            f"the history holds {len(found)} rooms ({quoted(found)}) and no room_id is set",
            source=", ".join(s.name for f, s in zip(frames, sources, strict=True) if COLUMN in f),
            where=f"column {COLUMN!r}",
            fix="choose the room: set room_id in the campaign config (or pass room_id)",
        )
    if room_id is None and found:
        room_id = found[0]
        report.add(f"room_id is not set and the history holds one room: using {room_id!r}")
    if room_id is None:
        return frames, None
    return [
        _keep_room(f, s, room_id, report) for f, s in zip(frames, sources, strict=True)
    ], room_id


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`room_id` as ids: text with no surrounding spaces, whole numbers without a decimal part
    (a Parquet column of ids with a gap is float: 12345.0 is room 12345), empty left empty."""
    if COLUMN in frame:
        frame = frame.assign(**{COLUMN: id_text(frame[COLUMN])})
    return frame


def _keep_room(
    frame: pd.DataFrame, source: TableSource, room_id: str, report: LoadReport
) -> pd.DataFrame:
    if COLUMN not in frame:
        return frame
    ids = frame[COLUMN]
    keep = ids.isna() | (ids == room_id)
    if len(frame) and not keep.any():
        rooms = sorted(ids.unique())
        raise InputError(
            f"no rows for room {room_id!r}{did_you_mean(room_id, rooms)} "
            f"(rooms in this file: {quoted(rooms)})",
            source=source.name,
            where=f"column {COLUMN!r}",
            fix="set room_id to a room the history holds",
        )
    others = ids[~keep]
    if len(others):
        report.add(
            f"{source.name}: left out {len(others)} rows of other rooms "
            f"({quoted(sorted(others.unique()))}); kept {int(keep.sum())} rows of {room_id!r}"
        )
    blank = int(ids.isna().sum())
    if blank:
        report.add(f"{source.name}: {blank} rows with no room_id were taken as room {room_id!r}")
    return frame[keep]
