"""The clock-of-day part of a curve's log scale: a cubic B-spline over minutes of the day.

Added to the time-of-session spline (`SessionBasis`) when history's sessions start at varying
clock times: traffic follows the clock too (Douyin's evening prime time, ~20:00-22:00). Both
splines' rows sum to one, so the clock spline drops its first column (the session spline keeps
the intercept). The day is cut where history has least coverage, so that a session crossing
midnight reads a continuous clock: minutes of day are counted from `cut`.

With a day effect per session, a straight line in the minute of session is a straight line in
the clock less one in the start: the fit cannot tell them apart. `ClockBasis.reduced` leaves that
direction out of the clock coefficients, and `start_slope_map` moves it afterwards so that the day
effects carry no trend in the start time: a session's level by its start is the clock's.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, ConfigDict

from optimizer.curves.basis import TAIL_MINUTES, bspline_design

_DEGREE = 3
DAY_MINUTES = 1440

CLOCK_KNOT_MINUTES = (60.0, 120.0)
"""Knot spacings of the clock spline to choose from (minutes): an evening peak two hours wide
needs hourly knots; on the outside truth's history (starts 18:00-20:30) two-hourly ones
forecast the held-out sessions better."""

EDGE_SHARE = 0.02
"""Share of history's rows at either end of the clock times it covered that the spline leaves
out, held at the edge there: the few sessions that ran latest told it little."""

MIN_START_SPAN = 60.0
"""Least spread of history's session starts (minutes of day, the shortest arc holding them all)
for a clock component to be tried: with starts closer together the clock is the minute of
session shifted by a constant, and the two splines trade off freely."""


class ClockBasis(BaseModel):
    """A cubic B-spline over minutes of day counted from `cut`, first column dropped.

    cut: minute of day (0-1439) where history has least coverage; knots: over the counted minutes
    history saw, ``[knots[0], knots[-1]]``; usual_start: the most common start of history's
    sessions (minute of day), the start of a session that states none. A counted minute outside
    history's range gets the spline's mean over the `TAIL_MINUTES` nearest minutes history saw
    (held at the edge, as `SessionBasis` holds a session's tail).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cut: int
    knots: tuple[float, ...]
    usual_start: int

    @classmethod
    def for_history(cls, clock_minute: np.ndarray, session: np.ndarray, minute: np.ndarray,
                    knot_minutes: float) -> ClockBasis:
        """The clock spline of history rows, minute of day (n,), session (n,), minute of
        session (n,), with knots every `knot_minutes` over the clock minutes they cover (less
        `EDGE_SHARE` of them at either end)."""
        clock_minute = np.asarray(clock_minute).astype(int) % DAY_MINUTES
        cut = least_covered(np.bincount(clock_minute, minlength=DAY_MINUTES))
        counted = (clock_minute - cut) % DAY_MINUTES
        low, high = np.floor(np.quantile(counted, [EDGE_SHARE, 1 - EDGE_SHARE]))
        high = max(high + 1, low + knot_minutes)
        pieces = max(1, round((high - low) / knot_minutes))
        inner = np.linspace(low, high, pieces + 1)
        starts = session_starts(clock_minute, session, minute)
        usual = int(np.bincount(starts, minlength=DAY_MINUTES).argmax())
        return cls(cut=cut, usual_start=usual,
                   knots=tuple(np.r_[[low] * _DEGREE, inner, [high] * _DEGREE]))

    @property
    def size(self) -> int:
        """Number of basis columns (the spline's less the dropped one)."""
        return len(self.knots) - _DEGREE - 2

    def counted(self, clock_minute: np.ndarray) -> np.ndarray:
        """Minutes of day (n,) as minutes from `cut`, in [0, 1440)."""
        return (np.asarray(clock_minute, dtype=float) - self.cut) % DAY_MINUTES

    def outside(self, clock_minute: np.ndarray) -> np.ndarray:
        """(n,) which minutes of day history's sessions never covered (held at the edge)."""
        counted = self.counted(clock_minute)
        return (counted < self.knots[0]) | (counted >= self.knots[-1])

    def design(self, clock_minute: np.ndarray) -> np.ndarray:
        """Basis values, shape (n, size), at minutes of day `clock_minute` (n,)."""
        counted = self.counted(clock_minute)
        low, high = self.knots[0], self.knots[-1]
        values = self._full(np.clip(counted, low, high * (1 - 1e-12)))
        for edge, minutes in ((counted < low, np.arange(low, min(low + TAIL_MINUTES, high))),
                              (counted >= high, np.arange(max(high - TAIL_MINUTES, low), high))):
            if edge.any():
                values[edge] = self._full(minutes).mean(axis=0)
        return values[:, 1:]

    def session_design(self, start: float, minutes: int) -> np.ndarray:
        """`design` of a session starting at minute of day `start`, shape (minutes, size),
        read-only and cached (every draw of a forecast asks for the same, as of
        `SessionBasis.session_design`)."""
        return _session_design(self, float(start), int(minutes))

    def reduced(self) -> np.ndarray:
        """(size, size - 1) orthonormal map onto the clock coefficients without a straight line
        (`line`): the direction the session spline and the day effects can carry instead."""
        line = self.line()
        q, _ = np.linalg.qr(np.column_stack([line / np.linalg.norm(line), np.eye(self.size)]))
        return q[:, 1:self.size]

    def line(self) -> np.ndarray:
        """(size,) coefficients of ``counted minute - knots[0]`` (the Greville abscissae less
        the dropped column's): with the dropped column's constant, the straight line."""
        greville = greville_abscissae(self.knots)
        return greville[1:] - greville[0]

    def _full(self, counted: np.ndarray) -> np.ndarray:
        return bspline_design(counted, np.asarray(self.knots), _DEGREE)


@lru_cache(maxsize=64)
def _session_design(clock: ClockBasis, start: float, minutes: int) -> np.ndarray:
    values = clock.design(start + np.arange(minutes))
    values.flags.writeable = False
    return values


def greville_abscissae(knots: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Coefficients of x in a cubic B-spline basis on `knots`: ``sum_j g_j B_j(x) = x``."""
    knots = np.asarray(knots, dtype=float)
    size = len(knots) - _DEGREE - 1
    return np.array([knots[j + 1 : j + _DEGREE + 1].mean() for j in range(size)])


def least_covered(coverage: np.ndarray) -> int:
    """Minute of day (0-1439) in the middle of the longest run of least `coverage` (1440,)
    (rows per minute of day), runs wrapping round midnight."""
    low = coverage == coverage.min()
    if low.all():
        return 0
    first = int(np.flatnonzero(~low)[0])  # rotate so no run wraps
    rolled = np.roll(low, -first)
    edges = np.flatnonzero(np.diff(np.r_[0, rolled.astype(int), 0]))
    begins, ends = edges[::2], edges[1::2]
    longest = int(np.argmax(ends - begins))
    return int((first + (begins[longest] + ends[longest]) // 2) % DAY_MINUTES)


def session_starts(clock_minute: np.ndarray, session: np.ndarray, minute: np.ndarray
                   ) -> np.ndarray:
    """Minute of day (0-1439) each session of rows (n,) started at, in session order."""
    _, first = np.unique(np.asarray(session), return_index=True)
    start = np.asarray(clock_minute)[first] - np.asarray(minute)[first]
    return (start.astype(int) % DAY_MINUTES)


def start_span(starts: np.ndarray) -> float:
    """Minutes of the shortest arc of the clock holding every start (minute of day)."""
    points = np.unique(np.asarray(starts, dtype=float) % DAY_MINUTES)
    if len(points) < 2:
        return 0.0
    gaps = np.diff(np.r_[points, points[0] + DAY_MINUTES])
    return float(DAY_MINUTES - gaps.max())


def start_slope_map(start: np.ndarray, spline_line: np.ndarray, clock: ClockBasis,
                    n_days: int) -> np.ndarray:
    """(k, k) linear map of coefficients [session spline, clock, day effects] (k) leaving the
    fitted log scale on history unchanged (where the clock is not held at an edge: there the
    line is held too) and the day effects with no least-squares slope in the sessions' start
    times.

    start: (S,) each fitted session's start as a counted minute (`ClockBasis.counted`), session
    0 first; spline_line: (size,) the session spline's Greville abscissae (its straight line).
    A slope b of the day effects on the start goes to the splines: the session spline loses
    ``b * minute`` and gains ``b * (knots[0] - start_0)``, the clock gains ``b * (counted -
    knots[0])``, day effects lose ``b * (start - start_0)``.
    """
    start = np.asarray(start, dtype=float)
    spread = start - start.mean()
    k = len(spline_line) + clock.size + n_days
    if n_days == 0 or np.sum(spread ** 2) == 0:
        return np.eye(k)
    slope = np.zeros(k)  # b as a function of the coefficients: through the day effects
    slope[len(spline_line) + clock.size:] = spread[1:] / np.sum(spread ** 2)
    direction = np.r_[-np.asarray(spline_line) + clock.knots[0] - start[0], clock.line(),
                      -(start[1:] - start[0])]
    return np.eye(k) + np.outer(direction, slope)


def clock_for(clock: ClockBasis | None, clock_minute: np.ndarray | None, session: np.ndarray,
              minute: np.ndarray) -> ClockBasis | None:
    """`clock` for a fit on rows (n,) of minute of day `clock_minute`, `session` and minute of
    session `minute`, when their sessions' starts span `MIN_START_SPAN` at least; else None."""
    if clock is None or clock_minute is None:
        return None
    varied = start_span(session_starts(clock_minute, session, minute)) >= MIN_START_SPAN
    return clock if varied else None


def minute_of_day(time: dt.time) -> int:
    """Minutes from midnight (0-1439) of a clock `time`."""
    return time.hour * 60 + time.minute


def clock_minutes(ts: np.ndarray) -> np.ndarray:
    """Minute of day (n,) int, 0-1439, of datetime64 minutes `ts` (n,)."""
    ts = np.asarray(ts, dtype="datetime64[m]")
    return ((ts - ts.astype("datetime64[D]")).astype(int)) % DAY_MINUTES


DAY_SHRINKAGE = 0.1
"""Weight of the prior on day effects in a clocked fit, as a share of the average session's
GMV (yuan): its day effects, less their straight line in the start, are pulled toward 0 by
about a tenth of their size. Free, they took up any level by start (the clock says the level
only through its shape within sessions, a chain of hours): on the 'clock' scenario a new
session's organic forecast was 12-33% off by its start, with day effects of 0.3 where the
truth's spread is 0.08."""


def day_penalty(start: np.ndarray, weight: float, size: int) -> np.ndarray:
    """(size, size) penalty matrix on coefficients whose last ``len(start) - 1`` are the day
    effects of sessions 1.. (session 0's is 0): `weight` times the sum of squares of the day
    effects' residuals from a straight line in the start (`start`, (S,) any units)."""
    start = np.asarray(start, dtype=float)
    days = len(start) - 1
    penalty = np.zeros((size, size))
    if days < 1:
        return penalty
    line = np.column_stack([np.ones_like(start), start - start.mean()])
    residual = np.eye(len(start)) - line @ np.linalg.pinv(line)
    penalty[size - days:, size - days:] = weight * residual[1:, 1:]
    return penalty
