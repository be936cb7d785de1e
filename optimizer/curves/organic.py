"""The room's organic GMV: ``baseline(minute, day) * (1 + G(z) / level)``.

``z = sum_p leverage_p * adstock_p`` with a slow carryover shared by packages, and
``G(z) = c (1 - exp(-z / c))`` concave: uplift saturates at c yuan/min, and a package whose
leverage comes out negative cannibalises organic GMV. What is carried over, the *drive*, is
each package's spend (``driver="spend"``: leverage is organic yuan per paid yuan) or its
expected paid GMV (``driver="paid"``: organic yuan per yuan of paid GMV, so the uplift
saturates with the package's own paid curve). Under paid GMV only the packages of positive
leverage saturate: ``G(z+) + z-``, cannibalisation linear (`UpliftFactor`'s split), as the
planner needs every paid GMV yuan to be worth more than the organic GMV it takes, and a
saturating G is steepest where cannibalisation pushes z below 0. Leverage keeps its sign and
interval, at the room's average organic level `level` (yuan/min). Packages that never spent in
history have no leverage to estimate: they are left out (leverage 0).
"""

from __future__ import annotations

import numpy as np

from optimizer.curves.basis import SessionBasis
from optimizer.curves.clock import ClockBasis, clock_for
from optimizer.curves.factors import UpliftFactor, split_leverage
from optimizer.curves.fitted import FitDiagnostics, FittedScale
from optimizer.curves.paid import MAX_LOG_K_SE
from optimizer.curves.response import Driver, ResponseTerm
from optimizer.curves.transforms import Carryover, Exponential, Linear

_MAX_HALF_LIFE = 240.0  # minutes

PAID_LEVERAGE_MIN = -0.5
"""Least leverage per yuan of paid GMV fitted (at the average organic level)."""

CANNIBAL_SHARE = 0.9
"""Most organic GMV a paid-driven response lets a yuan of paid GMV take in any minute: the
planner ties paid GMV to the curves only while each yuan of it is worth more than it takes
(`optimizer.planner.program`), so a leverage past this at the session's busiest minute is held
there (an organic level far above the average at its peak)."""

_NONE = -800.0
"""Log scale of a room with no organic GMV: ``exp(-800)`` is 0.0 in double precision."""


def leverage_penalty(packages: int, sd: float, dispersion: float) -> np.ndarray:
    """(P + 2, P + 2) penalty on theta (log half-life, P leverages, log c) of the prior
    ``leverage_p = m + e_p``, ``e_p ~ N(0, sd^2)``, m flat (profiled out: the deviations
    from the leverages' mean).

    The quasi-likelihood is ``-loss / dispersion`` (loss in yuan, dispersion the Pearson
    dispersion of an unpenalised fit, yuan), so the prior's ``sum (l - mean)^2 / (2 sd^2)``
    enters the loss times the dispersion.
    """
    centred = np.eye(packages) - np.full((packages, packages), 1.0 / packages)
    out = np.zeros((packages + 2, packages + 2))
    out[1:-1, 1:-1] = dispersion / sd ** 2 * centred
    return out


class OrganicCurve(FittedScale):
    """A fitted organic model; theta = (log half-life, leverage per package..., log c).

    driver: what the uplift's carryover takes per package (module docstring).
    """

    packages: list[str]
    level: float
    driver: Driver = "spend"

    @classmethod
    def fit(cls, packages: list[str], y: np.ndarray, drive: np.ndarray, minute: np.ndarray,
            session: np.ndarray, basis: SessionBasis, maxlags: int, inference: bool = True,
            clock: ClockBasis | None = None, clock_minute: np.ndarray | None = None,
            driver: Driver = "spend", leverage_sd: float | None = None) -> OrganicCurve:
        """Fit on all live minutes: y organic GMV (n,) yuan, drive (n, P) yuan/min (each
        package's spend, or its expected paid GMV with ``driver="paid"``); without
        `inference` the covariance is left zero (a fit that only scores a candidate); with a
        `clock` spline, `clock_minute` (n,) is each row's minute of day (`clock_for`).

        leverage_sd: the prior standard deviation (organic yuan per yuan of drive) of each
        package's leverage about the packages' common mean, a random-effects prior that
        shrinks the split of the uplift between packages whose drives move together, not its
        total (`leverage_penalty`); None: no prior."""
        if not np.any(np.asarray(y) > 0):
            return cls.none(basis, int(np.max(session)) + 1 if len(session) else 1, len(y))
        spent = np.flatnonzero(np.asarray(drive).any(axis=0))
        packages, drive = [packages[j] for j in spent], np.asarray(drive)[:, spent]
        level = max(float(np.mean(y)), 1e-6)
        factor = UpliftFactor(drive, session, level, split=driver == "paid")
        n = len(packages)
        theta0 = np.r_[np.log(10.0), np.zeros(n), np.log(level)]
        least = PAID_LEVERAGE_MIN if driver == "paid" else -20.0
        bounds = [(np.log(1.0), np.log(_MAX_HALF_LIFE)), *[(least, 20.0)] * n,
                  (np.log(level * 0.02), np.log(level * 100.0))]
        names = ("log_half_life", *(f"leverage:{p}" for p in packages), "log_c")
        clock = clock_for(clock, clock_minute, session, minute)
        prior = leverage_sd is not None and n >= 2  # one leverage has no split to shrink
        fitted = cls.estimate(y, minute, session, basis, factor, names, theta0, bounds, maxlags,
                              inference and not prior, clock=clock, clock_minute=clock_minute)
        if prior:
            penalty = leverage_penalty(n, leverage_sd, fitted["diagnostics"].dispersion)
            fitted = cls.estimate(y, minute, session, basis, factor, names, theta0, bounds,
                                  maxlags, inference, clock=clock, clock_minute=clock_minute,
                                  theta_penalty=penalty)
        return cls(packages=packages, level=level, driver=driver, **fitted)

    @classmethod
    def none(cls, basis: SessionBasis, n_sessions: int, n: int) -> OrganicCurve:
        """The organic model of a room with no organic GMV in `n` rows of history: baseline 0
        in every minute (so no uplift either), with no uncertainty. The Poisson fit of all
        zeros sends the log scale to minus infinity and failed."""
        coef = [_NONE] * basis.size + [0.0] * (n_sessions - 1)
        theta = [np.log(10.0), 0.0]
        return cls(packages=[], level=1e-6, basis=basis, coef=coef, theta=theta,
                   theta_names=["log_half_life", "log_c"],
                   bounds=[(np.log(1.0), np.log(_MAX_HALF_LIFE)), (-20.0, 20.0)],
                   cov=np.zeros((len(coef) + 2,) * 2).tolist(),
                   diagnostics=FitDiagnostics(deviance=0.0, dispersion=1.0, n=n,
                                              converged=True))

    @property
    def identified(self) -> bool:
        """Whether the data identify the ceiling c: its log has a standard error of at most
        `MAX_LOG_K_SE` and it is not on a bound of its range (`ceiling_bound`), the rule of
        paid curves' half-saturation."""
        return self.standard_error("log_c") <= MAX_LOG_K_SE and self.ceiling_bound is None

    @property
    def ceiling_bound(self) -> str | None:
        """"lower" or "upper" when the ceiling c sits on that bound of its range (level x 0.02
        to level x 100), where inference holds it fixed with a standard error of 0: the data
        would take it further. At the upper bound the uplift is straight over the spend seen;
        at the lower it bends as fast as the range allows, and past history's spend its
        curvature is the bound's, not the data's (with a net drive below 0, a cannibalising
        package's loss steepens without end). None inside the range (`on_bound`)."""
        return self.on_bound("log_c")

    def draws(self, rng: np.random.Generator, n: int, held: tuple[str, ...] = ()
              ) -> np.ndarray:
        """`FittedScale.draws`, with log c held at its estimate when the data do not identify
        it (`identified`). Its normal draws went where the data do not: on the demo (SE of log
        c 3.3) a quarter of them put the ceiling under 65 yuan/min, the uplift history shows
        at its usual spend, and the forecast's 90% interval ran from 61,846 to 120,863 yuan
        around 112,908 (the 84th percentile of the draws; the truth 102,984). Held: 90,562 to
        128,124. Beyond history's spend, the uplift then rests on the estimated ceiling."""
        if not self.identified:
            held = (*held, "log_c")
        return super().draws(rng, n, held)

    def half_life(self, params: np.ndarray | None = None) -> float:
        return float(np.exp(self.param("log_half_life", params)))

    def carryover(self, params: np.ndarray | None = None) -> Carryover:
        """The fitted carryover of the uplift's drive: one geometric stage of `half_life`."""
        return Carryover(half_lives=(self.half_life(params),))

    def leverage(self, params: np.ndarray | None = None) -> dict[str, float]:
        """Organic yuan per yuan of drive (paid yuan, or paid GMV yuan with ``driver="paid"``)
        at low drive and average traffic, per package."""
        return {p: self.param(f"leverage:{p}", params) for p in self.packages}

    def ceiling(self, params: np.ndarray | None = None) -> float:
        """c: yuan/min of uplift at saturation (at the average organic level)."""
        return float(np.exp(self.param("log_c", params)))

    def baseline(self, minutes: int, params: np.ndarray | None = None,
                 day: float = 0.0, start: float | None = None) -> np.ndarray:
        """Expected organic GMV with no paid spend, shape (minutes,), yuan/min
        (`session_scale`'s day and start)."""
        return self.session_scale(minutes, params, day, start)

    def terms(self, minutes: int, leverage: np.ndarray, params: np.ndarray | None = None,
              day: float = 0.0, start: float | None = None, driver: Driver | None = None
              ) -> tuple[ResponseTerm, ...]:
        """The uplift terms for a new session; `leverage` (P,) in the response's package order,
        per yuan of `driver` (default: the fit's). Driven by spend: one saturating term. By
        paid GMV: the saturating term of the positive leverages and the linear term of the
        negative ones (held to `CANNIBAL_SHARE`), both always, so every draw has the same."""
        driver = driver or self.driver
        c = self.ceiling(params)
        baseline = self.baseline(minutes, params, day, start)
        carryover = self.carryover(params)
        gain, loss = split_leverage(leverage, driver == "paid")
        saturating = ResponseTerm(scale=baseline * c / self.level, saturation=Exponential(k=c),
                                  carryover=carryover, weights=gain, driver=driver)
        if driver == "spend":
            return (saturating,)
        scale = baseline / self.level
        least = -CANNIBAL_SHARE / max(float(np.max(scale, initial=0.0)), 1e-12)
        return saturating, ResponseTerm(scale=scale, saturation=Linear(), carryover=carryover,
                                        weights=np.maximum(loss, least), driver=driver)

    def predict_new(self, drive: np.ndarray, packages: list[str], minute: np.ndarray,
                    session: np.ndarray, clock_minute: np.ndarray | None = None) -> np.ndarray:
        """Expected organic GMV (n,) yuan on rows of new sessions at the average day.

        drive: (n, P) yuan/min of `packages`, as fitted (`driver`); session: ids of the new
        sessions (any numbers); clock_minute: (n,) minute of day of each row (None: see
        `scale`).
        """
        lever = self.leverage()
        leverage = np.array([lever.get(p, 0.0) for p in packages])
        factor = UpliftFactor(drive, session, self.level, split=self.driver == "paid")
        F, _ = factor(np.r_[np.log(self.half_life()), leverage, np.log(self.ceiling())])
        return self.scale(minute, clock_minute=clock_minute) * F
