"""Family weights (pseudo-BMA+) and draws that carry the family choice's uncertainty."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit
from scipy.stats import beta, binom

from optimizer.curves import FitOptions, ResponseModel
from optimizer.curves.paid import MAX_LOG_K_SE
from optimizer.curves.report import marginal_roi, typical_spend
from optimizer.curves.selection import family_weights
from optimizer.curves.trials import MIN_FAMILY_WEIGHT, PROFILE_POINTS


@pytest.mark.parametrize("gap", [0.0, 0.3, 2.0, -1.0])
def test_an_even_gap_in_every_session_gives_the_logistic_weight(gap):
    # every session's deviance gap the same: each bootstrap replicate sees the total gap, and
    # the weight is the softmax of the log quasi-likelihoods, -deviance / (2 dispersion)
    sessions, dispersion = 20, 50.0
    deviance = {"exponential": np.full(sessions, 1000.0),
                "hill": np.full(sessions, 1000.0 + gap * 2 * dispersion / sessions)}
    weights = family_weights(deviance, dispersion)
    assert weights["exponential"] == pytest.approx(expit(gap), rel=1e-9)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_a_win_from_one_lucky_session_weighs_less_than_a_steady_one():
    # the same 6-nat lead, from every session or from one: in the bootstrap that one session's
    # Dirichlet weight a ~ Beta(1, S - 1) scales the lead, and the weight is E[expit(6 S a)]
    sessions, dispersion, lead = 20, 50.0, 6.0
    total = lead * 2 * dispersion
    steady = {"a": np.zeros(sessions), "b": np.full(sessions, total / sessions)}
    lucky = {"a": np.zeros(sessions), "b": np.r_[total, np.zeros(sessions - 1)]}
    assert family_weights(steady, dispersion)["a"] == pytest.approx(expit(lead))
    share = beta(1, sessions - 1)
    expected = quad(lambda a: expit(lead * sessions * a) * share.pdf(a), 0, 1, points=[0.05])[0]
    # 1000 replicates of a weight whose SD is under 0.5: the mean is within 4 SE = 0.063
    assert family_weights(lucky, dispersion)["a"] == pytest.approx(expected, abs=0.063)
    assert expected < expit(lead) - 0.05


def test_weights_are_exact_for_a_seed_and_one_family_weighs_one():
    rng = np.random.default_rng(5)
    deviance = {"a": rng.gamma(2.0, 50.0, 12), "b": rng.gamma(2.0, 50.0, 12)}
    assert family_weights(deviance, 40.0) == family_weights(deviance, 40.0)
    assert family_weights({"a": deviance["a"]}, 40.0) == {"a": 1.0}


def test_fitted_alternatives_are_the_other_families_on_the_same_rows(small_fit):
    weighed = 0
    for package, curve in small_fit.model.paid_.items():
        curves = [curve, *curve.alternatives]
        assert len({c.family for c in curves}) == len(curves), package
        assert all(c.family_weight >= MIN_FAMILY_WEIGHT for c in curves), package
        assert sum(c.family_weight for c in curves) == pytest.approx(1.0, rel=1e-12)
        assert all(other.identified for other in curve.alternatives), package
        # the chosen family has the least cross-validated deviance, so the most weight
        assert all(curve.family_weight >= a.family_weight for a in curve.alternatives), package
        for other in curve.alternatives:
            assert other.diagnostics.n == curve.diagnostics.n
            assert np.all(np.isfinite(other.cov)) and not other.alternatives
        weighed += bool(curve.alternatives)
    assert weighed > 0  # six sessions: some choice is uncertain


def test_without_folds_no_family_is_weighed(small_fit):
    model = ResponseModel(FitOptions(family_folds=0)).fit(small_fit.panel)
    assert all(c.family_weight == 1.0 and not c.alternatives for c in model.paid_.values())


def test_draws_pick_each_family_by_its_weight(small_fit):
    curve = next(c for c in small_fit.model.paid_.values() if c.alternatives)
    n = 2000
    drawn = curve.sample(np.random.default_rng(1), n)
    weights = np.array([c.family_weight for c in (curve, *curve.alternatives)])
    share = weights[0] / weights.sum()
    chosen = sum(c is curve for c, _ in drawn)
    low, high = binom.ppf([0.0005, 0.9995], n, share)
    assert low <= chosen <= high
    for c, params in drawn[:50]:
        assert len(params) == len(c.coef) + len(c.theta)


def test_a_curve_without_alternatives_draws_as_its_normal(small_fit):
    curve = next(iter(small_fit.model.paid_.values())).model_copy(update={"alternatives": []})
    drawn = curve.sample(np.random.default_rng(2), 30)
    np.testing.assert_array_equal(np.array([p for _, p in drawn]),
                                  curve.draws(np.random.default_rng(2), 30))
    assert all(c is curve for c, _ in drawn)


def test_response_draws_use_the_alternative_families(small_fit):
    model = small_fit.model
    package = next(p for p, c in model.paid_.items() if c.alternatives)
    curve, j = model.paid_[package], model.packages_.index(package)
    families = {type(d.paid[j].saturation).__name__
                for d in model.response_draws(60, 200, seed=3)}
    assert families == {type(c.saturation()).__name__ for c in (curve, *curve.alternatives)}
    assert len(families) >= 2


@pytest.mark.parametrize("se, identified", [(0.0, True), (MAX_LOG_K_SE, True),
                                            (MAX_LOG_K_SE * 1.01, False), (3.56, False)])
def test_a_half_saturation_known_within_a_factor_of_700_is_identified(small_fit, se, identified):
    curve = next(iter(small_fit.model.paid_.values()))
    cov = np.array(curve.cov)
    i = len(curve.coef) + curve.theta_names.index("log_k")
    cov[i, i] = se**2
    assert curve.model_copy(update={"cov": cov.tolist()}).identified is identified


# -- curves whose half-saturation is not identified -------------------------------------------
def test_only_a_curve_whose_half_saturation_is_not_identified_has_a_profile(small_fit):
    curves = small_fit.model.paid_.values()
    assert any(not c.identified for c in curves)  # six sessions leave some k unidentified
    for curve in curves:
        assert bool(curve.profile) is (not curve.identified)


def test_profile_fits_hold_log_k_from_the_estimate_to_half_the_spend_seen(small_fit):
    """Each profile fit holds log k at its grid value (no variance: draws keep it there), and
    the grid runs evenly in log from the estimate to half the spend seen."""
    for curve in (c for c in small_fit.model.paid_.values() if c.profile):
        held = np.array([p.param("log_k") for p in curve.profile])
        assert len(held) == PROFILE_POINTS
        assert held[0] == pytest.approx(curve.param("log_k"))
        far = np.log(0.5 * curve.seen_spend)
        end = far if abs(far - held[0]) >= 2.0 else held[0] - 2.0
        np.testing.assert_allclose(held, np.linspace(held[0], end, PROFILE_POINTS))
        assert sum(p.family_weight for p in curve.profile) == pytest.approx(1.0)
        for fit in curve.profile:
            assert fit.family == curve.family and fit.standard_error("log_k") == 0.0
            draws = fit.draws(np.random.default_rng(4), 20)
            assert np.all(draws[:, len(fit.coef) + 1] == fit.param("log_k"))


def test_a_curve_with_a_profile_draws_from_it_by_weight(small_fit):
    curve = next(c for c in small_fit.model.paid_.values() if c.profile)
    n = 4000
    drawn = curve.sample(np.random.default_rng(5), n)
    assert all(any(c is p for p in (*curve.profile, *curve.alternatives)) for c, _ in drawn)
    for fit in curve.profile:
        share = curve.family_weight * fit.family_weight / (
            curve.family_weight + sum(a.family_weight for a in curve.alternatives))
        low, high = binom.ppf([0.0005, 0.9995], n, share)
        assert low <= sum(c is fit for c, _ in drawn) <= high


def test_the_profile_keeps_the_marginal_roi_band_within_reason(small_fit):
    """Drawn from its own normal, the least identified curve's marginal ROI at typical spend
    spans orders of magnitude (competitor: SE of log k over 100, a band of 1e-71 to 1e66);
    drawn from its profile, the 90% band stays within a factor 3 of the estimate (every
    profile fit is a curve the data were fitted to)."""
    model = small_fit.model
    package, curve = max(((p, c) for p, c in model.paid_.items() if c.profile),
                         key=lambda pc: pc[1].standard_error("log_k"))
    x = typical_spend(small_fit.panel, package)
    minutes, j = model.session_minutes_, model.packages_.index(package)

    def band(sampled) -> np.ndarray:
        rois = [float(marginal_roi(c.term(minutes, np.eye(len(model.packages_))[j], p), x))
                for c, p in sampled]
        return np.quantile(rois, [0.05, 0.95])

    point = float(marginal_roi(curve.term(minutes, np.eye(len(model.packages_))[j]), x))
    own = band((curve, p) for p in curve.draws(np.random.default_rng(6), 400))
    low, high = band(curve.model_copy(update={"alternatives": []}).sample(
        np.random.default_rng(6), 400))
    assert own[1] / max(own[0], 1e-12) > 30
    assert point / 3 <= low <= point <= high <= point * 3


@pytest.mark.parametrize("end", [0, 1])
def test_a_half_saturation_held_on_its_bound_is_not_identified(small_fit, end):
    """On a bound log k is held fixed (no variance) because the data would take it further: a
    straight (upper) or flat (lower) curve over the spend seen, not a known bend."""
    curve = next(c for c in small_fit.model.paid_.values() if c.identified)
    i = curve.theta_names.index("log_k")
    theta = list(curve.theta)
    theta[i] = curve.bounds[i][end]
    assert not curve.model_copy(update={"theta": theta}).identified
