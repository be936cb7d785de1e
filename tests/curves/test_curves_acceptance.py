"""Acceptance of the fitted curves against the simulator's known truth.

Each scenario's history is 21 sessions x 240 minutes x 6 packages (seed 1), fitted once per test
process (module-scoped fixture). Tolerances come from the issue, not from measured values:

- predicted session totals of paid GMV and of organic GMV on held-out spend schedules (fresh
  operator draws, another seed) within 5% of the truth's expectation;
- fitted marginal paid ROI per package within 15% of the truth at the 25th, 50th and 75th
  percentile of the package's positive spend in history (and, with strong confounding, not
  above the truth by more than 15%);
- organic leverage of the truth's sign whenever the truth is clearly non-zero (|truth| > 2 SE);
- held-out WAPE within 3 points of the noise floor (the fit's `noise_floor_wape`, and the WAPE
  of the truth's own expectation on the same held-out minutes).

Checks that fail are marked `xfail(strict=True)` with the measured numbers: the estimator is
expected to be fixed, and the mark must then be removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytest

from optimizer.curves import ResponseModel, SessionResponse, wape
from optimizer.curves.report import leverage_at_zero, marginal_roi
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
QUANTILES = (0.25, 0.5, 0.75)

SCENARIOS = ("default", "strong_confounding", "cannibal", "offmodel", "all_exponential",
             "all_hill")
PACKAGES = ("fans", "lookalike", "competitor", "interest", "retarget", "auto")


def build_scenario(name: str) -> Scenario:
    """A builtin scenario, or a variant of `default` where every package has one family.

    all_exponential: every saturation exponential with the package's k; all_hill: the
    exponential packages become Hill with the same k and shape 0.8 (Hill ones are kept).
    """
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
        fitted = np.array([organic.leverage()[p] for p in self.panel.packages])
        se = np.array([organic.standard_error(f"leverage:{p}") for p in self.panel.packages])
        return fitted, leverage_at_zero(self.truth) / unit, se

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
            self._cases[name] = Case(name, simulator, panel, ResponseModel().fit(panel))
        return self._cases[name]


@pytest.fixture(scope="module")
def cases() -> Cases:
    return Cases()


# -- known failures (measured with the seeds above; see each reason) -------------------------
FAMILY_CHOICE = ("held-out WAPE of the two families differs by < 0.5 point, so the family is "
                 "chosen by noise")


def _floor(held: float, floor: float, truth: float) -> str:
    return (f"held-out WAPE {held:.3f} vs noise floor {floor:.3f} ({held - floor:+.3f}); the "
            f"truth's own WAPE on these minutes is {truth:.3f}: the floor (one draw of "
            f"phi * Poisson, SD 2-4 points, no day effects) is off, not the fit")


KNOWN: dict[tuple[str, str, str], str] = {
    ("totals_paid", "all_exponential", ""):
        "paid total +4.4%..+5.3% on the 5 held-out schedules; against the truth at the "
        "history's realised mean day factors (room 1.021, room x package 1.024-1.061) it is "
        "+0.6%..+1.4%: the 21 sampled days, not the curves",
    ("totals_organic", "all_exponential", ""):
        "organic total +1.1%..+5.6% (schedule 0: +5.6%); fitted uplift 43-50k yuan per session "
        "vs the truth's 14-17k (leverage SEs 2-14: the uplift sits in its saturated regime)",
    ("roi", "strong_confounding", "auto"):
        f"fitted/true marginal ROI -1 = +31.4%, +14.3%, -0.6% at P25/50/75; exponential chosen "
        f"for a Hill(0.7) truth ({FAMILY_CHOICE}); a Hill-only fit is unbiased over 6 seeds",
    ("roi", "strong_confounding", "retarget"):
        "fitted/true marginal ROI -1 = -0.7%, +13.9%, +18.1% at P25/50/75",
    ("roi", "cannibal", "lookalike"):
        f"fitted/true marginal ROI -1 = +13.6%, -2.0%, -21.0% at P25/50/75: exponential chosen "
        f"for a Hill(0.8) truth ({FAMILY_CHOICE})",
    ("roi", "cannibal", "competitor"):
        "fitted/true marginal ROI -1 = -7.5%, -12.5%, -18.9% at P25/50/75",
    ("roi", "offmodel", "lookalike"):
        "fitted/true marginal ROI -1 = +16.6%, -13.3%, -46.2% at P25/50/75: exponential fit of a "
        "Hill(0.6) truth with a two-stage carryover",
    ("roi", "offmodel", "interest"):
        "fitted/true marginal ROI -1 = +10.9%, +15.4%, +16.7% at P25/50/75 (log truth)",
    ("roi", "offmodel", "retarget"):
        "fitted/true marginal ROI -1 = +12.2%, +25.2%, +41.7% at P25/50/75 (log truth, two-stage "
        "carryover 3+5 min; fitted Hill shape at its bound 1, half-life 9.9 min)",
    ("roi", "all_exponential", "competitor"):
        "fitted/true marginal ROI -1 = +5.8%, +13.6%, +23.9% at P25/50/75: Hill chosen for an "
        "exponential truth",
    ("roi", "all_exponential", "interest"):
        "fitted/true marginal ROI -1 = +7.0%, +10.3%, +16.1% at P25/50/75: Hill chosen for an "
        "exponential truth",
    ("roi", "all_exponential", "retarget"):
        "fitted/true marginal ROI -1 = -0.6%, -8.4%, -16.1% at P25/50/75",
    ("roi", "all_exponential", "auto"):
        "fitted/true marginal ROI -1 = +5.9%, +10.1%, +16.1% at P25/50/75",
    ("roi", "all_hill", "fans"):
        f"fitted/true marginal ROI -1 = +21.5%, +10.9%, -4.9% at P25/50/75: exponential chosen "
        f"for a Hill(0.8) truth ({FAMILY_CHOICE})",
    ("roi", "all_hill", "retarget"):
        "fitted/true marginal ROI -1 = +10.3%, +19.2%, +27.8% at P25/50/75",
    ("not_inflated", "strong_confounding", "auto"):
        "fitted marginal ROI 31.4% above the truth at P25 (3.59 vs 2.73 yuan/yuan)",
    ("not_inflated", "strong_confounding", "retarget"):
        "fitted marginal ROI 18.1% above the truth at P75 (3.08 vs 2.61 yuan/yuan)",
    ("mix_leverage_sign", "strong_confounding", ""):
        "leverage of the history mix: fitted -0.067 vs truth +0.330 (SE 0.129); the fitted "
        "uplift is -1.5k..-6.3k yuan per session vs the truth's +13.7k..+15.7k",
    ("wape_floor", "default", "competitor"): _floor(0.685, 0.731, 0.670),
    ("wape_floor", "default", "interest"): _floor(0.644, 0.590, 0.644),
    ("wape_floor", "strong_confounding", "competitor"): _floor(0.827, 0.762, 0.823),
    ("wape_floor", "strong_confounding", "interest"): _floor(0.584, 0.546, 0.574),
    ("wape_floor", "strong_confounding", "retarget"): _floor(1.018, 0.937, 1.004),
    ("wape_floor", "strong_confounding", "auto"): _floor(0.569, 0.527, 0.560),
    ("wape_floor", "cannibal", "interest"): _floor(0.630, 0.599, 0.624),
    ("wape_floor", "cannibal", "retarget"): _floor(0.677, 0.719, 0.673),
    ("wape_floor", "offmodel", "fans"): _floor(0.809, 0.858, 0.805),
    ("wape_floor", "offmodel", "competitor"): _floor(0.862, 0.807, 0.851),
    ("wape_floor", "offmodel", "interest"): _floor(0.766, 0.734, 0.764),
    ("wape_floor", "offmodel", "retarget"): _floor(0.971, 1.006, 0.967),
    ("wape_floor", "offmodel", "auto"): _floor(0.644, 0.706, 0.655),
    ("wape_floor", "all_exponential", "competitor"): _floor(0.717, 0.750, 0.711),
    ("wape_floor", "all_exponential", "retarget"): _floor(0.809, 0.772, 0.799),
    ("wape_floor", "all_exponential", "auto"): _floor(0.522, 0.595, 0.518),
    ("wape_floor", "all_hill", "lookalike"): _floor(0.581, 0.532, 0.574),
    ("wape_floor", "all_hill", "competitor"): _floor(0.806, 0.731, 0.780),
    ("wape_floor", "all_hill", "interest"): _floor(0.759, 0.646, 0.746),
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
@pytest.mark.parametrize("scenario", _params("leverage_sign"))
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
    se = float(np.sqrt(mix @ cov @ mix))
    if abs(mix @ truth) <= CLEAR_SE * se:
        pytest.skip(f"{scenario}: true mix leverage {mix @ truth:.2f} is within "
                    f"{CLEAR_SE} SE ({se:.2f}) of zero")
    assert np.sign(mix @ fitted) == np.sign(mix @ truth), (
        f"{scenario}: mix leverage fitted {mix @ fitted:.3f} vs truth {mix @ truth:.3f} "
        f"(SE {se:.3f})")


# -- held-out error -------------------------------------------------------------------------
@pytest.mark.parametrize(("scenario", "package"), _params("wape_floor", packages=PACKAGES))
def test_holdout_wape_is_near_the_noise_floor(cases, scenario, package):
    diagnostics = cases[scenario].model.paid_[package].diagnostics
    family = cases[scenario].model.paid_[package].family
    held, floor = diagnostics.holdout_wape[family], diagnostics.noise_floor_wape
    assert abs(held - floor) <= WAPE_POINTS, (
        f"{scenario}/{package}: held-out WAPE {held:.3f} vs noise floor {floor:.3f}")


@pytest.mark.parametrize(("scenario", "package"), _params("wape_truth", packages=PACKAGES))
def test_holdout_wape_is_near_the_truths_own(cases, scenario, package):
    case = cases[scenario]
    curve = case.model.paid_[package]
    held = curve.diagnostics.holdout_wape[curve.family]
    floor = case.truth_wape(package)
    assert held - floor <= WAPE_POINTS, (
        f"{scenario}/{package}: held-out WAPE {held:.3f} vs the truth's {floor:.3f}")
