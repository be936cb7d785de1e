"""Quasi-Poisson estimation of a log-linear scale times a nonlinear factor.

The model for a non-negative GMV series ``y`` (n,) is::

    E[y] = mu = exp(X @ coef) * F(theta)

X (n, k) holds the time-of-session and day effects; F is a nonlinear factor (a saturation of
carried-over spend for paid GMV, one plus the uplift for organic GMV) with a few parameters
theta (q,). Fitting minimises the Poisson quasi-deviance, the right loss for GMV that is a sum of
order values (its variance grows with its mean): theta by L-BFGS-B with ``coef`` profiled out by
Newton steps (the envelope theorem gives theta's gradient from the partial derivative alone).
Inference runs once at the optimum through statsmodels: the scores and Hessian of a Poisson GLM
on the linearised design ``[X, dlogF/dtheta]``, evaluated at the estimates, in a panel
Newey-West (HAC) sandwich, since minute data are autocorrelated within a session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optimizer.curves.transforms import session_starts

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

Factor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""theta (q,) -> (F (n,), dF/dtheta (n, q)); F > 0 wherever y may be positive."""

_TINY = 1e-12


@dataclass(frozen=True)
class MultiplicativeFit:
    """Estimates of ``E[y] = exp(X @ coef) * F(theta)``.

    cov: (k + q, k + q) HAC covariance of ``(coef, theta)``; rows and columns of a theta on
        its bound are zero (see `at_bound`).
    deviance: Poisson quasi-deviance at the optimum (units of y).
    dispersion: Pearson chi-square / residual degrees of freedom (1 for pure Poisson counts).
    """

    coef: np.ndarray
    theta: np.ndarray
    cov: np.ndarray
    deviance: float
    dispersion: float
    n: int
    converged: bool

    @property
    def params(self) -> np.ndarray:
        return np.r_[self.coef, self.theta]


def unit_deviance(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Each row's Poisson quasi-deviance ``2 (y log(y / mu) - (y - mu))``, ``0 log 0 = 0``."""
    mu = np.maximum(mu, _TINY)
    ratio = np.where(y > 0, y / mu, 1.0)
    return 2.0 * (y * np.log(ratio) - (y - mu))


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """The summed `unit_deviance`."""
    return float(np.sum(unit_deviance(y, mu)))


def _profile_coef(y: np.ndarray, X: Design, offset: np.ndarray, coef: np.ndarray,
                  penalty: np.ndarray | None = None) -> np.ndarray:
    """Poisson log-link coefficients for a fixed offset, by damped Newton from `coef`, the
    loss plus ``coef @ penalty @ coef / 2`` (penalty: (k, k) or None)."""
    penalty = np.zeros((X.shape[1],) * 2) if penalty is None else penalty

    def loss(b: np.ndarray) -> float:
        eta = np.minimum(X @ b + offset, 700.0)
        return float(np.sum(np.exp(eta) - y * eta) + b @ penalty @ b / 2)

    current = loss(coef)
    for _ in range(50):
        mu = np.exp(np.minimum(X @ coef + offset, 700.0))
        hessian = X.gram(mu) + penalty + 1e-9 * np.eye(X.shape[1])
        step = np.linalg.solve(hessian, X.transpose_times(y - mu) - penalty @ coef)
        for _ in range(30):
            trial = loss(coef + step)
            if trial <= current + 1e-12 * abs(current):
                break
            step = step / 2
        coef, previous, current = coef + step, current, trial
        if np.max(np.abs(step)) < 1e-9 or previous - current < 1e-12 * abs(previous):
            break
    return coef


SPARSE_SHARE = 0.25
"""A design with at most this share of non-zero entries is fitted as a sparse matrix. Day
effects are one dummy per session and a B-spline row has four non-zero values, so the share
falls as history grows (11% at 21 sessions, 4% at 60 with the demo's knots); the Newton steps'
weighted Gram matrix, most of a fit's time, then costs the non-zeros, not the whole design."""


class Design:
    """A fit's design X (n, k) with the products the Newton steps take: ``X @ b``, ``X' r`` and
    the weighted Gram matrix ``X' diag(w) X``.

    Held as a scipy.sparse CSR matrix when it is sparse enough (`SPARSE_SHARE`). Then each
    row's pairs of non-zero entries are listed once, and a Gram matrix is one `np.bincount` of
    their weighted products. scipy's sparse product built and checked a new sparse matrix at
    every Newton step, 46% of a fit's time in the profiler: a fit of the default scenario's 21
    sessions took 10.1-11.2 s with it, 7.2-7.3 s with the bincount.
    """

    def __init__(self, X: np.ndarray) -> None:
        from scipy.sparse import csr_matrix

        X = np.asarray(X, dtype=float)
        self.sparse = np.count_nonzero(X) <= SPARSE_SHARE * X.size
        self.matrix = csr_matrix(X) if self.sparse else X
        if self.sparse:
            self._pairs = _row_pairs(self.matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __matmul__(self, b: np.ndarray) -> np.ndarray:
        return self.matrix @ b

    def transpose_times(self, r: np.ndarray) -> np.ndarray:
        """``X' r`` (k,) for r (n,)."""
        return self.matrix.T @ r

    def gram(self, weight: np.ndarray) -> np.ndarray:
        """``X' diag(weight) X``, dense (k, k), for weight (n,)."""
        if not self.sparse:
            return (self.matrix * weight[:, None]).T @ self.matrix
        row, cell, product = self._pairs
        k = self.matrix.shape[1]
        upper = np.bincount(cell, weights=weight[row] * product, minlength=k * k).reshape(k, k)
        return upper + upper.T - np.diag(np.diag(upper))


def _row_pairs(X: csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (a, b), a <= b, of non-zero entries in one row of X (n, k), CSR with sorted
    column indices and no duplicates: (the row (m,), the Gram cell ``col_a * k + col_b`` (m,),
    ``x_a * x_b`` (m,)); m = sum over rows of nnz (nnz + 1) / 2."""
    counts = np.diff(X.indptr)
    row = np.repeat(np.arange(X.shape[0]), counts)
    place = np.arange(X.nnz) - X.indptr[row]  # position of each entry in its row
    gaps = range(max(int(counts.max(initial=0)), 1))
    first = [np.flatnonzero(place + gap < counts[row]) for gap in gaps]
    second = np.concatenate([entries + gap for gap, entries in zip(gaps, first, strict=True)])
    first = np.concatenate(first)
    cell = X.indices[first].astype(np.int64) * X.shape[1] + X.indices[second]
    return row[first], cell, X.data[first] * X.data[second]


def fit_multiplicative(
    y: np.ndarray,
    X: np.ndarray,
    factor: Factor,
    theta0: np.ndarray,
    bounds: list[tuple[float, float]],
    groups: np.ndarray,
    maxlags: int = 15,
    inference: bool = True,
    penalty: np.ndarray | None = None,
    theta_penalty: np.ndarray | None = None,
) -> MultiplicativeFit:
    """Fit ``E[y] = exp(X @ coef) * F(theta)`` by Poisson quasi-likelihood.

    y: (n,) non-negative GMV per minute (yuan); X: (n, k); groups: (n,) session id of each row
    (rows of a session contiguous, in time order) for the HAC covariance; maxlags in minutes.
    inference: False skips the covariance (all zero), two thirds of a warm-started fit's time,
    for fits that only score a candidate on held-out sessions.
    penalty: (k, k) positive semi-definite, adds ``coef @ penalty @ coef / 2`` (yuan) to the
    loss (a Gaussian prior on coef, centred at 0 in the directions it penalises).
    theta_penalty: (q, q) positive semi-definite, likewise ``theta @ theta_penalty @ theta / 2``
    (yuan), a Gaussian prior on theta. With either, the covariance is the posterior's
    (`_with_prior`), not the unpenalised sandwich's.
    """
    from scipy.optimize import minimize  # here: planning from a saved fit never needs it

    y = np.asarray(y, dtype=float)
    scale = max(float(y.sum()), _TINY)
    dense = X  # for the covariance: statsmodels takes a dense design
    X = Design(X)
    state = {"coef": _start_coef(y, X, factor(np.asarray(theta0, dtype=float))[0])}

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        F, dF = factor(theta)
        positive = F > _TINY
        offset = np.log(np.where(positive, F, _TINY))
        coef, loss = _profile_loss(y, X, offset, state["coef"], penalty)
        if not np.isfinite(loss):  # a far theta left the warm start useless: start afresh
            coef, loss = _profile_loss(y, X, offset, _start_coef(y, X, F), penalty)
        if np.isfinite(loss):
            state["coef"] = coef
        mu = np.exp(np.minimum(X @ coef + offset, 700.0))
        weight = np.where(positive, (mu - y) / np.where(positive, F, 1.0), 0.0)
        gradient = weight @ dF
        if theta_penalty is not None:
            loss += float(theta @ theta_penalty @ theta) / 2
            gradient = gradient + theta_penalty @ theta
        return float(loss) / scale, gradient / scale

    result = minimize(objective, np.asarray(theta0, dtype=float), jac=True, method="L-BFGS-B",
                      bounds=bounds, options={"maxiter": 500})
    theta = result.x
    F, dF = factor(theta)
    offset = np.log(np.maximum(F, _TINY))
    coef = _profile_coef(y, X, offset, state["coef"], penalty)
    mu = np.exp(X @ coef + offset)
    free = ~at_bound(theta, bounds)
    kept = np.r_[np.ones(X.shape[1], dtype=bool), free]
    dispersion = float(np.sum((y - mu) ** 2 / np.maximum(mu, _TINY))
                       / max(len(y) - len(kept), 1))
    cov = np.zeros((len(kept), len(kept)))
    if inference:
        dlogF = dF / np.maximum(F, _TINY)[:, None]
        sandwich = _hac_covariance(y, dense, dlogF[:, free], mu, coef, theta[free], groups,
                                   maxlags)
        prior = block_diagonal(np.zeros((X.shape[1],) * 2) if penalty is None else penalty,
                                np.zeros((len(theta),) * 2) if theta_penalty is None
                                else theta_penalty)
        cov[np.ix_(kept, kept)] = _with_prior(sandwich, prior[np.ix_(kept, kept)] / dispersion)
    return MultiplicativeFit(coef=coef, theta=theta, cov=cov, deviance=poisson_deviance(y, mu),
                             dispersion=dispersion, n=len(y), converged=bool(result.success))


def _with_prior(sandwich: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """The covariance of a posterior from a quasi-likelihood whose sandwich covariance is
    `sandwich` and a Gaussian prior of `precision` (both (m, m), in the parameters' units):
    ``(sandwich^+ + precision)^+``, the data's information taken as the sandwich's (so that the
    HAC adjustment for autocorrelation carries over; without it, a Poisson likelihood scaled by
    the dispersion). Before, the prior moved the estimate and not its covariance, and the
    draws pulled apart the leverages it held together: on random truth 3 the 90% interval of
    a plan's organic GMV ran 57,698-92,684 yuan (59,246-95,170 since; realised sessions
    72,529-92,639 at their 5% and 95% quantiles), and over the forecast-coverage truths the
    organic intervals were 1-6 points of the forecast wider and held as often or less."""
    if not precision.any():
        return sandwich
    information = np.linalg.pinv(sandwich, hermitian=True) + precision
    return np.linalg.pinv(information, hermitian=True)


def at_bound(theta: np.ndarray, bounds: list[tuple[float, float]],
             tolerance: float = 1e-6) -> np.ndarray:
    """(q,) which parameters the optimiser left on a bound (within `tolerance` of the range).

    The normal approximation says nothing there, and with the parameter free the information
    matrix can be singular (a Hill half-saturation far past the data trades off against the
    scale), so inference treats such a parameter as fixed: zero variance, the others' HAC
    covariance conditional on it.
    """
    low, high = np.asarray(bounds, dtype=float).T
    margin = tolerance * np.maximum(high - low, 1.0)
    return (theta <= low + margin) | (theta >= high - margin)


def _profile_loss(y: np.ndarray, X: Design, offset: np.ndarray, coef: np.ndarray,
                  penalty: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """`_profile_coef` from `coef`, and the Poisson loss ``sum(mu - y log mu)`` (plus the
    penalty) it reaches."""
    coef = _profile_coef(y, X, offset, coef, penalty)
    mu = np.exp(np.minimum(X @ coef + offset, 700.0))
    extra = 0.0 if penalty is None else float(coef @ penalty @ coef / 2)
    return coef, float(np.sum(mu - y * np.log(np.maximum(mu, _TINY)))) + extra


def block_diagonal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[[a, 0], [0, b]]`` (scipy.linalg.block_diag, without importing scipy.linalg)."""
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0]:, a.shape[1]:] = b
    return out


def _start_coef(y: np.ndarray, X: Design, F: np.ndarray) -> np.ndarray:
    """A start for Newton: the least-squares fit of log((y + mean) / F) on X (n, k), by the
    normal equations (the least-norm solution where X is rank-deficient)."""
    target = np.log((y + y.mean() + _TINY) / np.maximum(F, 1e-6))
    coef, *_ = np.linalg.lstsq(X.gram(np.ones(len(y))), X.transpose_times(target), rcond=None)
    return coef


def _hac_covariance(
    y: np.ndarray,
    X: np.ndarray,
    dlogF: np.ndarray,
    mu: np.ndarray,
    coef: np.ndarray,
    theta: np.ndarray,
    groups: np.ndarray,
    maxlags: int,
) -> np.ndarray:
    """Panel Newey-West covariance of (coef, theta) from statsmodels at the optimum.

    The GLM on the linearised design ``[X, dlogF/dtheta]`` with an offset that reproduces log mu
    at the estimates has zero score there, so its sandwich covariance is that of the full
    nonlinear quasi-likelihood estimator. Scores and Hessian are taken at the estimates
    themselves: a GLM fit would first take an IRLS step, which on a nearly singular design (a
    half-saturation far past the data) overflows and leaves the covariance NaN.
    """
    # imported here: statsmodels takes ~1.5 s to import, and planning from a saved fit never
    # needs it
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.stats.sandwich_covariance import cov_nw_panel

    design = np.column_stack([X, dlogF])
    params = np.r_[coef, theta]
    offset = np.log(np.maximum(mu, _TINY)) - design @ params
    # hasconst: the spline's rows sum to one; statsmodels would look for that constant with two
    # rank computations of the design (3.1 s of a 37 s fit of 60 sessions x 480 minutes)
    model = GLM(y, design, family=Poisson(), offset=offset, hasconst=True)
    cuts = session_starts(groups)[1:].tolist()
    sessions = list(zip([0, *cuts], [*cuts, len(groups)], strict=True))
    scores = model.score_obs(params, scale=1.0)
    bread = np.linalg.pinv(model.hessian(params, scale=1.0), hermitian=True)
    return np.asarray(cov_nw_panel((scores, bread), maxlags, sessions, use_correction="hac"))
