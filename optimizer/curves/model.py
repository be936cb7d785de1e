"""`ResponseModel`: fit every package's paid curve and the room's organic model from history.

scikit-learn discipline: options in the constructor, `fit(panel)` sets the fitted state (names
with a trailing underscore) and returns self; `response(minutes, packages)` builds the
`SessionResponse` of a new session for the planner. Parameter draws from the fits' HAC
covariance give forecast intervals and a pessimistic response for uncertainty-aware floors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from threadpoolctl import threadpool_limits

from optimizer.curves.basis import SessionBasis, day_dummies
from optimizer.curves.organic import OrganicCurve
from optimizer.curves.paid import Family, PackageCurve
from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover, Exponential, Hill, Linear
from optimizer.errors import InputError


class PanelLike(Protocol):
    """What a fit reads from history (`optimizer.data.Panel`): n live minutes, P packages."""

    session: np.ndarray  # (n,) session number, contiguous and in time order
    minute: np.ndarray  # (n,) minute of session, 0-based
    spend: np.ndarray  # (n, P) yuan
    paid_gmv: np.ndarray  # (n, P) yuan
    organic_gmv: np.ndarray  # (n,) yuan
    packages: tuple[str, ...]


class CurveSpec(Protocol):
    """Explicit curve settings for a package history never saw (`optimizer.data.CurveSettings`)."""

    family: str
    max_gmv_per_minute: float
    saturation_spend: float
    shape: float
    carryover_minutes: float
    organic_leverage: float


class FitOptions(BaseModel):
    """How to fit. knot_minutes: spacing of the time-of-session spline (minutes);
    holdout_fraction: share of the latest sessions held out to choose each package's saturation
    family; hac_maxlags: Newey-West lags (minutes); min_active_minutes: fewest minutes with
    spend a package needs to be fitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: tuple[Family, ...] = ("exponential", "hill")
    knot_minutes: float = Field(default=20.0, gt=0)
    holdout_fraction: float = Field(default=0.2, ge=0, lt=1)
    hac_maxlags: int = Field(default=15, ge=0)
    min_active_minutes: int = Field(default=60, ge=1)


Progress = Callable[[str], None]

SCHEMA_VERSION = 1
"""Version of the fitted state's JSON form (`optimizer.curves.artifact`)."""


def fingerprint(panel: PanelLike, options: FitOptions) -> str:
    """sha256 of the history panel's numbers, its packages, the fit options and the schema."""
    digest = hashlib.sha256()
    digest.update(json.dumps([SCHEMA_VERSION, list(panel.packages),
                              options.model_dump(mode="json")]).encode())
    for array in (panel.session, panel.minute, panel.spend, panel.paid_gmv, panel.organic_gmv):
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return digest.hexdigest()


class ResponseModel:
    """Paid-GMV curves per audience package and the room's organic uplift model.

    Fitted state: `packages_` (package ids fitted, in history order), `basis_` (time-of-session
    spline), `paid_` (package -> PackageCurve), `organic_` (OrganicCurve), `unfitted_`
    (package -> why it was not fitted), `n_sessions_`, `session_minutes_` (longest session),
    `fingerprint_` (of the data and options, see `fingerprint`).
    """

    def __init__(self, options: FitOptions | None = None) -> None:
        self.options = options or FitOptions()

    # -- fitting -------------------------------------------------------------------------
    def fit(self, panel: PanelLike, progress: Progress | None = None) -> ResponseModel:
        """Fit from a history panel (see `PanelLike`); `progress` is told each step's name.

        BLAS runs on one thread here: the matrices are small, and threads only contend.
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(panel, progress or (lambda _step: None))

    def _fit(self, panel: PanelLike, tell: Progress) -> ResponseModel:
        session = np.asarray(panel.session)
        self.fingerprint_ = fingerprint(panel, self.options)
        self.n_sessions_ = int(session.max()) + 1
        self.session_minutes_ = int(np.asarray(panel.minute).max()) + 1
        self.basis_ = SessionBasis.for_horizon(self.session_minutes_, self.options.knot_minutes)
        X = np.column_stack([self.basis_.design(panel.minute),
                             day_dummies(session, self.n_sessions_)])
        train = self._train_mask(session)
        self.paid_, self.unfitted_ = {}, {}
        for j, package in enumerate(panel.packages):
            tell(f"paid curve: {package}")
            spend = panel.spend[:, j]
            active = int(np.count_nonzero(spend > 0))
            if active < self.options.min_active_minutes:
                self.unfitted_[package] = (f"only {active} minutes with spend in history "
                                           f"(at least {self.options.min_active_minutes} needed)")
                continue
            self.paid_[package] = self._fit_package(package, panel.paid_gmv[:, j], X, spend,
                                                    session, np.asarray(panel.minute), train)
        self.packages_ = tuple(p for p in panel.packages if p in self.paid_)
        tell("organic uplift")
        self.organic_ = OrganicCurve.fit(list(panel.packages), panel.organic_gmv, X,
                                         panel.spend, session, self.options.hac_maxlags)
        return self

    def _train_mask(self, session: np.ndarray) -> np.ndarray | None:
        """Rows of the sessions used to choose families; None when too few sessions to hold out."""
        held = int(round(self.n_sessions_ * self.options.holdout_fraction))
        if held < 1 or self.n_sessions_ - held < 3 or len(self.options.families) < 2:
            return None
        return session < self.n_sessions_ - held

    def _fit_package(self, package: str, y: np.ndarray, X: np.ndarray, spend: np.ndarray,
                     session: np.ndarray, minute: np.ndarray, train: np.ndarray | None
                     ) -> PackageCurve:
        """Choose the family by held-out WAPE, then refit it on every session."""
        lags = self.options.hac_maxlags
        families = self.options.families
        holdout: dict[str, float] = {}
        warm: dict[str, np.ndarray] = {}
        floor = None
        if train is not None:
            n_train = int(session[train].max()) + 1
            X_train = X[train][:, : self.basis_.size + n_train - 1]
            for family in families:
                curve = PackageCurve.fit(package, family, y[train], X_train, spend[train],
                                         session[train], lags)
                predicted = curve.predict_rows(self.basis_, spend[~train], session[~train],
                                               minute[~train])
                holdout[family] = wape(y[~train], predicted)
                warm[family] = np.asarray(curve.theta)
                floor = noise_floor_wape(predicted, curve.diagnostics.dispersion)
        family = min(holdout, key=holdout.get) if holdout else families[0]
        curve = PackageCurve.fit(package, family, y, X, spend, session, lags, warm.get(family))
        curve.diagnostics.holdout_wape = holdout
        curve.diagnostics.noise_floor_wape = floor
        return curve

    # -- prediction ----------------------------------------------------------------------
    def response(self, minutes: int, packages: Sequence[str] | None = None,
                 curves: Mapping[str, CurveSpec] | None = None,
                 draw: Mapping[str, np.ndarray] | None = None,
                 switched_off: Collection[str] = (), day: int | None = None) -> SessionResponse:
        """Expected response of a new session of `minutes` minutes, at the average day.

        packages: column order of the response (default: the fitted packages). A package that
        was not fitted needs explicit settings in `curves`, or to be in `switched_off` (it gets
        no response: it will get no spend); settings in `curves` also override a fit.
        draw: optional parameter vectors ("organic" and package ids) replacing the estimates.
        day: a history session whose day effects to use instead of the average day.
        """
        packages = tuple(packages or self.packages_)
        draw = draw or {}
        curves = curves or {}
        eye = np.eye(len(packages))
        baseline = self.organic_.baseline(self.basis_, minutes, draw.get("organic"), day)
        paid = []
        for j, package in enumerate(packages):
            if package in curves:
                paid.append(_explicit_term(curves[package], baseline, eye[j]))
            elif package in self.paid_:
                paid.append(self.paid_[package].term(self.basis_, minutes, eye[j],
                                                     draw.get(package), day))
            elif package in switched_off:
                paid.append(ResponseTerm(scale=np.zeros(minutes), saturation=Linear(),
                                         carryover=Carryover(), weights=eye[j]))
            else:
                reason = self.unfitted_.get(package, "it is not in the history")
                raise InputError(f"package '{package}' has no fitted curve: {reason}",
                                 where=f"packages.{package}",
                                 fix="give it explicit `curve:` settings in the config, or "
                                     "set its max_spend_per_minute to 0")
        fitted_leverage = self.organic_.leverage(draw.get("organic"))
        leverage = np.array([curves[p].organic_leverage if p in curves
                             else fitted_leverage.get(p, 0.0) for p in packages])
        uplift = self.organic_.term(self.basis_, minutes, leverage, draw.get("organic"), day)
        return SessionResponse(packages=packages, baseline=baseline, paid=tuple(paid),
                               uplift=(uplift,))

    def response_draws(self, minutes: int, n: int, packages: Sequence[str] | None = None,
                       curves: Mapping[str, CurveSpec] | None = None, seed: int = 0,
                       switched_off: Collection[str] = (), days: bool = True
                       ) -> list[SessionResponse]:
        """`n` responses with parameters drawn from the fits' asymptotic normal distribution.

        days: also draw which history day the session is like (its fitted day effects, the
        same day for every curve), so the draws span day-to-day variation as well: predictive
        draws. False gives the average day: parameter uncertainty alone.
        """
        rng = np.random.default_rng(seed)
        fitted = {"organic": self.organic_, **self.paid_}
        samples = {name: fit.draws(rng, n) for name, fit in fitted.items()}
        chosen = rng.integers(self.n_sessions_, size=n) if days else [None] * n
        return [self.response(minutes, packages, curves,
                              {name: s[i] for name, s in samples.items()}, switched_off,
                              None if chosen[i] is None else int(chosen[i]))
                for i in range(n)]

    def pessimistic_response(self, minutes: int, confidence: float,
                             packages: Sequence[str] | None = None,
                             curves: Mapping[str, CurveSpec] | None = None,
                             reference: np.ndarray | None = None, n_draws: int = 200,
                             seed: int = 0, switched_off: Collection[str] = ()
                             ) -> SessionResponse:
        """A response whose every term (and the baseline) is at its lower `confidence` bound.

        Each term's session total at a `reference` spend schedule (T, P) (default: the
        fitted packages' saturation scales, an even schedule) is drawn `n_draws` times; the
        term is scaled so its total equals the draws' (1 - confidence) quantile. Taking each
        term's bound separately is conservative: floors held under this response hold at
        least at `confidence` as far as the fits' uncertainty goes.
        """
        point = self.response(minutes, packages, curves, switched_off=switched_off)
        if reference is None:
            reference = np.tile([term.saturation.k if hasattr(term.saturation, "k") else 0.0
                                 for term in point.paid], (minutes, 1))
        draws = self.response_draws(minutes, n_draws, packages, curves, seed, switched_off)

        def bound(pick: Callable[[SessionResponse], float]) -> float:
            value = pick(point)
            low = float(np.quantile([pick(d) for d in draws], 1.0 - confidence))
            return low / value if abs(value) > 1e-12 else 1.0

        def lowered(terms: tuple[ResponseTerm, ...], name: str) -> tuple[ResponseTerm, ...]:
            return tuple(
                ResponseTerm(scale=t.scale * bound(lambda r, i=i: getattr(r, name)[i]
                                                   .value(reference).sum()),
                             saturation=t.saturation, carryover=t.carryover, weights=t.weights)
                for i, t in enumerate(terms))

        baseline = point.baseline * bound(lambda r: r.baseline.sum())
        return SessionResponse(packages=point.packages, baseline=baseline,
                               paid=lowered(point.paid, "paid"),
                               uplift=lowered(point.uplift, "uplift"))


def _explicit_term(spec: CurveSpec, baseline: np.ndarray, weights: np.ndarray) -> ResponseTerm:
    """A paid term from explicit settings, following the room's baseline traffic profile."""
    saturation = (Hill(k=spec.saturation_spend, shape=spec.shape) if spec.family == "hill"
                  else Exponential(k=spec.saturation_spend))
    profile = baseline / baseline.mean() if baseline.mean() > 0 else np.ones_like(baseline)
    return ResponseTerm(scale=spec.max_gmv_per_minute * profile, saturation=saturation,
                        carryover=Carryover(half_lives=(spec.carryover_minutes,)),
                        weights=weights)


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error ``sum|y - yhat| / sum y`` (a fraction)."""
    total = float(np.sum(actual))
    return float(np.sum(np.abs(actual - predicted)) / total) if total > 0 else float("nan")


def noise_floor_wape(mean: np.ndarray, dispersion: float, seed: int = 0) -> float:
    """WAPE a perfect model would still show on quasi-Poisson noise with this dispersion.

    Draws ``dispersion * Poisson(mean / dispersion)`` (same mean and variance as the fitted
    noise) and scores the true mean against them.
    """
    rng = np.random.default_rng(seed)
    phi = max(dispersion, 1e-9)
    return wape(phi * rng.poisson(np.maximum(mean, 0.0) / phi), mean)
