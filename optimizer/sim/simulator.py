"""The live-room simulator: a scenario's known truth, its noisy draws and operator-like spend.

Minute-level model (τ = minute of the session, m(τ) the traffic profile, yuan per minute):

- paid GMV of package p: ``δ_d δ_p V_p m^γ_p S_p(carryover_p(spend_p))``;
- organic GMV: ``δ_d (B m + U)``, with uplift
  ``U = m (Umax (1 - exp(-Σ ℓ⁺_p u_p / Umax)) + Σ ℓ⁻_p u_p)``, u_p the organic carryover of
  spend_p and ℓ± the positive / negative parts of the packages' organic leverage;
- δ_d (room) and δ_p (package) are day factors with mean 1.

`response` writes this as a `SessionResponse` (baseline + concave terms), the same object the
planner optimises, and `expected` only evaluates it: there is one code path for the truth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover, Exponential, Linear
from optimizer.sim.noise import draw_orders, mean_one_lognormal
from optimizer.sim.operator import operator_spend
from optimizer.sim.outcome import Expected, Realised
from optimizer.sim.scenario import Scenario
from optimizer.sim.spend import Spend, spend_array

if TYPE_CHECKING:
    from optimizer.sim.history import SimulatedHistory

PackageFactors = Mapping[str, float] | Sequence[float] | np.ndarray | None


class LiveRoomSimulator:
    """Simulates one room of a `Scenario`; see the module docstring for the model."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    @property
    def packages(self) -> tuple[str, ...]:
        return self.scenario.package_ids

    def levels(self, minutes: int | None = None, clock: dt.time | None = None) -> np.ndarray:
        """Traffic profile m(τ), shape (T,); T defaults to the scenario's session length. With
        a scenario `clock`, times its multiplier from the session's start `clock` (default:
        the scenario's start time)."""
        minutes = minutes or self.scenario.session.minutes
        levels = self.scenario.profile.levels(minutes)
        if self.scenario.clock is None:
            return levels
        return levels * self.scenario.clock.levels(clock or self.scenario.session.start, minutes)

    def response(
        self,
        minutes: int | None = None,
        day_factor: float = 1.0,
        package_factors: PackageFactors = None,
        clock: dt.time | None = None,
    ) -> SessionResponse:
        """The truth for one session of `minutes` (default: the scenario's session length)
        starting at `clock` (default: the scenario's start time; see `levels`).

        day_factor δ_d and package_factors δ_p (by package id, or in package order) default to
        1: the expectation over days. Paid terms come first in package order, then the positive
        uplift term (if some ℓ > 0 and Umax > 0), then the cannibalisation term (if some ℓ < 0).
        """
        m = self.levels(minutes, clock)
        room = self.scenario.room
        packages = self.scenario.packages.values()
        factors = day_factor * self._package_factors(package_factors)
        one_hot = np.eye(len(packages))
        paid = tuple(
            ResponseTerm(
                scale=factor * truth.max_gmv_per_minute * m**truth.peak_sensitivity,
                saturation=truth.saturation,
                carryover=truth.carryover,
                weights=weights,
            )
            for factor, truth, weights in zip(factors, packages, one_hot, strict=True)
        )
        leverage = np.array([truth.organic_leverage for truth in packages])
        gain, loss = np.maximum(leverage, 0.0), np.minimum(leverage, 0.0)
        umax = room.uplift_max_per_minute
        driver = "paid" if room.organic_driver == "paid_gmv" else "spend"
        uplift = []
        if umax > 0 and gain.any():
            saturating = Exponential(k=umax)
            uplift.append(ResponseTerm(day_factor * m * umax, saturating, room.organic_carryover,
                                       gain, driver))
        if loss.any():
            uplift.append(ResponseTerm(day_factor * m, Linear(), room.organic_carryover, loss,
                                       driver))
        return SessionResponse(
            packages=self.packages,
            baseline=day_factor * room.baseline_per_minute * m,
            paid=paid,
            uplift=tuple(uplift),
        )

    def expected(
        self,
        spend: Spend,
        *,
        start: str | pd.Timestamp | None = None,
        day_factor: float = 1.0,
        package_factors: PackageFactors = None,
    ) -> Expected:
        """Expected GMV of one session under `spend` (yuan/min).

        A spend frame covers the scenario's session length from `start` (default: the first
        row's date at the scenario's start time); minutes without a row have no spend. The
        session starts at `start`'s clock time (default: the scenario's start time).
        Uplift is organic minus baseline (organic GMV never goes below 0).
        """
        spend = spend_array(spend, self.packages, self.scenario.session, start)
        clock = None if start is None else pd.Timestamp(start).time()
        truth = self.response(len(spend), day_factor, package_factors, clock)
        organic = truth.organic_gmv(spend)
        return Expected(
            spend=spend,
            paid_gmv=truth.paid_gmv(spend),
            organic_gmv=organic,
            baseline=truth.baseline,
            uplift=organic - truth.baseline,
        )

    def sample(
        self,
        spend: Spend,
        rng: np.random.Generator,
        *,
        start: str | pd.Timestamp | None = None,
        day_factor: float = 1.0,
        package_factors: PackageFactors = None,
    ) -> Realised:
        """One noisy draw of the session around `expected(...)` (see `optimizer.sim.noise`).

        Impressions ~ Poisson(spend · 1000 / cpm), clicks ~ Binomial(impressions, ctr) but at
        least the paid orders; organic views ~ Poisson(views_per_order · organic orders
        expected); online viewers are the arrivals (views + clicks) still in the room.
        """
        mean = self.expected(
            spend, start=start, day_factor=day_factor, package_factors=package_factors
        )
        room = self.scenario.room
        packages = self.scenario.packages.values()
        aov = np.array([truth.aov for truth in packages])
        noise = {"shape": room.order_value_shape, "dispersion": room.dispersion}
        paid_gmv, paid_orders = draw_orders(rng, mean.paid_gmv, aov, **noise)
        organic_gmv, organic_orders = draw_orders(rng, mean.organic_gmv, room.aov, **noise)
        cpm = np.array([truth.cpm for truth in packages])
        ctr = np.array([truth.ctr for truth in packages])
        impressions = rng.poisson(mean.spend * 1000.0 / cpm)
        clicks = np.maximum(rng.binomial(impressions, ctr), paid_orders)
        views = rng.poisson(mean.organic_gmv / room.aov * room.views_per_order)
        stay = Carryover(half_lives=(room.viewer_stay_half_life,))
        online = stay.apply(views + clicks.sum(axis=1)) / (1.0 - stay.decays[0])
        return Realised(
            spend=mean.spend,
            paid_gmv=paid_gmv,
            organic_gmv=organic_gmv,
            paid_orders=paid_orders,
            organic_orders=organic_orders,
            impressions=impressions,
            clicks=clicks,
            organic_views=views,
            online_viewers=np.rint(online).astype(int),
        )

    def draw_factors(self, rng: np.random.Generator) -> tuple[float, dict[str, float]]:
        """One session's day factor δ_d and package factors δ_p, lognormal with mean 1."""
        sigmas = [truth.day_sigma for truth in self.scenario.packages.values()]
        day = float(mean_one_lognormal(rng, self.scenario.room.day_sigma))
        return day, dict(zip(self.packages, mean_one_lognormal(rng, sigmas).tolist(), strict=True))

    def operator_spend(self, rng: np.random.Generator, minutes: int | None = None,
                       clock: dt.time | None = None) -> np.ndarray:
        """Operator-like spend of one session starting at `clock` (see `levels`), shape (T, P),
        yuan/min with 2 decimals."""
        typical = np.array([truth.typical_spend for truth in self.scenario.packages.values()])
        return operator_spend(rng, self.scenario.operator, self.levels(minutes, clock), typical)

    def history(self, days: int, seed: int) -> SimulatedHistory:
        """`days` sessions on consecutive days from `first_day`, in the contract's table format."""
        from optimizer.sim.history import simulate_history  # history builds on this module

        return simulate_history(self, days, seed)

    def _package_factors(self, factors: PackageFactors) -> np.ndarray:
        """δ_p as a (P,) array in package order; None means all 1."""
        if factors is None:
            return np.ones(len(self.packages))
        if isinstance(factors, Mapping):
            unknown = set(factors) - set(self.packages)
            if unknown:
                raise ValueError(f"package factors for unknown packages: {sorted(unknown)}")
            return np.array([factors.get(p, 1.0) for p in self.packages], dtype=float)
        array = np.asarray(factors, dtype=float)
        if array.shape != (len(self.packages),):
            raise ValueError(f"package factors need shape ({len(self.packages)},): {array.shape}")
        return array
