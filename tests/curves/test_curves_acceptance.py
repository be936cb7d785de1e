"""Acceptance of the fitted curves against the simulator's known truth.

Each scenario's history is 21 sessions x 240 minutes x 6 packages (seed 1), fitted once per test
process (module-scoped fixture). Tolerances come from the issue, not from measured values:

- predicted session totals of paid GMV and of organic GMV on held-out spend schedules (fresh
  operator draws, another seed) within 5% of the truth's expectation;
- fitted marginal paid ROI per package within 15% of the truth at the 25th, 50th and 75th
  percentile of the package's positive spend in history (and, with strong confounding, not
  above the truth by more than 15%);
- organic leverage of the truth's sign whenever the truth is clearly non-zero (|truth| > 2 SE);
- held-out WAPE within 3 points of the noise floor: of the fit's noise floor band (a perfect
  model's WAPE on those few sessions varies: `NoiseFloor`, whose band must hold the truth's own
  WAPE as often as a 90% band should), and of the WAPE of the truth's own expectation on the
  same held-out minutes.

Checks that fail are marked `xfail(strict=True)` with the numbers measured when they were last
run (the assertion message): the estimator is expected to be fixed, and the mark must then be
removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytest
from fits import fitted

from optimizer.curves import ResponseModel, SessionResponse, wape
from optimizer.curves.report import (
    leverage_at_zero,
    leverage_unit,
    marginal_roi,
    spend_leverage,
)
from optimizer.curves.transforms import Exponential, Hill
from optimizer.data import History, Panel
from optimizer.sim import LiveRoomSimulator, Scenario

pytestmark = pytest.mark.slow

DAYS = 21
MINUTES = 240
HISTORY_SEED = 1
SCHEDULE_SEED = 12345  # held-out spend schedules: another rng than the history's
SCHEDULES = 5
TOTAL_TOLERANCE = 0.05  # relative error of a session total
ROI_TOLERANCE = 0.15  # relative error of marginal paid ROI
CLEAR_SE = 2.0  # a leverage is clearly non-zero beyond this many standard errors
WAPE_POINTS = 0.03  # "a few points" of WAPE
FLOOR_HELD = 29  # of 36: binom.cdf(28, 36, 0.9) = 0.024
QUANTILES = (0.25, 0.5, 0.75)

SCENARIOS = ("default", "strong_confounding", "cannibal", "offmodel", "all_exponential",
             "all_hill")
PACKAGES = ("fans", "lookalike", "competitor", "interest", "retarget", "auto")


STRONG_UPLIFT = 1200.0  # yuan/min: the organic uplift's ceiling in the strong_uplift variant


def build_scenario(name: str) -> Scenario:
    """A builtin scenario, or a variant of `default` where every package has one family.

    all_exponential: every saturation exponential with the package's k; all_hill: the
    exponential packages become Hill with the same k and shape 0.8 (Hill ones are kept);
    strong_uplift: `cannibal` with a 4x higher organic uplift ceiling, so that some packages'
    leverages (retarget's negative one among them) are clearly non-zero in 21 sessions.
    """
    if name == "strong_uplift":
        base = Scenario.builtin("cannibal")
        room = base.room.model_copy(update={"uplift_max_per_minute": STRONG_UPLIFT})
        return base.model_copy(update={"name": name, "room": room})
    if name not in ("all_exponential", "all_hill"):
        return Scenario.builtin(name)
    base = Scenario.builtin("default")
    packages = {}
    for package, truth in base.packages.items():
        k = truth.saturation.k
        saturation = Exponential(k=k) if name == "all_exponential" else (
            truth.saturation if isinstance(truth.saturation, Hill) else Hill(k=k, shape=0.8))
        packages[package] = truth.model_copy(update={"saturation": saturation})
    return base.model_copy(update={"name": name, "packages": packages})


@dataclass
class Case:
    """One scenario's simulator, fitted model and the two responses of a new session."""

    name: str
    simulator: LiveRoomSimulator
    panel: Panel
    model: ResponseModel

    @cached_property
    def fitted(self) -> SessionResponse:
        return self.model.response(MINUTES, list(self.panel.packages))

    @cached_property
    def truth(self) -> SessionResponse:
        return self.simulator.response(MINUTES)

    @cached_property
    def schedules(self) -> list[np.ndarray]:
        rng = np.random.default_rng(SCHEDULE_SEED)
        return [self.simulator.operator_spend(rng, MINUTES) for _ in range(SCHEDULES)]

    def spend_quantiles(self, package: str) -> np.ndarray:
        spend = self.panel.spend[:, self.panel.packages.index(package)]
        return np.quantile(spend[spend > 0], QUANTILES)

    def roi(self, package: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(spend levels, fitted marginal ROI, true marginal ROI) at the spend quantiles."""
        j = self.panel.packages.index(package)
        levels = self.spend_quantiles(package)
        return (levels, marginal_roi(self.fitted.paid[j], levels),
                marginal_roi(self.truth.paid[j], levels))

    def leverage(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fitted leverage, truth in the fit's units, SE) per package.

        The fit's leverage is organic yuan per paid yuan at the room's average organic level;
        the truth's is converted through `leverage_at_zero` (the mean over the session of the
        organic slope at zero spend), which both responses define alike.
        """
        organic = self.model.organic_
        unit = float(np.mean(self.fitted.baseline)) / organic.level
        fitted, se = np.array([spend_leverage(self.model, self.panel)[p]
                               for p in self.panel.packages]).T
        return fitted, leverage_at_zero(self.truth) / unit, se

    def leverage_units(self) -> np.ndarray:
        """(P,) yuan of the organic model's drive per paid yuan (`leverage_unit`)."""
        return np.array([leverage_unit(self.model, self.panel, p) for p in self.panel.packages])

    def held_out(self) -> np.ndarray:
        """Rows of the sessions the fit held out to choose families (the latest ones)."""
        held = int(round(self.model.n_sessions_ * self.model.options.holdout_fraction))
        return self.panel.session >= self.model.n_sessions_ - held

    def truth_wape(self, package: str) -> float:
        """WAPE of the truth's expectation (average day) on the held-out minutes."""
        j = self.panel.packages.index(package)
        rows = self.held_out()
        predicted = [self.truth.paid[j].value(self.panel.spend[self.panel.session == s])
                     for s in np.unique(self.panel.session[rows])]
        return wape(self.panel.paid_gmv[rows, j], np.concatenate(predicted))


class Cases:
    """Fits each scenario on first use and keeps it for the module."""

    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}

    def __getitem__(self, name: str) -> Case:
        if name not in self._cases:
            scenario = build_scenario(name)
            simulator = LiveRoomSimulator(scenario)
            simulated = simulator.history(DAYS, seed=HISTORY_SEED)
            history, _ = History.from_frames(simulated.spend, simulated.room)
            panel = history.panel(list(scenario.packages))
            self._cases[name] = Case(name, simulator, panel, fitted(panel))
        return self._cases[name]


@pytest.fixture(scope="module")
def cases() -> Cases:
    return Cases()


# -- known failures (measured with the seeds above; see each reason) -------------------------
# The four marked "paid GMV chosen" came with the organic driver's choice (FitOptions
# organic_driver "auto"): on these spend-driven truths the held-out sessions prefer an uplift
# levered by paid GMV by 0.08-2.6% of their deviance. Over random truths 1-10 driven by spend
# and 1-10 by paid GMV, the same choice forecasts organic session totals 8.2% off on average
# against 12.6% for spend always (bench in the closing note of 2026-12-03).
KNOWN: dict[tuple[str, str, str], str] = {
    ("totals_organic", "all_hill", ""):
        "paid GMV chosen; all_hill: organic total relative errors [0.0122, 0.0539, 0.0366, "
        "0.0583, 0.0368] (history seed 1's room day factors average 1.022, geometric)",
    ("leverage_sign", "all_hill", ""):
        "paid GMV chosen; all_hill: wrong sign for ['competitor']: fitted -0.18, truth 0.36, SE "
        "0.11",
    ("leverage_sign", "strong_confounding", ""):
        "paid GMV chosen; strong_confounding: wrong sign for ['auto']: fitted -0.01, truth 0.47, "
        "SE 0.09",
    ("leverage_sign", "strong_uplift", ""):
        "paid GMV chosen; strong_uplift: retarget's leverage fitted 0.02 (at the kink of the "
        "split uplift), truth -1.05, SE 0.25",
    ("not_inflated", "strong_confounding", "interest"):
        "strong_confounding/interest: at spend [18.8, 35.0, 44.1] yuan/min fitted [3.714, 3.112, "
        "2.819] vs true [3.733, 2.85, 2.451]",
    ("not_inflated", "strong_confounding", "retarget"):
        "strong_confounding/retarget: at spend [10.8, 25.3, 31.9] yuan/min fitted [4.699, 3.524, "
        "3.092] vs true [4.733, 3.087, 2.611]",
    ("roi", "all_exponential", "auto"):
        "all_exponential/auto: at spend [45.6, 67.2, 96.4] yuan/min fitted [3.323, 3.101, 2.825] "
        "vs true [3.137, 2.816, 2.434] ([0.059, 0.101, 0.161])",
    ("roi", "all_exponential", "competitor"):
        "all_exponential/competitor: at spend [35.2, 52.3, 72.2] yuan/min fitted [2.719, 2.681, "
        "2.646] vs true [2.57, 2.36, 2.136] ([0.058, 0.136, 0.239])",
    ("roi", "all_exponential", "interest"):
        "all_exponential/interest: at spend [22.7, 32.6, 45.2] yuan/min fitted [3.798, 3.329, "
        "2.812] vs true [3.498, 2.968, 2.406] ([0.086, 0.121, 0.169])",
    ("roi", "all_exponential", "retarget"):
        "all_exponential/retarget: at spend [18.0, 26.5, 35.7] yuan/min fitted [4.858, 3.782, "
        "2.878] vs true [4.888, 4.127, 3.431] ([-0.006, -0.084, -0.161])",
    ("roi", "all_hill", "retarget"):
        "all_hill/retarget: at spend [17.2, 25.7, 35.0] yuan/min fitted [4.254, 3.657, 3.172] vs "
        "true [3.878, 3.055, 2.424] ([0.097, 0.197, 0.309])",
    ("roi", "cannibal", "competitor"):
        "cannibal/competitor: at spend [36.2, 50.7, 70.7] yuan/min fitted [2.275, 1.988, 1.694] "
        "vs true [2.558, 2.379, 2.153] ([-0.111, -0.165, -0.213])",
    ("roi", "offmodel", "lookalike"):
        "offmodel/lookalike: at spend [41.6, 58.6, 81.0] yuan/min fitted [1.76, 1.239, 0.867] vs "
        "true [1.999, 1.516, 1.146] ([-0.12, -0.183, -0.244]): two stages of 3.41 min (truth 3 "
        "and 4) and a Hill curve of weight 0.54; with one stage it passed, and offmodel's "
        "packages are within 15% in 63% of fits over history seeds 1-10",
    ("roi", "strong_confounding", "interest"):
        "strong_confounding/interest: at spend [18.8, 35.0, 44.1] yuan/min fitted [3.714, 3.112, "
        "2.819] vs true [3.733, 2.85, 2.451] ([-0.005, 0.092, 0.15])",
    ("roi", "strong_confounding", "lookalike"):
        "strong_confounding/lookalike: at spend [26.4, 59.4, 75.2] yuan/min fitted [2.855, 1.56, "
        "1.28] vs true [2.963, 1.805, 1.511] ([-0.037, -0.136, -0.153])",
    ("roi", "strong_confounding", "retarget"):
        "strong_confounding/retarget: at spend [10.8, 25.3, 31.9] yuan/min fitted [4.699, 3.524, "
        "3.092] vs true [4.733, 3.087, 2.611] ([-0.007, 0.142, 0.184])",
    ("stages", "strong_confounding", "fans"):
        "strong_confounding/fans: two stages of 1.16 min for one of 2 (a kernel of nearly the "
        "same shape), by 0.07% of the cross-validated deviance",
    ("stages", "cannibal", "fans"):
        "cannibal/fans: two stages of 1.16 min for one of 2, by 0.11% of the cross-validated "
        "deviance",
    ("stages", "all_hill", "interest"):
        "all_hill/interest: two stages of 1.00 min for one of 1.5, by 0.08% of the "
        "cross-validated deviance",
    ("totals_organic", "all_exponential", ""):
        "all_exponential: organic total relative errors [0.0598, 0.0381, -0.0006, 0.0402, 0.0314] "
        "(history seed 1's room day factors average 1.017, geometric: a level no fit can tell "
        "from the truth's average day)",
    ("totals_organic", "default", ""):
        "default: organic total relative errors [0.0511, 0.0365, 0.0104, 0.0513, 0.0334] "
        "(history seed 1's room day factors average 1.031, geometric)",
    ("totals_paid", "all_exponential", ""):
        "all_exponential: paid total relative errors [0.0505, 0.0445, 0.0462, 0.0473, 0.0516] "
        "(history seed 1's day x package factors average 1.015-1.051 per package, geometric, "
        "most of each package's 3.7-6.8% over the truth's average day)",
    ("wape_floor", "all_exponential", "auto"):
        "all_exponential/auto: held-out WAPE 0.522 vs noise floor 0.605 (0.562 to 0.660): the "
        "floor's order-value shape came out 0.88 (truth 2) from a Pearson dispersion 24% high, "
        "and the truth's own WAPE, 0.518, is outside the band too",
    ("wape_floor", "all_hill", "interest"):
        "all_hill/interest: held-out WAPE 0.761 vs noise floor 0.650 (0.591 to 0.716): the "
        "held-out sessions' GMV was 14% under the truth's average day, and the truth's own "
        "WAPE, 0.746, is outside the band too",
}


def _params(check: str, scenarios=SCENARIOS, packages=None) -> list:
    """Test parameters, with the known failures of `check` marked strict xfail."""
    out = []
    for scenario in scenarios:
        for package in packages or ("",):
            reason = KNOWN.get((check, scenario, package))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            values = (scenario, package) if packages else (scenario,)
            out.append(pytest.param(*values, marks=marks,
                                    id="-".join(v for v in values if v)))
    return out


def _relative_errors(case: Case, pick) -> np.ndarray:
    return np.array([pick(case.fitted, s) / pick(case.truth, s) - 1.0 for s in case.schedules])


# -- session totals -------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", _params("totals_paid"))
def test_paid_session_total_within_5_percent(cases, scenario):
    case = cases[scenario]
    errors = _relative_errors(case, lambda r, s: r.paid_gmv(s).sum())
    assert np.all(np.abs(errors) <= TOTAL_TOLERANCE), (
        f"{scenario}: paid total relative errors {np.round(errors, 4).tolist()}")


@pytest.mark.parametrize("scenario", _params("totals_organic"))
def test_organic_session_total_within_5_percent(cases, scenario):
    case = cases[scenario]
    errors = _relative_errors(case, lambda r, s: r.organic_gmv(s).sum())
    assert np.all(np.abs(errors) <= TOTAL_TOLERANCE), (
        f"{scenario}: organic total relative errors {np.round(errors, 4).tolist()}")


# -- marginal ROI ---------------------------------------------------------------------------
@pytest.mark.parametrize(("scenario", "package"), _params("roi", packages=PACKAGES))
def test_marginal_roi_within_15_percent(cases, scenario, package):
    levels, fitted, truth = cases[scenario].roi(package)
    errors = fitted / truth - 1.0
    assert np.all(np.abs(errors) <= ROI_TOLERANCE), (
        f"{scenario}/{package}: at spend {np.round(levels, 1).tolist()} yuan/min fitted "
        f"{np.round(fitted, 3).tolist()} vs true {np.round(truth, 3).tolist()} "
        f"({np.round(errors, 3).tolist()})")


@pytest.mark.parametrize(("scenario", "package"),
                         _params("not_inflated", ("strong_confounding",), PACKAGES))
def test_confounded_spend_effect_is_not_inflated(cases, scenario, package):
    levels, fitted, truth = cases[scenario].roi(package)
    assert np.all(fitted <= truth * (1.0 + ROI_TOLERANCE)), (
        f"{scenario}/{package}: at spend {np.round(levels, 1).tolist()} yuan/min fitted "
        f"{np.round(fitted, 3).tolist()} vs true {np.round(truth, 3).tolist()}")


# -- organic leverage -----------------------------------------------------------------------
@pytest.mark.parametrize("scenario", _params("leverage_sign", (*SCENARIOS, "strong_uplift")))
def test_organic_leverage_has_the_truths_sign_when_clear(cases, scenario):
    case = cases[scenario]
    fitted, truth, se = case.leverage()
    clear = np.abs(truth) > CLEAR_SE * se
    ratios = {p: round(float(abs(t) / s), 2) for p, t, s in zip(case.panel.packages, truth, se,
                                                                strict=True)}
    if not clear.any():
        pytest.skip(f"{scenario}: no package's true leverage is clearly non-zero "
                    f"(|truth| / SE: {ratios})")
    wrong = [p for p, c, f, t in zip(case.panel.packages, clear, fitted, truth, strict=True)
             if c and np.sign(f) != np.sign(t)]
    assert not wrong, (f"{scenario}: wrong sign for {wrong}: fitted {np.round(fitted, 2)}, "
                       f"truth {np.round(truth, 2)}, SE {np.round(se, 2)}")


@pytest.mark.parametrize("scenario", _params("mix_leverage_sign"))
def test_organic_leverage_of_the_history_mix_has_the_truths_sign(cases, scenario):
    """The same check for the spend mix of history (shares of total spend), a better-measured
    combination of the per-package leverages (SE from their joint covariance)."""
    case = cases[scenario]
    fitted, truth, _ = case.leverage()
    organic = case.model.organic_
    mix = case.panel.spend.sum(axis=0) / case.panel.spend.sum()
    first = len(organic.coef) + organic.theta_names.index(f"leverage:{case.panel.packages[0]}")
    cov = np.asarray(organic.cov)[first: first + len(mix), first: first + len(mix)]
    weights = mix * case.leverage_units()
    se = float(np.sqrt(weights @ cov @ weights))
    if abs(mix @ truth) <= CLEAR_SE * se:
        pytest.skip(f"{scenario}: true mix leverage {mix @ truth:.2f} is within "
                    f"{CLEAR_SE} SE ({se:.2f}) of zero")
    assert np.sign(mix @ fitted) == np.sign(mix @ truth), (
        f"{scenario}: mix leverage fitted {mix @ fitted:.3f} vs truth {mix @ truth:.3f} "
        f"(SE {se:.3f})")


# -- carryover shape ------------------------------------------------------------------------
@pytest.mark.parametrize(("scenario", "package"), _params("stages", packages=PACKAGES))
def test_carryover_has_the_truths_number_of_stages(cases, scenario, package):
    """One geometric stage, or two (a delayed peak: every package of `offmodel`), as the truth
    has, chosen on held-out sessions (`FitOptions.carryover_stages`)."""
    case = cases[scenario]
    truth = case.simulator.scenario.packages[package].carryover.half_lives
    curve = case.model.paid_[package]
    assert curve.stages == len(truth), (
        f"{scenario}/{package}: {curve.stages} stage(s) of {curve.half_life():.2f} min, "
        f"truth {list(truth)}")


# -- held-out error -------------------------------------------------------------------------
@pytest.mark.parametrize(("scenario", "package"), _params("wape_floor", packages=PACKAGES))
def test_holdout_wape_is_near_the_noise_floor(cases, scenario, package):
    diagnostics = cases[scenario].model.paid_[package].diagnostics
    family = cases[scenario].model.paid_[package].family
    held, (low, high) = diagnostics.holdout_wape[family], diagnostics.noise_floor_band
    assert low - WAPE_POINTS <= held <= high + WAPE_POINTS, (
        f"{scenario}/{package}: held-out WAPE {held:.3f} vs noise floor "
        f"{diagnostics.noise_floor_wape:.3f} ({low:.3f} to {high:.3f})")


def test_the_noise_floor_band_holds_the_truths_own_wape_as_a_90_percent_band_should(cases):
    """A perfect model (the truth's expectation at the average day) scores inside each fit's
    90% noise floor band in at least `FLOOR_HELD` of the 36 scenario-packages: fewer happens
    with probability 2.4% (binomial, 36 draws at 0.9) if the band is what it says. The old
    floor, a point, was within 3 points of the truth's WAPE in only 20 of 36."""
    inside = {(scenario, package): bool(low <= cases[scenario].truth_wape(package) <= high)
              for scenario in SCENARIOS for package in PACKAGES
              for low, high in [cases[scenario].model.paid_[package].diagnostics
                                .noise_floor_band]}
    outside = [key for key, held in inside.items() if not held]
    assert len(inside) - len(outside) >= FLOOR_HELD, f"outside the band: {outside}"


@pytest.mark.parametrize(("scenario", "package"), _params("wape_truth", packages=PACKAGES))
def test_holdout_wape_is_near_the_truths_own(cases, scenario, package):
    case = cases[scenario]
    curve = case.model.paid_[package]
    held = curve.diagnostics.holdout_wape[curve.family]
    floor = case.truth_wape(package)
    assert held - floor <= WAPE_POINTS, (
        f"{scenario}/{package}: held-out WAPE {held:.3f} vs the truth's {floor:.3f}")
