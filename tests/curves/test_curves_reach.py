"""How far past the spend history saw a curve still pays: `reach_bounds` and
`paying_multiples`."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from optimizer.curves.reach import (
    REACH_CONFIDENCE,
    REACH_MULTIPLES,
    UNIDENTIFIED_REACH,
    family_quantile,
    paying_multiples,
    reach_bounds,
    steepest_admitted,
)
from optimizer.curves.report import marginal_roi
from optimizer.curves.trials import MIN_FAMILY_WEIGHT


@pytest.fixture(scope="module")
def certain(small_fit):
    """The small fit with every paid curve's uncertainty removed: draws are the estimate."""
    model = copy.deepcopy(small_fit.model)
    for curve in model.paid_.values():
        curve.cov = np.zeros_like(np.asarray(curve.cov)).tolist()
        curve.alternatives, curve.profile = [], []
    return model


def _multiples(model, packages, reach, minutes, threshold, confidence=REACH_CONFIDENCE,
               pressed=None) -> np.ndarray:
    """The multiples of `reach` a threshold raises `packages` to, as `pipeline.trusted_reach`
    takes them: `paying_multiples` of the `reach_bounds` drawn for that threshold."""
    bounds = reach_bounds(model, packages, reach, minutes, threshold, confidence, pressed=pressed)
    return paying_multiples(bounds, threshold)


def _exponential(model):
    return next(p for p, c in model.paid_.items() if c.family == "exponential")


def test_the_multiple_is_the_last_where_the_closed_form_marginal_roi_pays(certain):
    """Without uncertainty the bound is the estimate: mean scale x exp(-x/k)/k for an
    exponential curve, with the organic GMV the package's leverage takes when negative: per
    paid yuan, or per paid GMV yuan when paid GMV drives the uplift."""
    package = _exponential(certain)
    curve, minutes, reach = certain.paid_[package], 240, 40.0
    k = curve.saturation().k
    scale = np.mean(curve.scale(np.arange(minutes)))
    lever = min(certain.organic_.leverage()[package], 0.0)
    paid = {m: scale * np.exp(-m * reach / k) / k for m in REACH_MULTIPLES}
    roi = {m: paid[m] * (1.0 + lever) if certain.organic_.driver == "paid" else paid[m] + lever
           for m in REACH_MULTIPLES}
    for m in (1.5, 2.0, 4.0):
        found = _multiples(certain, [package], np.array([reach]), minutes,
                           threshold=roi[m] - 1e-9)
        assert found[0] == m


def test_no_threshold_trusts_the_largest_multiple_and_an_unreachable_one_none(certain):
    packages = list(certain.packages_)
    reach = np.full(len(packages), 20.0)
    assert (_multiples(certain, packages, reach, 240, -np.inf) == REACH_MULTIPLES[-1]).all()
    assert (_multiples(certain, packages, reach, 240, np.inf) == 1.0).all()


def test_a_multiple_pays_only_with_every_smaller_one_and_nan_never_pays():
    """The multiple is the end of the leading run of bounds at or above the threshold: a bound
    that pays again past one that does not is not reached, and NaN (may not be raised) stops
    the run whatever the threshold."""
    levels = len(REACH_MULTIPLES)
    bounds = np.array([np.linspace(4.0, 0.0, levels),  # falls through 2 at the 5th
                       np.full(levels, 3.0),  # pays at every multiple
                       [1.0, *np.full(levels - 1, 3.0)],  # not at the first: never
                       [3.0, 3.0, np.nan, *np.full(levels - 3, 3.0)],  # NaN at the third
                       np.full(levels, np.nan)])
    found = paying_multiples(bounds, 2.0)
    assert found.tolist() == [REACH_MULTIPLES[4], REACH_MULTIPLES[-1], 1.0, REACH_MULTIPLES[1],
                              1.0]
    assert paying_multiples(bounds, -np.inf).tolist() == [REACH_MULTIPLES[-1]] * 3 + \
        [REACH_MULTIPLES[1], 1.0]


def test_not_drawing_below_least_changes_no_multiple(small_fit):
    """A package whose estimate does not pay `least` at the first multiple is not drawn (NaN),
    and the multiples at a threshold are those of the bounds drawn for every package."""
    model = small_fit.model
    packages = list(model.packages_)
    reach = model.seen_spend(packages)
    bounds = reach_bounds(model, packages, reach, 240, -np.inf)
    assert np.isfinite(bounds[:, 0]).all()
    for threshold in np.quantile(bounds[:, 0], [0.2, 0.5, 0.8]):
        assert (_multiples(model, packages, reach, 240, threshold)
                == paying_multiples(bounds, threshold)).all()
    assert np.isnan(reach_bounds(model, packages, reach, 240, np.inf)).all()


def test_packages_without_a_fit_or_a_finite_reach_keep_their_reach(certain):
    package = _exponential(certain)
    found = _multiples(certain, [package, "new"], np.array([np.inf, 20.0]), 240, -np.inf)
    assert (found == 1.0).all()


def test_the_bound_counts_the_curves_uncertainty(small_fit):
    """With its draws, a curve is trusted no further than at its families' estimates (each
    family's fit without its parameters' uncertainty, averaged by the families' weights)."""
    packages = list(small_fit.model.packages_)
    reach = small_fit.model.seen_spend(packages)
    estimates = copy.deepcopy(small_fit.model)
    for curve in estimates.paid_.values():
        for fit in (curve, *curve.alternatives):
            fit.cov = np.zeros_like(np.asarray(fit.cov)).tolist()
        curve.profile = []
    for threshold in (0.5, 1.0, 2.0):
        drawn = _multiples(small_fit.model, packages, reach, 240, threshold)
        estimate = _multiples(estimates, packages, reach, 240, threshold)
        assert (drawn <= estimate).all()


def test_more_confidence_never_trusts_a_curve_further(small_fit):
    """The bound is the `1 - confidence` quantile of the same draws: raising the confidence
    lowers it, so no package's multiple grows; and some package's multiple differs between
    the median and 95% confidence, or the confidence would not be used."""
    packages = list(small_fit.model.packages_)
    reach = small_fit.model.seen_spend(packages)
    levels = (0.5, REACH_CONFIDENCE, 0.95)
    differs = False
    for threshold in (0.5, 1.0, 2.0, 3.0):
        found = [_multiples(small_fit.model, packages, reach, 240, threshold, level)
                 for level in levels]
        assert (found[1] <= found[0]).all() and (found[2] <= found[1]).all()
        differs |= bool((found[2] < found[0]).any())
    assert differs


def test_pressed_minutes_take_the_marginal_roi_where_the_plan_presses(certain):
    """With the minutes where the plan presses the reach, the marginal ROI is the closed form
    over those minutes alone: at the session's busiest minutes a curve is trusted at least as
    far as at average traffic, and a package pressing nowhere falls back to every minute."""
    package = _exponential(certain)
    curve, minutes, reach = certain.paid_[package], 240, 40.0
    k = curve.saturation().k
    scale = np.asarray(curve.scale(np.arange(minutes)), dtype=float)
    busy = scale >= np.quantile(scale, 0.75)
    lever = min(certain.organic_.leverage()[package], 0.0)

    def roi(m, mean_scale):
        paid = mean_scale * np.exp(-m * reach / k) / k
        return paid * (1.0 + lever) if certain.organic_.driver == "paid" else paid + lever

    m = 2.0
    threshold = roi(m, scale[busy].mean()) - 1e-9
    pressed = _multiples(certain, [package], np.array([reach]), minutes, threshold,
                         pressed=busy[:, None])
    assert pressed[0] == m
    average = _multiples(certain, [package], np.array([reach]), minutes, threshold)
    assert average[0] <= pressed[0]
    nowhere = _multiples(certain, [package], np.array([reach]), minutes, threshold,
                         pressed=np.zeros((minutes, 1), dtype=bool))
    assert nowhere[0] == average[0]


def test_a_flattening_family_lowers_the_bound_by_its_weight_not_vetoes_it(certain):
    """Two families without parameter uncertainty, half the weight each: the bound is the mean
    of their marginal ROIs, not the lower one (which pooled draws' lower quartile would give),
    so the curve is trusted past where its own, flattening family would stop it."""
    model = copy.deepcopy(certain)
    package = _exponential(model)
    curve, minutes, reach = model.paid_[package], 240, 40.0
    slow = copy.deepcopy(curve)  # the same parameters in the log family: flattens far later
    slow.family = "log"
    curve.family_weight = slow.family_weight = 0.5
    curve.alternatives = [slow]
    levels = reach * np.asarray(REACH_MULTIPLES)
    other, own = (marginal_roi(c.term(minutes, np.ones(1)), levels) for c in (curve, slow))
    lever = min(model.organic_.leverage()[package], 0.0)

    def net(roi):
        return roi * (1.0 + lever) if model.organic_.driver == "paid" else roi + lever

    m = next(i for i in range(1, len(levels)) if own[i] > other[i] + 0.5)
    threshold = net(0.5 * (own[m] + other[m])) - 1e-9
    assert threshold > net(min(own[m], other[m]))  # pooled, the lower family would veto
    found = _multiples(model, [package], np.array([reach]), minutes, threshold)
    mean = net(0.5 * (own + other))
    expected = REACH_MULTIPLES[int(np.flatnonzero(np.cumprod(mean >= threshold))[-1])]
    assert found[0] == expected >= REACH_MULTIPLES[m]


def test_family_quantile_weighs_each_familys_own_quantile():
    values = np.array([[1.0], [2.0], [3.0], [10.0], [20.0]])
    families = np.array(["hill", "hill", "hill", "exponential", "exponential"])
    weights = {"hill": 0.75, "exponential": 0.25, "log": 0.5}  # log drew nothing: left out
    found = family_quantile(values, families, weights, 0.5)
    assert found == pytest.approx([0.75 * 2.0 + 0.25 * 15.0])


PROFILE = ([2.0, 3.0, 3.5, 4.0], [MIN_FAMILY_WEIGHT / 2, 0.2, 0.4, 0.395])
"""log k and weights of a profile; at 60 yuan/min (1.5 x a reach of 40) the smaller k
(under 60) the lower the exponential's marginal ROI, scale exp(-60 / k) / k."""


def _unidentified(model, package, log_ks, weights):
    """`model` with `package`'s curve not identified (its log k moved onto the top of its
    range) behind a profile of fits with log k at `log_ks`, weighted `weights`."""
    curve = model.paid_[package]
    index = curve.theta_names.index("log_k")

    def held(log_k, weight):
        theta = list(curve.theta)
        theta[index] = log_k
        return curve.model_copy(update={"theta": theta, "family_weight": weight})

    bounds = list(curve.bounds)
    bounds[index] = (bounds[index][0], curve.theta[index])
    out = copy.deepcopy(model)
    out.paid_[package] = curve.model_copy(update={
        "bounds": bounds, "profile": [held(v, w) for v, w in zip(log_ks, weights, strict=True)]})
    assert not out.paid_[package].identified
    return out


def test_the_steepest_admitted_fit_has_the_least_k_the_data_weigh(certain):
    package = _exponential(certain)
    curve = _unidentified(certain, package, *PROFILE).paid_[package]
    assert steepest_admitted(curve).param("log_k") == 3.0
    assert steepest_admitted(certain.paid_[package]) is None


def test_an_unidentified_curve_is_bounded_by_its_steepest_admitted_fit(certain):
    """A straight curve is raised at most `UNIDENTIFIED_REACH` times, and as far as the closed
    form of its steepest admitted profile fit (exponential, k = e^3) pays, though most of the
    profile's weight is on fits that pay further."""
    package = _exponential(certain)
    model = _unidentified(certain, package, *PROFILE)
    curve, minutes, reach, k = model.paid_[package], 240, 40.0, np.exp(3.0)
    scale = np.mean(curve.scale(np.arange(minutes)))
    lever = min(model.organic_.leverage()[package], 0.0)
    paid = scale * np.exp(-1.5 * reach / k) / k
    roi = paid * (1.0 + lever) if model.organic_.driver == "paid" else paid + lever
    found = _multiples(model, [package], np.array([reach]), minutes, -np.inf)
    assert found[0] == UNIDENTIFIED_REACH < REACH_MULTIPLES[-1]
    assert _multiples(model, [package], np.array([reach]), minutes, roi - 1e-9)[0] == 1.5
    assert _multiples(model, [package], np.array([reach]), minutes, roi + 1e-6)[0] < 1.5
