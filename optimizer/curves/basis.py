"""Design matrices for time-of-session and day effects.

The log of a response scale is ``f(minute of session) + day effect``: ``f`` is a cubic B-spline
in the minute of session with knots every `knot_minutes`, day effects are one dummy per session
after the first. B-spline rows sum to one, so the spline also carries the intercept.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pydantic import BaseModel, ConfigDict

_DEGREE = 3
TAIL_MINUTES = 15
"""Minutes at the end of history's sessions whose mean profile a longer session keeps."""


class SessionBasis(BaseModel):
    """A cubic B-spline over minutes of session ``[0, horizon]`` (minutes).

    History has minutes 0 to ``horizon - 1``. A later minute (a session longer than any in
    history) gets the spline's mean over the last `TAIL_MINUTES` minutes history saw: the
    spline's value at `horizon` rests on no data (it was seen 2.2 times the value a minute
    before), and its last few minutes on little.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    knots: tuple[float, ...]

    @classmethod
    def for_horizon(cls, horizon: int, knot_minutes: float) -> SessionBasis:
        """Knots every `knot_minutes` over a session of `horizon` minutes."""
        pieces = max(1, round(horizon / knot_minutes))
        inner = np.linspace(0.0, float(horizon), pieces + 1)
        return cls(knots=tuple(np.r_[[0.0] * _DEGREE, inner, [float(horizon)] * _DEGREE]))

    @property
    def horizon(self) -> float:
        return self.knots[-1]

    @property
    def size(self) -> int:
        """Number of basis columns."""
        return len(self.knots) - _DEGREE - 1

    def design(self, minute: np.ndarray) -> np.ndarray:
        """Basis values, shape (n, size), for minutes of session ``minute`` (n,)."""
        minute = np.asarray(minute, dtype=float)
        knots = np.asarray(self.knots)
        seen = np.clip(minute, 0.0, self.horizon * (1 - 1e-12))
        values = bspline_design(seen, knots, _DEGREE)
        past = minute >= self.horizon
        if past.any():
            tail = np.arange(max(self.horizon - TAIL_MINUTES, 0.0), self.horizon)
            values[past] = bspline_design(tail, knots, _DEGREE).mean(axis=0)
        return values

    def session_design(self, minutes: int) -> np.ndarray:
        """`design` of the minutes 0 to `minutes` - 1, shape (minutes, size), read-only and
        cached: a forecast's 200 draws of 8 curves built it 1,600 times (0.36 s of 0.8 s)."""
        return _session_design(self, int(minutes))

    def session_means(self) -> np.ndarray:
        """(size,) each column's mean value over the minutes of a whole session."""
        return self.design(np.arange(int(round(self.horizon)))).mean(axis=0)


@lru_cache(maxsize=64)
def _session_design(basis: SessionBasis, minutes: int) -> np.ndarray:
    values = basis.design(np.arange(minutes))
    values.flags.writeable = False
    return values


def bspline_design(x: np.ndarray, knots: np.ndarray, degree: int) -> np.ndarray:
    """Values of every B-spline of `degree` on `knots` at x, shape (n, len(knots) - degree - 1).

    Cox-de Boor recursion, for ``knots[degree] <= x < knots[-degree - 1]`` (scipy's
    `BSpline.design_matrix` computes the same; numpy keeps scipy.interpolate off start-up), at
    each distinct x once: rows of a history repeat the same few hundred minutes (a fit of 60
    sessions x 480 minutes spent 4.6 s of 37 here before).
    """
    points, where = np.unique(np.asarray(x, dtype=float), return_inverse=True)
    x, t = points[:, None], np.asarray(knots, dtype=float)
    values = ((t[:-1] <= x) & (x < t[1:])).astype(float)
    for d in range(1, degree + 1):
        left, right = t[d:-1] - t[: -d - 1], t[d + 1 :] - t[1:-d]
        up = (x - t[: -d - 1]) / np.where(left > 0, left, 1.0) * (left > 0)
        down = (t[d + 1 :] - x) / np.where(right > 0, right, 1.0) * (right > 0)
        values = up * values[:, :-1] + down * values[:, 1:]
    return values[where.reshape(-1)]


INFORMED_SHARE = 0.2
"""A spline column is informed when the rows that inform the curve hold at least this share of
the weight they would give it spread evenly over the session's minutes (see `tie_uninformed`)."""


def informed_columns(values: np.ndarray, informed: np.ndarray, means: np.ndarray
                     ) -> np.ndarray:
    """Indices of the spline columns that rows `informed` (n,) inform, in order.

    values: (n, size) spline design of the rows fitted; informed: which rows tell the curve's
    scale (a package's paid GMV is 0 wherever it did not spend, whatever the scale); means:
    (size,) each column's mean over a session's minutes (`SessionBasis.session_means`). A
    column is informed when informed rows hold at least `INFORMED_SHARE` of the weight as
    many rows spread evenly over the session would give it: a column over minutes 90-210
    that rows reach only up to minute 119 holds a twelfth of it, and fitted to the tail of
    its support alone it put the rest of the session 20% low. Every column when none is.
    """
    values = np.asarray(values, dtype=float)
    informed = np.asarray(informed, dtype=bool)
    even = informed.sum() * np.asarray(means, dtype=float)
    held = values[informed].sum(axis=0)
    kept = np.flatnonzero((even > 0) & (held >= INFORMED_SHARE * even))
    return kept if len(kept) else np.arange(values.shape[1])


def tie_uninformed(kept: np.ndarray, size: int) -> np.ndarray:
    """(size, len(kept)) map from the coefficients of the spline columns `kept` to all `size`.

    A column not kept is held at the nearest kept column's coefficient, or interpolated
    linearly between the kept columns either side. Left free, such a coefficient is fitted to
    the tail of its support alone: a package history never spent in before minute 60 was
    forecast at 62% of the truth over minutes 0-29 and 318% over minutes 30-59, where a plan
    would pour its budget.
    """
    columns = np.arange(size)
    return np.column_stack([np.interp(columns, kept, unit) for unit in np.eye(len(kept))])


def day_dummies(session: np.ndarray, n_sessions: int) -> np.ndarray:
    """One column per session after the first, shape (n, n_sessions - 1): the day effects."""
    return np.eye(n_sessions)[np.asarray(session)][:, 1:]


def design(basis: SessionBasis, minute: np.ndarray, session: np.ndarray) -> np.ndarray:
    """[spline(minute), day dummies], shape (n, basis.size + n_sessions - 1)."""
    session = np.asarray(session)
    n_sessions = int(session.max()) + 1 if len(session) else 1
    return np.column_stack([basis.design(minute), day_dummies(session, n_sessions)])
