"""Fitted state shared by the paid and organic curves: a log scale and nonlinear parameters.

A fitted curve is ``exp(spline(minute) + day effect) * F(theta)``. Its state is plain numbers
(JSON-ready): the spline and day coefficients, theta, and their joint HAC covariance. A new
session's scale uses the average day: ``log mean(exp(day effects))``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from optimizer.curves.basis import SessionBasis
from optimizer.curves.estimator import MultiplicativeFit


class FitDiagnostics(BaseModel):
    """How a fit went: quasi-deviance, Pearson dispersion, rows used, held-out error."""

    model_config = ConfigDict(extra="forbid")

    deviance: float
    dispersion: float
    n: int
    converged: bool
    holdout_wape: dict[str, float] = {}
    noise_floor_wape: float | None = None


class FittedScale(BaseModel):
    """Coefficients of ``exp(X @ coef) * F(theta)`` with X = [spline basis, day dummies].

    coef: spline coefficients then one day effect per session after the first (log scale).
    theta: the factor's parameters, named by `theta_names`.
    cov: joint HAC covariance of (coef, theta), shape (len(coef) + len(theta),) * 2.
    """

    model_config = ConfigDict(extra="forbid")

    coef: list[float]
    theta: list[float]
    theta_names: list[str]
    cov: list[list[float]]
    diagnostics: FitDiagnostics

    @staticmethod
    def state_from(fit: MultiplicativeFit, names: tuple[str, ...]) -> dict:
        """Field values of a fitted scale from an estimator result."""
        return {
            "coef": fit.coef.tolist(),
            "theta": fit.theta.tolist(),
            "theta_names": list(names),
            "cov": fit.cov.tolist(),
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

    def scale(self, basis: SessionBasis, minute: np.ndarray, params: np.ndarray | None = None,
              day: int | None = None) -> np.ndarray:
        """``exp(spline + day effect)`` at minutes of session `minute` (n,), shape (n,).

        day: the history session whose day effect to use (a day like that one, for predictive
        draws); None is the average day, ``log mean(exp(day effects))``.
        """
        coef = np.asarray(self.coef if params is None else params[: len(self.coef)])
        spline, days = coef[: basis.size], np.r_[0.0, coef[basis.size:]]
        effect = np.log(np.mean(np.exp(days))) if day is None else days[day]
        return np.exp(basis.design(minute) @ spline + effect)

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Parameter draws from the asymptotic normal, shape (n, len(coef) + len(theta))."""
        return rng.multivariate_normal(self.params, np.asarray(self.cov), size=n,
                                       check_valid="ignore", method="eigh")

    def standard_error(self, name: str) -> float:
        index = len(self.coef) + self.theta_names.index(name)
        return float(np.sqrt(max(self.cov[index][index], 0.0)))
