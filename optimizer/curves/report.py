"""What a fit found, as tables and a picture: per-package curves and the organic model.

`fit_summary(model, panel)` is one row per package of the history panel; `organic_summary(model)`
is one row for the room's organic model; `plot_curves(model, panel, path)` draws every fitted
saturation curve over the binned history it was fitted on, plus the organic uplift.

Units: money in yuan, rates in yuan per minute, half-lives in minutes. "At average traffic" means
averaged over the minutes of a session of the history's length at the average day, which is what
`ResponseModel.response` predicts for a new session. Intervals are 90% (5% and 95% quantiles of
parameter draws from the fits' HAC covariance, or estimate ± 1.645 standard errors).

Helpers shared with the tests and usable on any `SessionResponse` (fitted or the simulator's
truth): `marginal_roi` (paid yuan per extra paid yuan at a steady spend) and
`leverage_at_zero` (organic yuan per paid yuan of a small steady spend).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.charts import chart_fonts
from optimizer.curves.artifact import ModelArtifact, fitted_model
from optimizer.curves.clock import clock_minutes
from optimizer.curves.factors import split_leverage
from optimizer.curves.model import PanelLike, ResponseModel
from optimizer.curves.organic import OrganicCurve
from optimizer.curves.paid import PackageCurve
from optimizer.curves.response import ResponseTerm, SessionResponse

LEVEL = 0.90
"""Coverage of every interval in the report."""

_Z = 1.6448536269514722  # standard normal 95% quantile: a two-sided 90% interval

SUMMARY_COLUMNS: dict[str, str] = {
    "family": "saturation family of the fitted curve ('exponential', 'hill' or 'log'); "
              "empty when the package was not fitted",
    "family_weight": "how far the family is believed against the other (pseudo-BMA+ weight "
                     "from cross-validated deviance, 0-1; 1 when no other was weighed); the "
                     "intervals draw each family by its weight",
    "half_life": "carryover half-life of paid traffic (minutes; of each stage)",
    "half_life_se": "its standard error (minutes; delta method from the SE of log half-life)",
    "carryover_stages": "the carryover's stages, each of half_life: 1 geometric (the most GMV "
                        "in the minute of spend), 2 a delayed peak",
    "k": "saturation scale (yuan/min of spend): exponential S(a) = 1 - exp(-a/k); Hill "
         "half-saturation spend",
    "shape": "Hill shape s in (0, 4], S-shaped over 1 (NaN for exponential curves)",
    "typical_spend": "the package's median positive spend in history (yuan/min)",
    "seen_spend": "the spend history has seen: 95th percentile of the package's positive spend "
                  "(yuan/min); past it the curve is extrapolation, and plans keep within it "
                  "times planner.history_reach",
    "marginal_roi": "paid GMV per extra paid yuan at typical_spend held steady over a session "
                    "at average traffic: mean over minutes of scale * S'(typical_spend)",
    "marginal_roi_low": "lower end of its 90% interval (parameter and family draws)",
    "marginal_roi_high": "upper end of its 90% interval",
    "organic_leverage": "organic GMV per paid yuan at low spend and the room's average organic "
                        "level (any sign; < 0 cannibalises organic GMV); when paid GMV levers "
                        "organic GMV (organic driver 'paid'), the leverage per paid GMV yuan "
                        "times marginal_roi",
    "organic_leverage_low": "lower end of its 90% interval (estimate - 1.645 SE)",
    "organic_leverage_high": "upper end of its 90% interval (estimate + 1.645 SE)",
    "holdout_wape": "WAPE of minute paid GMV on the held-out latest sessions, chosen family "
                    "(a fraction; NaN when no sessions were held out)",
    "noise_floor_wape": "WAPE a perfect model of the average day would show on the held-out "
                        "minutes, noise of the fitted dispersion and day spread (a fraction; "
                        "mean of simulated minute sets)",
    "noise_floor_low": "lower end of the noise floor's 90% band (few sessions are held out, so "
                       "a perfect model's WAPE varies)",
    "noise_floor_high": "upper end of the noise floor's 90% band",
    "note": "why the package has no fitted curve, where a delayed peak peaks, or that the "
            "data do not identify its half-saturation (empty otherwise)",
}
"""Columns of `fit_summary` (index: package id) and what they mean."""

ORGANIC_COLUMNS: dict[str, str] = {
    "half_life": "carryover half-life of the organic uplift (minutes)",
    "half_life_se": "its standard error (minutes; delta method)",
    "ceiling": "c: organic uplift at saturation at the average organic level (yuan/min)",
    "ceiling_low": "lower end of its 90% interval (from the SE of log c)",
    "ceiling_high": "upper end of its 90% interval",
    "driver": "what levers organic GMV: 'spend' (each package's paid yuan) or 'paid' (its "
              "paid GMV), chosen by held-out quasi-deviance",
    "level": "the room's average organic GMV in history (yuan/min), the unit of leverage",
    "baseline": "expected organic GMV with no paid spend, mean over a session (yuan/min)",
    "dispersion": "Pearson dispersion of organic GMV (yuan; variance / mean)",
    "deviance": "Poisson quasi-deviance at the optimum (yuan)",
    "n": "live minutes fitted",
    "converged": "whether the optimiser reported convergence",
    "note": "that the data do not identify the ceiling (or it sits on a bound), and that the "
            "uplift's drive was a close choice, when so",
}
"""Columns of `organic_summary` (one row, index 'organic') and what they mean."""


# -- helpers on any SessionResponse ---------------------------------------------------------
def marginal_roi(term: ResponseTerm, spend: float | np.ndarray,
                 minutes: np.ndarray | None = None) -> np.ndarray:
    """Paid yuan per extra paid yuan of a one-package term at steady `spend` (yuan/min).

    A steady spend x settles at an adstock of x (carryover weights sum to one), so this is the
    mean over the term's minutes of ``scale * S'(x)``; `spend` may be an array of levels.
    minutes: (T,) booleans, the minutes to average over (None: all of them).
    """
    x = np.atleast_1d(np.asarray(spend, dtype=float))
    scale = term.scale if minutes is None or not np.any(minutes) else term.scale[minutes]
    slope = term.saturation.derivative(x[:, None] * np.ones_like(scale)[None, :])
    values = np.mean(scale[None, :] * slope, axis=1)
    return values if np.ndim(spend) else values[0]


def leverage_at_zero(response: SessionResponse) -> np.ndarray:
    """Organic yuan per paid yuan of a small steady spend, per package, shape (P,).

    The mean over minutes of ``sum over uplift terms of scale * S'(0) * weight``: the same
    quantity for a fitted response and for the simulator's truth, so they can be compared.
    """
    total = np.zeros(len(response.packages))
    for term in response.uplift:
        total += float(np.mean(term.scale * term.saturation.derivative(0.0))) * term.weights
    return total


def paid_draws(model: ResponseModel, package: str, minutes: int, n: int, seed: int = 0
               ) -> list[ResponseTerm]:
    """`n` paid terms of `package`: families drawn by their weights, parameters from each
    fit's HAC covariance (`PackageCurve.sample`).

    The same draws `ResponseModel.response_draws` makes for a paid term, taken from the package's
    curve alone (so a degenerate organic fit, e.g. a ceiling at its bound, cannot break them).
    """
    return [term for _, term in paid_samples(model, package, minutes, n, seed)]


def paid_samples(model: ResponseModel, package: str, minutes: int, n: int, seed: int = 0
                 ) -> list[tuple[str, ResponseTerm]]:
    """`paid_draws` with the saturation family each term was drawn from."""
    rng = np.random.default_rng(seed)
    return [(curve.family, curve.term(minutes, np.ones(1), params))
            for curve, params in model.paid_[package].sample(rng, n)]


def typical_spend(panel: PanelLike, package: str) -> float:
    """Median positive spend of `package` in the panel (yuan/min); NaN if it never spent."""
    spend = np.asarray(panel.spend)[:, list(panel.packages).index(package)]
    return float(np.median(spend[spend > 0])) if np.any(spend > 0) else float("nan")


# -- tables ------------------------------------------------------------------------------------
def as_panel(data) -> PanelLike:
    """A history panel from a panel, a `History` or a campaign (their `.panel()`): a campaign
    or history passed where a panel goes failed on a missing column or a Timestamp compare."""
    return data.panel() if callable(getattr(data, "panel", None)) else data


def fit_summary(model: ResponseModel | ModelArtifact, panel, n_draws: int = 200, seed: int = 0
                ) -> pd.DataFrame:
    """One row per package of `panel` (a panel, `History` or campaign: `as_panel`; index:
    package id); columns in `SUMMARY_COLUMNS`. `model`: fitted, or `load_model`'s artifact.

    Marginal ROI intervals come from `n_draws` draws of each package's parameters (`paid_draws`,
    the paid part of `ResponseModel.response_draws`; `seed`).
    """
    panel, model = as_panel(panel), fitted_model(model)
    packages = list(panel.packages)
    fitted = [p for p in packages if p in model.paid_]
    minutes = model.session_minutes_
    leverage = spend_leverage(model, panel)
    rows = []
    point = model.response(minutes, fitted) if fitted else None
    for package in packages:
        x = typical_spend(panel, package)
        # NaN: no spend in history, nothing fitted
        lever, se_leverage = leverage.get(package, (np.nan, np.nan))
        row = {
            "family": "", "family_weight": np.nan, "half_life": np.nan, "half_life_se": np.nan,
            "carryover_stages": np.nan,
            "k": np.nan, "shape": np.nan, "typical_spend": x, "seen_spend": np.nan,
            "marginal_roi": np.nan, "marginal_roi_low": np.nan, "marginal_roi_high": np.nan,
            "organic_leverage": lever,
            "organic_leverage_low": lever - _Z * se_leverage,
            "organic_leverage_high": lever + _Z * se_leverage,
            "holdout_wape": np.nan, "noise_floor_wape": np.nan, "noise_floor_low": np.nan,
            "noise_floor_high": np.nan,
            "note": model.unfitted_.get(package, ""),
        }
        if package in model.paid_:
            curve = model.paid_[package]
            j = fitted.index(package)
            saturation = curve.saturation()
            sampled = [float(marginal_roi(term, x))
                       for term in paid_draws(model, package, minutes, n_draws, seed)]
            diagnostics = curve.diagnostics
            row |= {
                "family": curve.family,
                "family_weight": curve.family_weight,
                "half_life": curve.half_life(),
                "half_life_se": curve.half_life() * curve.standard_error("log_half_life"),
                "carryover_stages": curve.stages,
                "k": saturation.k,
                "seen_spend": np.nan if curve.seen_spend is None else curve.seen_spend,
                "shape": getattr(saturation, "shape", np.nan) if curve.family == "hill"
                else np.nan,
                "marginal_roi": float(marginal_roi(point.paid[j], x)),
                "marginal_roi_low": _quantile(sampled, (1 - LEVEL) / 2),
                "marginal_roi_high": _quantile(sampled, (1 + LEVEL) / 2),
                "holdout_wape": diagnostics.holdout_wape.get(curve.family, np.nan),
                "noise_floor_wape": (np.nan if diagnostics.noise_floor_wape is None
                                     else diagnostics.noise_floor_wape),
                "noise_floor_low": (np.nan if diagnostics.noise_floor_band is None
                                    else diagnostics.noise_floor_band[0]),
                "noise_floor_high": (np.nan if diagnostics.noise_floor_band is None
                                     else diagnostics.noise_floor_band[1]),
                "note": "; ".join(note for note in (
                    _delayed_peak(curve), "" if curve.identified else _not_identified(curve))
                    if note),
            }
        rows.append(row)
    frame = pd.DataFrame(rows, index=pd.Index(packages, name="package"))
    return frame[list(SUMMARY_COLUMNS)]


def spend_leverage(model: ResponseModel | ModelArtifact, panel) -> dict[str, tuple[float, float]]:
    """Package -> (organic yuan per paid yuan at the room's average organic level, its SE),
    for the packages the organic model fitted a leverage to (`panel` as in `fit_summary`):
    the fit's leverage and SE times `leverage_unit`."""
    panel, model = as_panel(panel), fitted_model(model)
    organic = model.organic_
    out = {}
    for package, lever in organic.leverage().items():
        unit = leverage_unit(model, panel, package)
        out[package] = (lever * unit, organic.standard_error(f"leverage:{package}") * unit)
    return out


def leverage_unit(model: ResponseModel, panel: PanelLike, package: str) -> float:
    """Yuan of the organic model's drive per paid yuan of `package`: 1 when spend levers
    organic GMV; when paid GMV does, the paid GMV per extra yuan at its typical spend
    (`marginal_roi`, taken as known), or per yuan over history when it has no curve."""
    if model.organic_.driver == "spend":
        return 1.0
    if package in model.paid_:
        term = model.paid_[package].term(model.session_minutes_, np.ones(1))
        return float(marginal_roi(term, typical_spend(panel, package)))
    j = list(panel.packages).index(package)
    return float(np.sum(panel.paid_gmv[:, j]) / max(float(np.sum(panel.spend[:, j])), 1e-12))


def _delayed_peak(curve: PackageCurve) -> str:
    """Where a delayed-peak carryover peaks and by when half its GMV has come in (minutes after
    the spend); empty for the geometric carryover (its peak is the minute of spend)."""
    if curve.stages == 1:
        return ""
    kernel = curve.carryover().kernel(int(np.ceil(20 * curve.half_life())) + 2)
    half = int(np.searchsorted(np.cumsum(kernel), 0.5))
    return (f"delayed peak ({curve.stages} carryover stages of {curve.half_life():.1f} min): "
            f"a yuan's paid GMV peaks {int(np.argmax(kernel))} min after the spend, half of it "
            f"has come in by {half} min")


def _not_identified(curve: PackageCurve) -> str:
    se = curve.standard_error("log_k")
    why = f"SE of log k {se:.1f}" if se > 0 else "k on the bound of its search range"
    return (f"half-saturation not identified ({why}):"
            " within the spend seen the curve is nearly straight and where it bends is unknown;"
            " its bands come from fits with k held from the estimate to half the spend seen")


def organic_summary(model: ResponseModel | ModelArtifact) -> pd.DataFrame:
    """The organic model in one row (index 'organic'); columns in `ORGANIC_COLUMNS`."""
    model = fitted_model(model)
    organic = model.organic_
    half_life = organic.half_life()
    ceiling, se_log_c = organic.ceiling(), organic.standard_error("log_c")
    diagnostics = organic.diagnostics
    row = {
        "driver": organic.driver,
        "half_life": half_life,
        "half_life_se": half_life * organic.standard_error("log_half_life"),
        "ceiling": ceiling,
        "ceiling_low": ceiling * np.exp(-min(_Z * se_log_c, 700.0)),
        "ceiling_high": ceiling * np.exp(min(_Z * se_log_c, 700.0)),
        "level": organic.level,
        "baseline": float(np.mean(organic.baseline(model.session_minutes_))),
        "dispersion": diagnostics.dispersion,
        "deviance": diagnostics.deviance,
        "n": diagnostics.n,
        "converged": diagnostics.converged,
        "note": "; ".join(note for note in (_ceiling_note(organic, se_log_c),
                                            _driver_note(organic)) if note),
    }
    return pd.DataFrame([row], index=pd.Index(["organic"], name="model"))[list(ORGANIC_COLUMNS)]


def _ceiling_note(organic: OrganicCurve, se_log_c: float) -> str:
    """Why the data do not identify the organic ceiling, or "" when they do."""
    if organic.ceiling_bound == "lower":
        return ("ceiling at the lower bound of its range: the uplift bends as fast as the model "
                "allows, so past the spend history saw its curvature is the bound's, not the "
                "data's (a cannibalising package's loss steepens there); organic forecasts of "
                "spend beyond history's rest on it")
    if organic.ceiling_bound == "upper":
        return ("ceiling at the upper bound of its range: over the spend history saw the uplift "
                "is straight, so where it saturates is unknown; organic forecasts of spend "
                "beyond history's rest on a straight uplift")
    if not organic.identified:
        return (f"ceiling not identified (SE of log c {se_log_c:.1f}): over the spend history "
                "saw the uplift barely bends, so its leverage is known better than where it "
                "saturates; intervals hold the ceiling at its estimate, on which organic "
                "forecasts rest the more spend goes beyond history's")
    return ""


CLOSE_DRIVERS = 0.01
"""A held-out deviance margin, as a share of the chosen drive's, within which the fit report
calls the organic model's two drives close. On random truths 1-10 of each kind
(benchmarks/results/organic_driver.txt) every choice against the truth's drive was by at most
1.0%, while half the right choices were by more; in issue 3's acceptance scenarios choices
against it by 0.08-2.6% flipped the sign of a clearly non-zero leverage. A wider margin would
put the note on most fits."""


def _driver_note(organic: OrganicCurve) -> str:
    """That the drive of the organic uplift was chosen over the other by less than
    `CLOSE_DRIVERS` of held-out deviance, or "" (a clear choice, or none made)."""
    scores = {key.split()[1]: deviance for key, deviance
              in organic.diagnostics.holdout_deviance.items() if key.startswith("driver ")}
    other = next((name for name in scores if name != organic.driver), None)
    if other is None or organic.driver not in scores:
        return ""
    margin = scores[other] / scores[organic.driver] - 1.0
    if margin >= CLOSE_DRIVERS:
        return ""
    drives = {"spend": "spend", "paid": "paid GMV"}
    return (f"the uplift's drive, {drives[organic.driver]}, was chosen over "
            f"{drives[other]} by {margin:.2%} of held-out deviance: the data barely tell them "
            "apart, and the split of the uplift between packages, even a leverage's sign, rests "
            f"on the choice (FitOptions.organic_driver=\"{other}\" fits the other)")


def _quantile(values: list[float], q: float) -> float:
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.quantile(finite, q)) if finite.size else float("nan")


# -- picture -----------------------------------------------------------------------------------
def binned(x: np.ndarray, y: np.ndarray, bins: int) -> pd.DataFrame:
    """Quantile bins of `x`: columns x (mean), y (mean), se (of the mean of y), n."""
    frame = pd.DataFrame({"x": x, "y": y})
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) < 2:
        frame["bin"] = 0
    else:
        frame["bin"] = pd.cut(frame["x"], edges, include_lowest=True, labels=False)
    grouped = frame.groupby("bin")
    table = grouped.agg(x=("x", "mean"), y=("y", "mean"), sd=("y", "std"), n=("y", "size"))
    table["se"] = table["sd"].fillna(0.0) / np.sqrt(table["n"])
    return table[["x", "y", "se", "n"]].reset_index(drop=True)


@chart_fonts()
def plot_curves(model: ResponseModel | ModelArtifact, panel, path: str | Path,
                n_draws: int = 200, bins: int = 15, seed: int = 0) -> Path:
    """One PNG: a panel per fitted package plus one for the organic uplift; returns the path.

    Package panels: the fitted paid GMV per minute at average traffic against a steady spend
    (mean over session minutes of ``scale * S(x)``), its 90% band from `n_draws` parameter draws,
    and the history binned into `bins` quantile bins of the positive adstocked spend (at the
    fitted half-life): mean ± 2 SE of paid GMV divided by the fitted time/day scale of its
    minute and multiplied by the session's mean scale (so it is comparable with the curve).
    The organic panel: uplift at average traffic against total steady spend in the history's
    package mix, with its band, and the binned history (organic GMV over the fitted baseline
    of its minute, minus one, times the mean baseline) against total adstocked spend.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path, panel, model = Path(path), as_panel(panel), fitted_model(model)
    packages = [p for p in panel.packages if p in model.paid_]
    minutes = model.session_minutes_
    point = model.response(minutes, packages) if packages else None
    session = np.asarray(panel.session)
    minute = np.asarray(panel.minute)
    spend_all = np.asarray(panel.spend, dtype=float)

    panels = len(packages) + 1
    columns = min(3, panels)
    rows = int(np.ceil(panels / columns))
    # A bare Figure on the Agg canvas: no pyplot state, the caller's backend is left alone.
    figure = Figure(figsize=(5.2 * columns, 4.0 * rows))
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)

    for i, package in enumerate(packages):
        ax = axes.flat[i]
        curve = model.paid_[package]
        j = list(panel.packages).index(package)
        spend = spend_all[:, j]
        adstock = curve.carryover().apply_sessions(spend, session)
        scale = curve.history_scale(minute, session, clock_minutes(panel.ts))
        k = packages.index(package)
        term = point.paid[k]
        mean_scale = float(np.mean(term.scale))
        active = adstock > 1e-9
        observed = binned(adstock[active],
                          np.asarray(panel.paid_gmv)[active, j] / scale[active] * mean_scale, bins)
        top = max(float(np.quantile(spend[spend > 0], 0.99)) if np.any(spend > 0) else 1.0,
                  float(observed["x"].max()) if len(observed) else 0.0) * 1.15
        grid = np.linspace(0.0, top, 200)
        sampled = np.array([np.mean(t.scale) * t.saturation(grid)
                            for t in paid_draws(model, package, minutes, n_draws, seed)])
        _draw_curve(ax, grid, mean_scale * term.saturation(grid), sampled, observed,
                    color="tab:blue")
        typical = typical_spend(panel, package)
        ax.axvline(typical, color="0.6", linestyle=":", linewidth=1.0,
                   label=f"median spend {typical:.0f}")
        if curve.seen_spend is not None:
            ax.axvline(curve.seen_spend, color="0.3", linestyle="--", linewidth=1.0,
                       label=f"history's reach {curve.seen_spend:.0f}")
        shape = f", s={curve.saturation().shape:.2f}" if curve.family == "hill" else ""
        stages = f" ×{curve.stages} (delayed peak)" if curve.stages > 1 else ""
        ax.set_title(f"{package}: {curve.family} k={curve.saturation().k:.0f}{shape}, "
                     f"half-life {curve.half_life():.1f} min{stages}", fontsize=10)
        ax.set_xlabel("steady spend / adstocked spend (yuan/min)")
        ax.set_ylabel("paid GMV at average traffic (yuan/min)")
        ax.legend(fontsize=7, loc="upper left")  # a rising curve leaves it empty

    _plot_organic(axes.flat[len(packages)], model, panel, bins, n_draws, seed)
    figure.suptitle(f"Fitted response curves ({model.n_sessions_} sessions, "
                    f"{LEVEL:.0%} bands from parameter draws, observed: mean ± 2 SE per bin)",
                    fontsize=12)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


def _draw_curve(ax, grid: np.ndarray, fitted: np.ndarray, sampled: np.ndarray,
                observed: pd.DataFrame, color: str) -> None:
    """Fitted line, its band from draws and the binned observations on one axis.

    The y range follows the line and the observations; a band reaching far beyond them (a
    poorly determined fit) is cut at the edge, and its legend entry says so.
    """
    points = [np.asarray(fitted, dtype=float), np.zeros(1)]
    if len(observed):
        points += [(observed["y"] - 2 * observed["se"]).to_numpy(),
                   (observed["y"] + 2 * observed["se"]).to_numpy()]
    finite = np.concatenate(points)
    finite = finite[np.isfinite(finite)]
    bottom, top = float(finite.min()), float(finite.max())
    margin = 0.6 * max(top - bottom, 1e-9)
    limits = (bottom - 0.05 * (top - bottom), top + 0.08 * (top - bottom))
    if len(sampled):
        low, high = np.nanquantile(sampled, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        clipped = bool(np.nanmin(low) < bottom - margin or np.nanmax(high) > top + margin)
        limits = (min(limits[0], max(float(np.nanmin(low)), bottom - margin)),
                  max(limits[1], min(float(np.nanmax(high)), top + margin)))
        ax.fill_between(grid, low, high, color=color, alpha=0.2, linewidth=0,
                        label=f"{LEVEL:.0%} band" + (" (cut at the frame)" if clipped else ""))
    ax.plot(grid, fitted, color=color, linewidth=2.0, label="fitted")
    if len(observed):
        ax.errorbar(observed["x"], observed["y"], yerr=2 * observed["se"], fmt="o",
                    color="black", markersize=3.5, elinewidth=1.0, capsize=2,
                    label="observed (binned, ±2 SE)")
    ax.grid(True, alpha=0.3)
    ax.set_xlim(left=0.0, right=float(grid[-1]))
    ax.set_ylim(*limits)


def organic_uplift(organic: OrganicCurve, drive: np.ndarray, mix: Mapping[str, float],
                   minutes: int, params: np.ndarray | None = None) -> np.ndarray:
    """Uplift (yuan/min) at the session's average baseline of a steady total `drive` (G,)
    yuan/min (spend or paid GMV, as `organic` was fitted) split between packages by `mix`
    (shares summing to 1), in the fit's form (`UpliftFactor`: driven by paid GMV,
    cannibalisation is linear); `params` a draw (None: the estimate)."""
    # c is clipped: a draw of log c far out (a ceiling at its bound has a huge SE) means
    # no saturation (c -> inf, G(z) = z) or none at all (c -> 0), not inf * 0.
    c = float(np.exp(np.clip(organic.param("log_c", params), -20.0, 27.0)))
    lever = organic.leverage(params)
    mixed = np.array([share * lever.get(p, 0.0) for p, share in mix.items()])
    gain, loss = (drive * part.sum() for part in split_leverage(mixed, organic.driver == "paid"))
    scale = np.mean(organic.baseline(minutes, params))
    return scale / organic.level * (c * -np.expm1(np.minimum(-gain / c, 700.0)) + loss)


def _plot_organic(ax, model: ResponseModel, panel: PanelLike, bins: int, n_draws: int,
                  seed: int) -> None:
    """Organic uplift against its total drive, spend or fitted paid GMV (see `plot_curves`)."""
    organic = model.organic_
    session = np.asarray(panel.session)
    packages = list(panel.packages)
    leverage = np.array([organic.leverage().get(p, 0.0) for p in packages])
    drive = model.organic_drive(panel)
    mix = drive.sum(axis=0) / max(float(drive.sum()), 1e-12)  # history's mix of the drive
    adstock = organic.carryover().apply_sessions(drive, session)
    total = adstock.sum(axis=1)
    base = organic.history_scale(np.asarray(panel.minute), session, clock_minutes(panel.ts))
    baseline = organic.baseline(model.session_minutes_)
    mean_base = float(np.mean(baseline))
    uplift = (np.asarray(panel.organic_gmv) / base - 1.0) * mean_base
    observed = binned(total, uplift, bins)
    top = max(float(np.quantile(total, 0.99)), float(observed["x"].max()), 1e-9)
    grid = np.linspace(0.0, top * 1.15, 200)

    def curve(params: np.ndarray | None) -> np.ndarray:
        return organic_uplift(organic, grid, dict(zip(packages, mix, strict=True)),
                              model.session_minutes_, params)

    rng = np.random.default_rng(seed)
    sampled = np.array([curve(d) for d in organic.draws(rng, n_draws)])
    _draw_curve(ax, grid, curve(None), sampled, observed, color="tab:green")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    mixed = float(mix @ leverage)
    ax.set_title(f"organic uplift: half-life {organic.half_life():.1f} min, "
                 f"c={organic.ceiling():.0f}, mix leverage {mixed:+.2f}", fontsize=10)
    what = "spend" if organic.driver == "spend" else "fitted paid GMV"
    ax.set_xlabel(f"total steady {what}, history mix / adstocked (yuan/min)")
    ax.set_ylabel("organic uplift at average traffic (yuan/min)")
    ax.legend(fontsize=7, loc="best")
