"""Fitted state shared by the paid and organic curves: a log scale and nonlinear parameters.

A fitted curve is ``exp(spline(minute) [+ clock(minute of day)] + day effect) * F(theta)``.
Its state is plain numbers (JSON-ready): the spline, clock and day coefficients, theta, and
their joint HAC covariance. A new session's scale uses the average day: ``log mean(exp(day
effects))`` over the sessions that inform it.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from optimizer.curves.basis import SessionBasis, design, informed_columns, tie_uninformed
from optimizer.curves.clock import (
    DAY_SHRINKAGE,
    ClockBasis,
    day_penalty,
    greville_abscissae,
    start_slope_map,
)
from optimizer.curves.estimator import Factor, at_bound, block_diagonal, fit_multiplicative


class FitDiagnostics(BaseModel):
    """How a fit went: quasi-deviance, Pearson dispersion, rows used, and on the held-out
    sessions: quasi-deviance of each candidate (family and knot spacing), WAPE, and the noise
    floor's mean and 90% band (`optimizer.curves.floor.NoiseFloor`)."""

    model_config = ConfigDict(extra="forbid")

    deviance: float
    dispersion: float
    n: int
    converged: bool
    holdout_deviance: dict[str, float] = {}
    holdout_wape: dict[str, float] = {}
    noise_floor_wape: float | None = None
    noise_floor_band: tuple[float, float] | None = None


class FittedScale(BaseModel):
    """Coefficients of ``exp(X @ coef) * F(theta)`` with X = [spline basis, clock basis, day
    dummies].

    basis: the time-of-session spline this curve was fitted with.
    clock: the clock-of-day spline (`optimizer.curves.clock`), None when the curve has none.
    coef: spline coefficients, clock coefficients (`clock.size`, none without a clock), then one
    day effect per session after the first (log scale).
    theta: the factor's parameters, named by `theta_names`, within `bounds`.
    cov: joint HAC covariance of (coef, theta), shape (len(coef) + len(theta),) * 2.
    informative_days: the history sessions the day effects are of, in order (None: every
        session, numbered 0..). A paid curve is fitted on the sessions its package spent in
        only: in one it never spent, paid GMV is 0 whatever the scale, and its day effect was
        only the GLM's drift (averaged into a new session's, a package off every other day
        was forecast at half its scale) and left the covariance near-singular (its draws
        overflowed). A day outside them counts as the average day.
    """

    model_config = ConfigDict(extra="forbid")

    basis: SessionBasis
    coef: list[float]
    theta: list[float]
    theta_names: list[str]
    bounds: list[tuple[float, float]]
    cov: list[list[float]]
    diagnostics: FitDiagnostics
    informative_days: list[int] | None = None
    clock: ClockBasis | None = None

    @staticmethod
    def estimate(y: np.ndarray, minute: np.ndarray, session: np.ndarray, basis: SessionBasis,
                 factor: Factor, names: tuple[str, ...], theta0: np.ndarray,
                 bounds: list[tuple[float, float]], maxlags: int, inference: bool = True,
                 informed: np.ndarray | None = None, reference: np.ndarray | None = None,
                 clock: ClockBasis | None = None, clock_minute: np.ndarray | None = None,
                 theta_penalty: np.ndarray | None = None) -> dict:
        """Fit ``exp(spline(minute) + day(session)) * factor(theta)``; field values of the result.

        y, minute, session: (n,) rows of live minutes, sessions numbered 0.. contiguous.
        inference: False leaves the covariance zero (see `fit_multiplicative`).
        informed: (n,) the rows that tell the scale (None: all). Spline coefficients of minutes
        they leave uninformed (`informed_columns`) are tied to their informed neighbours'
        (`tie_uninformed`), in the estimates and in the covariance, following `reference`
        (T,) between them: a log profile over minutes of session 0..T-1 (the room's traffic:
        only its shape counts; None: held level). The spline fits it over all T minutes, not
        the rows' only: past the last minute they reach it fell to nothing (a package spending
        only in shorter sessions was forecast at 12 yuan/min there, truth 53).
        So are, after a fit with `inference`, those the data leave too loose
        (`_weak_columns`), and the curve is fitted again (`_TIE_ROUNDS` at most).
        clock, clock_minute: a clock-of-day spline and each row's minute of day (n,): its
        coefficients are fitted without the straight line the day effects can carry
        (`ClockBasis.reduced`), which `start_slope_map` then sets, and the day effects are
        shrunk (`day_penalty`, `DAY_SHRINKAGE`).
        theta_penalty: (q, q) a Gaussian prior's penalty on theta (`fit_multiplicative`).
        """
        X = design(basis, minute, session)
        spline = X[:, : basis.size]
        extra = np.eye(X.shape[1] - basis.size)  # clock and day coefficients, as fitted
        starts, prior = None, None
        if clock is not None:
            starts = clock.counted(np.asarray(clock_minute) - minute)[
                np.unique(session, return_index=True)[1]]
            prior = DAY_SHRINKAGE * float(np.sum(y)) / len(starts)
            reduced = clock.reduced()
            X = np.column_stack([spline, clock.design(clock_minute) @ reduced,
                                 X[:, basis.size:]])
            extra = block_diagonal(reduced, np.eye(X.shape[1] - basis.size - reduced.shape[1]))
        profile = None
        if reference is not None:
            everywhere = basis.design(np.arange(len(reference)))
            profile, *_ = np.linalg.lstsq(everywhere, reference, rcond=None)
        kept = np.arange(basis.size) if informed is None else informed_columns(
            spline, informed, basis.session_means())

        def fit_tied(kept: np.ndarray, theta0: np.ndarray):
            tie = tie_uninformed(kept, basis.size)
            shift = np.zeros(basis.size)
            if profile is not None and len(kept) < basis.size:
                shift = profile - tie @ profile[kept]
            tie = block_diagonal(tie, np.eye(X.shape[1] - basis.size))
            penalty = None if prior is None else day_penalty(starts, prior, tie.shape[1])
            fit = fit_multiplicative(y, X @ tie, _shifted(factor, np.exp(spline @ shift)),
                                     theta0, bounds, session, maxlags, inference, penalty,
                                     theta_penalty)
            return fit, tie, shift

        fit, tie, shift = fit_tied(kept, theta0)
        for _ in range(_TIE_ROUNDS if informed is not None and inference else 0):
            weak, spread = _weak_columns(fit.cov, len(kept), len(fit.theta))
            if not weak.any():
                break
            if weak.all():  # keep the least loose one: the others follow it
                weak[np.argmin(spread)] = False
                if len(kept) == 1:
                    break
            kept = kept[~weak]
            fit, tie, shift = fit_tied(kept, fit.theta)
        tie = block_diagonal(tie[: basis.size, : len(kept)], extra)
        if clock is not None:
            tie = start_slope_map(starts, greville_abscissae(basis.knots), clock,
                                  X.shape[1] - basis.size - clock.size + 1) @ tie
        full = block_diagonal(tie, np.eye(len(fit.theta)))
        coef = tie @ fit.coef
        coef[: basis.size] += shift
        return {
            "basis": basis,
            "clock": clock,
            "coef": coef.tolist(),
            "theta": fit.theta.tolist(),
            "theta_names": list(names),
            "bounds": [tuple(map(float, b)) for b in bounds],
            "cov": (full @ fit.cov @ full.T).tolist(),
            "diagnostics": FitDiagnostics(deviance=fit.deviance, dispersion=fit.dispersion,
                                          n=fit.n, converged=fit.converged),
        }

    @property
    def params(self) -> np.ndarray:
        return np.r_[self.coef, self.theta]

    def param(self, name: str, params: np.ndarray | None = None) -> float:
        """The theta value called `name` (from `params` when given, e.g. a draw)."""
        values = self.params if params is None else params
        return float(values[len(self.coef) + self.theta_names.index(name)])

    def day_effects(self, params: np.ndarray | None = None) -> np.ndarray:
        """Log day effect of every session fitted (`informative_days`; the first is 0)."""
        coef = np.asarray(self.coef if params is None else params[: len(self.coef)])
        return np.r_[0.0, coef[self.basis.size + self.clock_size:]]

    @property
    def clock_size(self) -> int:
        """Number of clock coefficients (0 without a clock)."""
        return 0 if self.clock is None else self.clock.size

    def average_day(self, params: np.ndarray | None = None) -> float:
        """The average day's log effect, ``log mean(exp(day_effects))``: a new session's."""
        return float(np.log(np.mean(np.exp(self.day_effects(params)))))

    def day_offsets(self) -> dict[int, float]:
        """Each history session fitted (`informative_days`) -> its log day effect relative to
        the average day (`average_day`)."""
        offsets = self.day_effects() - self.average_day()
        return dict(zip(self._fitted_days(), offsets.tolist(), strict=True))

    def _fitted_days(self) -> list[int]:
        """The history sessions `day_effects` are of, in order."""
        return list(self.informative_days) if self.informative_days is not None else \
            list(range(len(self.day_effects())))

    def scale(self, minute: np.ndarray, params: np.ndarray | None = None,
              day: float = 0.0, clock_minute: np.ndarray | None = None) -> np.ndarray:
        """``exp(spline + clock + average day + day)`` at minutes of session `minute` (n,),
        shape (n,), the clock at minutes of day `clock_minute` (n,) (None: of sessions that
        start at the clock's `usual_start`).

        day: the new session's log day effect relative to the average day (a draw of
        `optimizer.curves.days.DayDistribution`, for predictive draws); 0 is the average day.
        """
        return self._scale(self.basis.design(minute), self._clock_design(minute, clock_minute),
                           params, day)

    def session_scale(self, minutes: int, params: np.ndarray | None = None,
                      day: float = 0.0, start: float | None = None) -> np.ndarray:
        """`scale` over the minutes 0 to `minutes` - 1 of a new session starting at minute of
        day `start` (None: the clock's `usual_start`), shape (minutes,) (the spline's design
        cached: every draw of a forecast asks for the same)."""
        clock = None if self.clock is None else self.clock.session_design(
            self.clock.usual_start if start is None else start, minutes)
        return self._scale(self.basis.session_design(minutes), clock, params, day)

    def _clock_design(self, minute: np.ndarray, clock_minute: np.ndarray | None
                      ) -> np.ndarray | None:
        if self.clock is None:
            return None
        if clock_minute is None:
            clock_minute = self.clock.usual_start + np.asarray(minute)
        return self.clock.design(clock_minute)

    def _scale(self, design: np.ndarray, clock: np.ndarray | None, params: np.ndarray | None,
               day: float) -> np.ndarray:
        coef = np.asarray(self.coef if params is None else params[: len(self.coef)])
        return np.exp(self._log_time(design, clock, coef) + self.average_day(params) + day)

    def _log_time(self, design: np.ndarray, clock: np.ndarray | None, coef: np.ndarray
                  ) -> np.ndarray:
        """(n,) the time effects' log scale: session spline design (n, size) and clock design
        (n, clock_size) or None, times their coefficients in `coef`."""
        log_scale = design @ coef[: self.basis.size]
        if clock is None:
            return log_scale
        return log_scale + clock @ coef[self.basis.size: self.basis.size + self.clock_size]

    def history_scale(self, minute: np.ndarray, session: np.ndarray,
                      clock_minute: np.ndarray | None = None) -> np.ndarray:
        """The fitted scale on history rows, each with its own session's day effect (the
        average day's in a session not fitted), (n,); `clock_minute` as in `scale`."""
        log_scale = self._log_time(self.basis.design(minute),
                                   self._clock_design(minute, clock_minute), np.asarray(self.coef))
        sessions, row = np.unique(np.asarray(session), return_inverse=True)
        fitted = dict(zip(self._fitted_days(), self.day_effects(), strict=True))
        average = self.average_day()
        effects = np.array([fitted.get(int(s), average) for s in sessions])
        return np.exp(log_scale + effects[row])

    def draws(self, rng: np.random.Generator, n: int, held: tuple[str, ...] = ()
              ) -> np.ndarray:
        """Parameter draws from the asymptotic normal, shape (n, len(coef) + len(theta)).

        Nonlinear parameters are kept within the bounds they were estimated in: at a bound the
        normal approximation says little, and a draw past it can be meaningless (a zero scale).
        held: theta names held at their estimates, the rest drawn given them.
        """
        cov = np.asarray(self.cov)
        if held:
            cov = conditional_cov(cov, np.array([len(self.coef) + self.theta_names.index(name)
                                                 for name in held]))
        draws = rng.multivariate_normal(self.params, cov, size=n,
                                        check_valid="ignore", method="eigh")
        low, high = np.array(self.bounds).T
        draws[:, len(self.coef):] = np.clip(draws[:, len(self.coef):], low, high)
        return draws

    def standard_error(self, name: str) -> float:
        index = len(self.coef) + self.theta_names.index(name)
        return float(np.sqrt(max(self.cov[index][index], 0.0)))

    def on_bound(self, name: str) -> str | None:
        """"lower" or "upper" when the theta value called `name` sits on that bound of its
        range (`estimator.at_bound`: held fixed there, with a standard error of 0, because the
        data would take it further); None inside the range."""
        index = self.theta_names.index(name)
        if not at_bound(np.asarray(self.theta), self.bounds)[index]:
            return None
        low, high = self.bounds[index]
        value = self.theta[index]
        return "lower" if abs(value - low) <= abs(value - high) else "upper"


MAX_SPLINE_SE = 2.0
"""Standard error of a spline coefficient (log scale), given the factor's parameters, past
which the data do not tell the scale in its minutes (a factor of 7 either way at one standard
error). Three sessions that start spending at minute 0 leave the first minutes' adstock small
(it builds from nothing): their coefficient came out at -25.8 with a standard error of 42, and
the package's marginal-ROI band reached 8e12."""


_TIE_ROUNDS = 3
"""Refits at most, each tying the columns its predecessor left too loose (a column tied
leaves its neighbour to carry minutes it told little of)."""


def _weak_columns(cov: np.ndarray, splines: int, thetas: int) -> tuple[np.ndarray, np.ndarray]:
    """(splines,) which of the first `splines` parameters have a standard error over
    `MAX_SPLINE_SE` given the last `thetas` (conditional on them: a half-saturation the data
    do not identify trades off against every coefficient at once, which tying cannot mend),
    and those standard errors (splines,)."""
    held = np.arange(len(cov) - thetas, len(cov))
    spread = np.sqrt(np.maximum(np.diag(conditional_cov(cov, held))[:splines], 0.0))
    return spread > MAX_SPLINE_SE, spread


def conditional_cov(cov: np.ndarray, held: np.ndarray) -> np.ndarray:
    """The covariance of the parameters given those at indices `held` (whose rows and columns
    become zero): ``S_aa - S_ab S_bb^+ S_ba``."""
    cov = np.asarray(cov, dtype=float)
    rest = np.setdiff1d(np.arange(len(cov)), held)
    out = np.zeros_like(cov)
    out[np.ix_(rest, rest)] = cov[np.ix_(rest, rest)] - cov[np.ix_(rest, held)] @ \
        np.linalg.pinv(cov[np.ix_(held, held)], hermitian=True) @ cov[np.ix_(held, rest)]
    return out


def _shifted(factor: Factor, weight: np.ndarray) -> Factor:
    """`factor` times a fixed `weight` (n,) per row."""
    def shifted(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        F, dF = factor(theta)
        return F * weight, dF * weight[:, None]
    return shifted
