"""Paid GMV of one audience package: ``exp(spline(minute) + day) * S(adstock(spend))``.

S is an exponential, Hill or logarithmic saturation of the package's geometrically
carried-over spend (a Hill shape over 1 is S-shaped, planned on its concave envelope); the
spline and day effects absorb the time-of-session traffic profile, so that operators spending
more at peak (confounding) does not inflate the fitted spend effect.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from optimizer.curves.basis import SessionBasis
from optimizer.curves.clock import ClockBasis, clock_for
from optimizer.curves.factors import PaidFactor, family_saturation
from optimizer.curves.fitted import FittedScale
from optimizer.curves.response import ResponseTerm
from optimizer.curves.transforms import (
    Carryover,
    Exponential,
    Hill,
    Logarithmic,
    concave_envelope,
)

Family = Literal["exponential", "hill", "log"]

_MAX_HALF_LIFE = 60.0  # minutes


SEEN_QUANTILE = 0.95
"""The quantile of a package's active per-minute spend that stands for the spend history saw."""

LOW_QUANTILE = 0.05
"""The quantile of a package's active per-minute spend below which history saw little: the
curve there is extrapolation toward zero spend. On 11 independent truths with a paid-ROI floor
at 1.1 times the unconstrained plan's, held at confidence 0.8 and 0.9, the 25% quantile made
one more S-shaped truth's floor unreachable and halved another's misses at 0.9 (96% to 34%),
but cost concave truths up to 10% of GMV where they already missed at about the stated rate."""

MAX_LOG_K_SE = 2.0
"""Past this standard error of log k the data do not identify the half-saturation (its 90% Wald
range spans a factor of more than 700): the fit's normal draws wander along a curved ridge and
give absurd bands, so such a fit is not kept as another family's alternative, and a chosen one
draws from its `profile` instead."""


class PackageCurve(FittedScale):
    """A fitted paid-GMV curve; theta = (log half-life [minutes], log k [yuan/min][, shape]).

    stages: the carryover's equal geometric stages, each of the half-life: 1 is the geometric
    adstock (the peak at the minute of spend), 2 a delayed peak (`Carryover`).
    low_spend: the `LOW_QUANTILE` quantile of the same (yuan/min), where the data start: below
    it the curve is extrapolation too (None when no row had spend).
    seen_spend: the `SEEN_QUANTILE` quantile of the package's positive per-minute spend in the
    rows fitted (yuan/min), how far the data reach: past it the curve is extrapolation (None
    when no row had spend).
    family_weight: how much this family is believed against the others kept
    (`optimizer.curves.selection.family_weights`, as a share of the families kept; 1.0 when no
    other was weighed or kept).
    alternatives: fits of the other families on the same rows, each with its `family_weight`
    (those of negligible weight, or whose half-saturation the data do not identify, left out).
    Point predictions use this curve alone; draws (`sample`) use all of them, so intervals carry
    the uncertainty of the family choice.
    profile: for a curve whose half-saturation the data do not identify (`identified`), fits of
    the same family with log k held at values from the estimate to half the spend seen, each
    with its `family_weight` as a share of this family's (cross-validated, like the families);
    its draws come from these instead of its own normal, whose log k wanders over orders of
    magnitude.
    """

    package: str
    family: Family
    stages: Literal[1, 2] = 1
    seen_spend: float | None = None
    low_spend: float | None = None
    family_weight: float = 1.0
    alternatives: list[PackageCurve] = []
    profile: list[PackageCurve] = []

    @property
    def identified(self) -> bool:
        """Whether the data identify the half-saturation: its log has a standard error of at
        most `MAX_LOG_K_SE` and it is not on a bound of its search range (where it is held
        fixed, with no variance, because the data would take it further: a straight or a flat
        curve over the spend seen).

        For the "log" family k is the carried-over spend at which the return per yuan has
        halved from zero spend's: past a large k the curve is straight over the spend seen
        and k trades off against the scale (a large SE or the upper bound), at the lower bound
        it is ``log(a) - log(k)`` with the scale's level unidentified; the same rule flags
        both."""
        return self.standard_error("log_k") <= MAX_LOG_K_SE and self.on_bound("log_k") is None

    def draws(self, rng: np.random.Generator, n: int, held: tuple[str, ...] = ()
              ) -> np.ndarray:
        """`FittedScale.draws`; a curve whose half-saturation the data do not identify, and
        that has no `profile` to draw from (too few sessions to cross-validate one), is drawn
        with log k held at its estimate: free, it trades off against the scale along a ridge
        (standard errors of 120 on both), and three sessions' marginal-ROI band reached 1e96."""
        if not self.profile and not self.identified:
            held = (*held, "log_k")
        return super().draws(rng, n, held)

    def family_weights(self) -> dict[str, float]:
        """The weight of this curve's family and of each of its `alternatives`' (summing to
        one when the weights are shares of the families kept)."""
        return {self.family: self.family_weight} | {
            curve.family: curve.family_weight for curve in self.alternatives}

    def sample(self, rng: np.random.Generator, n: int) -> list[tuple[PackageCurve, np.ndarray]]:
        """`n` draws of (curve, parameters): the family drawn in proportion to the weights of
        this curve and its `alternatives`, the parameters from that fit's asymptotic normal
        (for this family, from one of its `profile` fits in proportion to their weights)."""
        if not self.alternatives and not self.profile:
            return [(self, params) for params in self.draws(rng, n)]
        own = [(p, self.family_weight * p.family_weight) for p in self.profile] or \
            [(self, self.family_weight)]
        curves = [c for c, _ in own] + self.alternatives
        weights = np.array([w for _, w in own] + [c.family_weight for c in self.alternatives])
        picked = rng.choice(len(curves), size=n, p=weights / weights.sum())
        params = [c.draws(rng, n) for c in curves]
        return [(curves[k], params[k][i]) for i, k in enumerate(picked)]

    @classmethod
    def fit(cls, package: str, family: Family, y: np.ndarray, spend: np.ndarray,
            minute: np.ndarray, session: np.ndarray, basis: SessionBasis, maxlags: int,
            theta0: np.ndarray | None = None, inference: bool = True,
            log_k: float | None = None, room: np.ndarray | None = None,
            max_shape: float = 1.0, clock: ClockBasis | None = None,
            clock_minute: np.ndarray | None = None, stages: Literal[1, 2] = 1) -> PackageCurve:
        """Fit on rows of live minutes: y paid GMV (n,) yuan, spend (n,) yuan/min; without
        `inference` the covariance is left zero (a fit that only scores a candidate); with
        `log_k` the half-saturation is held there (zero variance, the rest conditional);
        `max_shape` bounds a Hill shape (over 1: S-shaped allowed, up to `MAX_HILL_SHAPE`).

        room: (T,) log of the room's traffic profile in each minute of session
        (`room_profile`), over all of history, not only the sessions the package spent in: in
        minutes of session the package never spent in, its scale follows the room's from the
        nearest minutes it did (held level when None).
        clock, clock_minute: a clock-of-day spline and each row's minute of day (n,), used when
        the sessions the package spent in start far enough apart (`clock_for`).
        stages: the carryover's equal stages (see the class).
        """
        spent_in = np.unique(np.asarray(session)[spend > 0])
        if 0 < len(spent_in) < len(np.unique(session)):  # fit the sessions it spent in only
            keep = np.isin(session, spent_in)
            y, spend, minute = y[keep], spend[keep], minute[keep]
            clock_minute = None if clock_minute is None else np.asarray(clock_minute)[keep]
            session = np.searchsorted(spent_in, np.asarray(session)[keep])
            informative = spent_in.astype(int).tolist()
        else:
            informative = None
        clock = clock_for(clock, clock_minute, session, minute)
        factor = PaidFactor(spend, session, family, stages)
        active = spend[spend > 0]
        typical = float(np.median(active)) if len(active) else 1.0
        if theta0 is None:
            theta0 = np.array([np.log(2.0), np.log(typical * 2.0), 0.8][: len(factor.names)])
        theta0 = np.r_[theta0[:2], np.minimum(theta0[2:], max_shape)]
        bounds = [(np.log(0.1), np.log(_MAX_HALF_LIFE)),
                  (np.log(typical * 1e-2), np.log(typical * 1e3)), (0.2, max_shape)]
        if log_k is not None:
            theta0 = np.r_[theta0[0], log_k, theta0[2:]]
            bounds[1] = (log_k, log_k)
        seen, low = (float(np.quantile(active, q)) if len(active) else None
                     for q in (SEEN_QUANTILE, LOW_QUANTILE))
        return cls(package=package, family=family, stages=stages, seen_spend=seen,
                   low_spend=low, informative_days=informative, **cls.estimate(
            y, minute, session, basis, factor, factor.names, theta0,
            bounds[: len(factor.names)], maxlags, inference, informed=spend > 0,
            reference=room, clock=clock, clock_minute=clock_minute))

    def half_life(self, params: np.ndarray | None = None) -> float:
        """Carryover half-life of each stage in minutes."""
        return float(np.exp(self.param("log_half_life", params)))

    def carryover(self, params: np.ndarray | None = None) -> Carryover:
        """The fitted carryover: `stages` stages of `half_life` minutes each."""
        return Carryover(half_lives=(self.half_life(params),) * self.stages)

    def saturation(self, params: np.ndarray | None = None) -> Exponential | Hill | Logarithmic:
        shape = float(self.param("shape", params)) if self.family == "hill" else None
        return family_saturation(self.family, float(np.exp(self.param("log_k", params))), shape)

    def term(self, minutes: int, weights: np.ndarray, params: np.ndarray | None = None,
             day: float = 0.0, start: float | None = None) -> ResponseTerm:
        """This package's paid-GMV term for a new session of `minutes` minutes starting at
        minute of day `start` (`session_scale`'s day and start), on the saturation's concave
        envelope (`concave_envelope`), which the planner needs."""
        return ResponseTerm(scale=self.session_scale(minutes, params, day, start),
                            saturation=concave_envelope(self.saturation(params)),
                            carryover=self.carryover(params),
                            weights=weights)

    def predict_new(self, spend: np.ndarray, minute: np.ndarray, session: np.ndarray,
                    clock_minute: np.ndarray | None = None) -> np.ndarray:
        """Expected paid GMV (n,) yuan on rows of new sessions at the average day.

        spend: (n,) yuan/min of this package; session: ids of the new sessions (any numbers);
        clock_minute: (n,) minute of day of each row (None: see `scale`).
        """
        return self.scale(minute, clock_minute=clock_minute) * self._saturated(spend, session)

    def predict_history(self, spend: np.ndarray, minute: np.ndarray, session: np.ndarray,
                        clock_minute: np.ndarray | None = None) -> np.ndarray:
        """Expected paid GMV (n,) yuan on history rows, each at its own session's day effect
        (`history_scale`); arguments as in `predict_new`."""
        return self.history_scale(minute, session, clock_minute) * \
            self._saturated(spend, session)

    def _saturated(self, spend: np.ndarray, session: np.ndarray) -> np.ndarray:
        """(n,) the saturation of the carried-over spend (n,) yuan/min, restarting each session."""
        adstock = self.carryover().apply_sessions(spend, session)
        return self.saturation()(adstock)
