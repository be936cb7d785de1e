"""Analytic gradients of the fitted factors, and the estimator on data from its own model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer.curves import estimator
from optimizer.curves.basis import SessionBasis, day_dummies
from optimizer.curves.estimator import Design, fit_multiplicative, poisson_deviance
from optimizer.curves.factors import (
    ORGANIC_FLOOR,
    PaidFactor,
    UpliftFactor,
    carryover_with_slope,
)
from optimizer.curves.organic import leverage_penalty
from optimizer.curves.paid import MAX_LOG_K_SE, PackageCurve
from optimizer.curves.transforms import Carryover

MINUTES = 240


def _spend(rng: np.random.Generator, sessions: int, level: float, packages: int = 1
           ) -> np.ndarray:
    """Operator-like spend: levels held 3-15 minutes, switched off now and then; (n, packages)."""
    columns = []
    for _ in range(packages):
        pieces = []
        while sum(len(p) for p in pieces) < sessions * MINUTES:
            length = int(rng.integers(3, 16))
            on = rng.random() > 0.15
            pieces.append(np.full(length, level * rng.lognormal(0.0, 0.6) if on else 0.0))
        columns.append(np.concatenate(pieces)[: sessions * MINUTES])
    return np.column_stack(columns)


def _design(sessions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, SessionBasis]:
    session = np.repeat(np.arange(sessions), MINUTES)
    minute = np.tile(np.arange(MINUTES), sessions)
    basis = SessionBasis.for_horizon(MINUTES, 20.0)
    X = np.column_stack([basis.design(minute), day_dummies(session, sessions)])
    return X, session, minute, basis


def _jacobian_by_differences(factor, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    columns = []
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        columns.append((factor(up)[0] - factor(down)[0]) / (2 * step))
    return np.column_stack(columns)


# -- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("stages", [1, 2, 3])
def test_carryover_slope_matches_differences(stages):
    rng = np.random.default_rng(0)
    x = _spend(rng, 3, 50.0)[:, 0]
    session = np.repeat(np.arange(3), MINUTES)
    log_h = np.log(3.0)
    value, slope = carryover_with_slope(x, session, 3.0, stages)
    step = 1e-6

    def adstock(log_half_life: float) -> np.ndarray:
        return Carryover(half_lives=(np.exp(log_half_life),) * stages).apply_sessions(x, session)

    np.testing.assert_allclose(value, adstock(log_h), rtol=1e-12)
    numeric = (adstock(log_h + step) - adstock(log_h - step)) / (2 * step)
    np.testing.assert_allclose(slope, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("family", "theta", "stages"), [
    ("exponential", [np.log(2.5), np.log(90.0)], 1),
    ("exponential", [np.log(1.5), np.log(90.0)], 2),
    ("hill", [np.log(3.0), np.log(150.0), 0.7], 1),
    ("hill", [np.log(1.2), np.log(40.0), 0.98], 1),
    ("hill", [np.log(2.0), np.log(60.0), 2.5], 2),
    ("log", [np.log(2.5), np.log(90.0)], 1),
    ("log", [np.log(0.8), np.log(8.0)], 2),
])
def test_paid_factor_gradient_matches_differences(family, theta, stages):
    rng = np.random.default_rng(1)
    spend = _spend(rng, 3, 60.0)[:, 0]
    session = np.repeat(np.arange(3), MINUTES)
    factor = PaidFactor(spend, session, family, stages)
    theta = np.array(theta)
    F, dF = factor(theta)
    assert dF.shape == (len(spend), len(factor.names))
    np.testing.assert_allclose(F, factor.saturation(theta)(
        Carryover(half_lives=(np.exp(theta[0]),) * stages).apply_sessions(spend, session)),
        rtol=1e-12)
    np.testing.assert_allclose(dF, _jacobian_by_differences(factor, theta), rtol=1e-5,
                               atol=1e-8)


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("leverage", [[0.6, 0.4, -0.5], [1.5, -0.2, 0.3]])
def test_uplift_factor_gradient_matches_differences(leverage, split):
    rng = np.random.default_rng(2)
    spend = _spend(rng, 3, 50.0, packages=3)
    session = np.repeat(np.arange(3), MINUTES)
    factor = UpliftFactor(spend, session, level=400.0, split=split)
    theta = np.r_[np.log(12.0), leverage, np.log(250.0)]
    F, dF = factor(theta)
    assert dF.shape == (len(spend), len(theta))
    assert np.all(F > 0)
    np.testing.assert_allclose(dF, _jacobian_by_differences(factor, theta), rtol=1e-5,
                               atol=1e-9)


def test_a_split_uplift_factor_saturates_only_its_positive_leverages():
    """``F = 1 + (G(z+) + z-) / level``: closed form with one package of each sign."""
    rng = np.random.default_rng(3)
    spend = _spend(rng, 2, 50.0, packages=2)
    session = np.repeat(np.arange(2), MINUTES)
    half_life, c, level = 12.0, 250.0, 400.0
    F, _ = UpliftFactor(spend, session, level, split=True)(
        np.r_[np.log(half_life), 0.8, -0.3, np.log(c)])
    u = Carryover(half_lives=(half_life,)).apply_sessions(spend, session)
    expected = 1.0 + (c * (1.0 - np.exp(-0.8 * u[:, 0] / c)) - 0.3 * u[:, 1]) / level
    np.testing.assert_allclose(F, np.maximum(expected, ORGANIC_FLOOR), rtol=1e-12)


def test_poisson_deviance_closed_form():
    y = np.array([0.0, 3.0, 10.0])
    mu = np.array([1.0, 2.0, 12.0])
    expected = 2 * (1.0 + (3 * np.log(1.5) - 1.0) + (10 * np.log(10 / 12) + 2.0))
    assert poisson_deviance(y, mu) == pytest.approx(expected, rel=1e-12)
    assert poisson_deviance(mu, mu) == pytest.approx(0.0, abs=1e-12)


# -- recovery on the estimator's own model --------------------------------------------------
def _quasi_poisson(rng: np.random.Generator, mu: np.ndarray, dispersion: float) -> np.ndarray:
    """Draws with mean mu and variance dispersion * mu (GMV-like: a multiple of `dispersion`)."""
    return dispersion * rng.poisson(mu / dispersion)


def _true_coef(rng: np.random.Generator, basis: SessionBasis, sessions: int,
               level: float) -> np.ndarray:
    knots = np.linspace(0, 1, basis.size)
    spline = np.log(level) + np.log(0.45 + 0.55 * np.sin(np.pi * np.clip(knots * 1.2, 0, 1)))
    return np.r_[spline, rng.normal(0.0, 0.08, sessions - 1)]


def _check_within(fit, truth: np.ndarray, names: list[str], n_se: float = 4.0) -> None:
    se = np.sqrt(np.diag(fit.cov))
    z = (fit.params - truth) / se
    worst = int(np.argmax(np.abs(z)))
    assert np.all(np.abs(z) < n_se), (
        f"{names[worst]}: estimate {fit.params[worst]:.4f}, truth {truth[worst]:.4f}, "
        f"SE {se[worst]:.4f} ({z[worst]:+.1f} SE)")


@pytest.mark.slow
@pytest.mark.parametrize(("family", "theta"), [
    ("exponential", [np.log(2.5), np.log(80.0)]),
    ("hill", [np.log(3.0), np.log(120.0), 0.7]),
    ("log", [np.log(2.5), np.log(40.0)]),
])
def test_paid_fit_recovers_its_own_model(family, theta):
    rng = np.random.default_rng(10)
    sessions = 40
    X, session, _, basis = _design(sessions)
    spend = _spend(rng, sessions, 50.0)[:, 0]
    coef = _true_coef(rng, basis, sessions, 600.0)
    factor = PaidFactor(spend, session, family)
    theta = np.array(theta)
    dispersion = 40.0
    y = _quasi_poisson(rng, np.exp(X @ coef) * factor(theta)[0], dispersion)
    start = np.array([np.log(2.0), np.log(100.0), 0.9][: len(theta)])
    bounds = [(np.log(0.1), np.log(60.0)), (np.log(0.5), np.log(5e4)), (0.2, 1.0)]
    fit = fit_multiplicative(y, X, factor, start, bounds[: len(theta)], session)
    assert fit.converged
    names = [f"coef[{i}]" for i in range(len(coef))] + list(factor.names)
    _check_within(fit, np.r_[coef, theta], names)
    # Pearson dispersion of draws with variance = dispersion * mean
    assert fit.dispersion == pytest.approx(dispersion, rel=0.1)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80), k=st.integers(1, 12),
       share=st.sampled_from([0.0, 0.05, 0.2, 0.25]))
def test_a_sparse_designs_weighted_gram_is_the_dense_product(seed, n, k, share):
    """Rows with no, one or many non-zeros, columns never used, an all-zero design, and designs
    past `SPARSE_SHARE` (held dense): ``X' diag(w) X``, ``X' r`` and ``X b`` are the dense
    products."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)) * (rng.random((n, k)) < share * 2)
    X[rng.random(n) < 0.2] = 0.0
    design = Design(X)
    weight, r, b = rng.exponential(size=n), rng.normal(size=n), rng.normal(size=k)
    np.testing.assert_allclose(design.gram(weight), (X * weight[:, None]).T @ X, atol=1e-12)
    np.testing.assert_allclose(design.transpose_times(r), X.T @ r, atol=1e-12)
    np.testing.assert_allclose(design @ b, X @ b, atol=1e-12)


def test_a_sparse_design_fits_as_the_dense_one(monkeypatch):
    """Day dummies leave most of a long history's design zero: fitted as a sparse matrix
    (`SPARSE_SHARE`), the estimates and their covariance are the dense fit's."""
    rng = np.random.default_rng(12)
    sessions = 30
    X, session, _, basis = _design(sessions)
    assert np.count_nonzero(X) <= estimator.SPARSE_SHARE * X.size
    spend = _spend(rng, sessions, 50.0)[:, 0]
    factor = PaidFactor(spend, session, "exponential")
    mu = np.exp(X @ _true_coef(rng, basis, sessions, 600.0)) * factor(
        np.array([np.log(2.5), np.log(80.0)]))[0]
    y = _quasi_poisson(rng, mu, 40.0)
    args = (y, X, factor, np.array([np.log(2.0), np.log(100.0)]),
            [(np.log(0.1), np.log(60.0)), (np.log(0.5), np.log(5e4))], session)
    sparse = fit_multiplicative(*args)
    monkeypatch.setattr(estimator, "SPARSE_SHARE", 0.0)
    dense = fit_multiplicative(*args)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sparse.cov, dense.cov, rtol=1e-5, atol=1e-12)


@pytest.mark.slow
def test_organic_fit_recovers_its_own_model():
    rng = np.random.default_rng(11)
    sessions = 40
    X, session, _, basis = _design(sessions)
    spend = _spend(rng, sessions, 60.0, packages=3)
    coef = _true_coef(rng, basis, sessions, 400.0)
    level = 420.0
    factor = UpliftFactor(spend, session, level)
    theta = np.r_[np.log(15.0), 1.0, 0.6, -0.5, np.log(300.0)]
    y = _quasi_poisson(rng, np.exp(X @ coef) * factor(theta)[0], 30.0)
    start = np.r_[np.log(10.0), np.zeros(3), np.log(level)]
    bounds = [(0.0, np.log(240.0)), *[(-20.0, 20.0)] * 3, (np.log(level * 0.02),
                                                            np.log(level * 100))]
    fit = fit_multiplicative(y, X, factor, start, bounds, session)
    assert fit.converged
    names = [f"coef[{i}]" for i in range(len(coef))] + [
        "log_half_life", "leverage:0", "leverage:1", "leverage:2", "log_c"]
    _check_within(fit, np.r_[coef, theta], names)


def test_zero_spend_rows_and_no_signal_fit_a_flat_curve():
    """With no spend effect in the data the fitted curve is flat within its standard error."""
    rng = np.random.default_rng(12)
    sessions = 20
    X, session, _, basis = _design(sessions)
    spend = _spend(rng, sessions, 50.0)[:, 0]
    coef = _true_coef(rng, basis, sessions, 300.0)
    y = _quasi_poisson(rng, np.exp(X @ coef), 20.0)  # organic-like: no paid factor at all
    factor = UpliftFactor(spend[:, None], session, float(np.mean(y)))
    start = np.r_[np.log(10.0), 0.0, np.log(np.mean(y))]
    bounds = [(0.0, np.log(240.0)), (-20.0, 20.0), (np.log(np.mean(y) * 0.02),
                                                   np.log(np.mean(y) * 100))]
    fit = fit_multiplicative(y, X, factor, start, bounds, session)
    leverage, se = fit.theta[1], np.sqrt(fit.cov[X.shape[1] + 1, X.shape[1] + 1])
    assert abs(leverage) < 4 * se


def test_uplift_factor_is_floored_with_a_flat_gradient_where_cannibalisation_exceeds_baseline():
    spend = np.full((MINUTES, 1), 50.0)
    factor = UpliftFactor(spend, np.zeros(MINUTES, dtype=int), level=400.0)
    F, dF = factor(np.array([np.log(10.0), -20.0, np.log(4000.0)]))
    floored = F <= ORGANIC_FLOOR
    assert floored.any() and np.all(F > 0)
    assert np.all(dF[floored] == 0.0)


@pytest.mark.parametrize("sessions", [7, 9])
def test_short_demo_histories_fit_with_finite_forecasts(sessions):
    """The demo's first 7 and 9 sessions once drove the organic factor below zero and the fit
    to overflow; they must fit, and forecast finite GMV."""
    from optimizer import pipeline
    from optimizer.curves import ResponseModel

    campaign = pipeline.load_campaign(Path(__file__).parents[2] / "configs" / "demo.yaml")
    panel = campaign.panel()
    model = ResponseModel().fit(panel.sessions(range(sessions)))
    response = model.response(240, panel.packages)
    spend = panel.spend[panel.session == sessions]
    assert np.isfinite(response.organic_gmv(spend)).all()
    assert np.isfinite(response.paid_gmv(spend)).all()


def test_a_parameter_left_on_its_bound_is_held_fixed_in_the_covariance():
    """A Hill half-saturation bounded below the truth ends on its bound: its variance is zero,
    and the other parameters' covariance is that of the same model with it fixed there."""
    rng = np.random.default_rng(13)
    sessions = 20
    X, session, _, basis = _design(sessions)
    spend = _spend(rng, sessions, 50.0)[:, 0]
    coef = _true_coef(rng, basis, sessions, 600.0)
    factor = PaidFactor(spend, session, "hill")
    y = _quasi_poisson(rng, np.exp(X @ coef) * factor(np.array([np.log(3.0), np.log(400.0),
                                                                 0.7]))[0], 40.0)
    bounds = [(np.log(0.1), np.log(60.0)), (np.log(0.5), np.log(80.0)), (0.2, 1.0)]
    fit = fit_multiplicative(y, X, factor, np.array([np.log(2.0), np.log(40.0), 0.8]),
                             bounds, session)
    k = X.shape[1] + 1
    assert fit.theta[1] == pytest.approx(np.log(80.0))
    assert not fit.cov[k].any() and not fit.cov[:, k].any()

    def fixed(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        F, dF = factor(np.array([theta[0], np.log(80.0), theta[1]]))
        return F, dF[:, [0, 2]]

    held = fit_multiplicative(y, X, fixed, fit.theta[[0, 2]], [bounds[0], bounds[2]], session)
    np.testing.assert_allclose(held.theta, fit.theta[[0, 2]], rtol=1e-4)
    keep = np.r_[np.arange(k), k + 1]
    np.testing.assert_allclose(fit.cov[np.ix_(keep, keep)], held.cov, rtol=1e-2, atol=1e-10)


def test_a_half_saturation_far_past_the_data_gets_a_large_finite_standard_error():
    """One package's paid history from a simulated room (random truth, seed 1; exponential,
    two-stage carryover) where the fitted exponential's k lies far past the spend seen: there
    the curve is a straight line, and log k only trades off against the scale. The quasi-deviance
    is flat in log k, so its standard error must be large (not identified), and finite. The
    covariance once came from a GLM that took an IRLS step first, which on this nearly singular
    design gave a standard error of 0 (from log k = 9) or NaN (from log k = 10)."""
    data = np.load(Path(__file__).parent / "data" / "far_half_saturation.npz")
    y, spend = data["paid_gmv"], data["spend"]
    minute, session = data["minute"].astype(int), data["session"].astype(int)
    basis = SessionBasis.for_horizon(MINUTES, 30.0)
    curves = {start: PackageCurve.fit("interest", "exponential", y, spend, minute, session,
                                      basis, 15, theta0=np.array([2.0, start]))
              for start in (9.0, 10.0)}
    deviances = [c.diagnostics.deviance / c.diagnostics.dispersion for c in curves.values()]
    assert abs(deviances[0] - deviances[1]) < 0.1  # flat: a tenth of a unit of scaled deviance
    for curve in curves.values():
        assert np.isfinite(np.asarray(curve.cov)).all()
        assert curve.standard_error("log_k") > 10 * MAX_LOG_K_SE
        assert not curve.identified


def test_conditional_covariance_is_the_closed_form():
    from optimizer.curves.fitted import conditional_cov

    cov = np.array([[4.0, 1.5, 0.5], [1.5, 1.0, 0.2], [0.5, 0.2, 2.0]])
    given = conditional_cov(cov, np.array([2]))
    np.testing.assert_allclose(given[:2, :2], cov[:2, :2] - np.outer(cov[:2, 2], cov[2, :2]) / 2)
    assert not given[2].any() and not given[:, 2].any()


def test_a_loose_spline_column_is_told_from_a_ridge_with_the_factor():
    """Column 0 loose on its own (standard error 3 whatever theta is); column 1 loose only
    along a ridge with theta (standard error 3, 0.3 given theta), which tying cannot mend."""
    from optimizer.curves.fitted import _weak_columns

    ridge = np.array([[9.0, 0.0, 0.0], [0.0, 9.0, 8.955], [0.0, 8.955, 9.0]])
    np.testing.assert_array_equal(_weak_columns(ridge, 2, 1)[0], [True, False])


def test_the_leverage_prior_penalises_leverages_apart_not_their_common_level():
    penalty = leverage_penalty(3, 0.5, 20.0)
    assert penalty @ np.r_[1.0, 2.0, 2.0, 2.0, 1.0] == pytest.approx(np.zeros(5))
    spread = np.r_[0.0, 1.0, -1.0, 0.0, 0.0]
    assert spread @ penalty @ spread == pytest.approx(20.0 / 0.5 ** 2 * 2)


def _packages_spending_together(inference: bool):
    """Two packages whose spend moves together, fitted without and with a strong leverage
    prior (SD 0.001): (free fit, tied fit)."""
    rng = np.random.default_rng(12)
    sessions = 12
    X, session, _, _ = _design(sessions)
    base = _spend(rng, sessions, 60.0)[:, 0]
    spend = np.column_stack([base, base * rng.lognormal(0.0, 0.05, len(base))])
    coef = np.r_[np.full(X.shape[1] - sessions + 1, np.log(400.0)), np.zeros(sessions - 1)]
    level = 420.0
    factor = UpliftFactor(spend, session, level)
    theta = np.r_[np.log(15.0), 1.2, 0.0, np.log(300.0)]
    y = _quasi_poisson(rng, np.exp(X @ coef) * factor(theta)[0], 30.0)
    start = np.r_[np.log(10.0), np.zeros(2), np.log(level)]
    bounds = [(0.0, np.log(240.0)), *[(-20.0, 20.0)] * 2, (np.log(level * 0.02),
                                                            np.log(level * 100))]
    free = fit_multiplicative(y, X, factor, start, bounds, session, inference=inference)
    tied = fit_multiplicative(y, X, factor, start, bounds, session, inference=inference,
                              theta_penalty=leverage_penalty(2, 1e-3, free.dispersion))
    return free, tied


def test_a_strong_leverage_prior_ties_packages_that_spend_together_at_their_joint_uplift():
    """The data tell the two packages' summed leverage, the prior their split (here all but
    equal): the sum stays the unpenalised fit's."""
    free, tied = _packages_spending_together(inference=False)
    assert abs(tied.theta[1] - tied.theta[2]) < 0.01
    assert tied.theta[1:3].sum() == pytest.approx(free.theta[1:3].sum(), abs=0.05)
    assert tied.deviance >= free.deviance


def test_the_leverage_prior_narrows_the_split_s_covariance_not_the_sum_s():
    """The covariance is the posterior's: the split's variance at most the prior's (2 SD^2 for
    a difference of two), where the unpenalised sandwich leaves it wide; the sum's no wider
    than the unpenalised fit's (the prior adds information) and not much narrower (the data
    already tell it)."""
    free, tied = _packages_spending_together(inference=True)
    k = len(free.coef)
    split, total = np.zeros(len(free.params)), np.zeros(len(free.params))
    split[[k + 1, k + 2]] = [1.0, -1.0]
    total[[k + 1, k + 2]] = 1.0
    assert split @ free.cov @ split > 0.01
    assert split @ tied.cov @ split <= 1.01 * 2 * 1e-3 ** 2  # the dispersion refitted
    assert 0.5 * (total @ free.cov @ total) < total @ tied.cov @ total
    assert total @ tied.cov @ total <= 1.05 * (total @ free.cov @ total)
