"""Forecast intervals against the simulator's truth: do 90% intervals hold 90% of sessions?

benchmarks/bench_forecast_coverage.py measures this over 44 histories; here a smaller guard on
the default scenario (history seeds 1-6, 21 sessions each), each scored on 40 sessions realised
under the truth with an operator's schedule.
"""

from __future__ import annotations

import numpy as np
import pytest
from fits import fitted

from optimizer.data import History
from optimizer.sim import LiveRoomSimulator, Scenario

pytestmark = pytest.mark.slow  # six fits of 21 sessions: about a minute

SEEDS, SESSIONS, LEVEL = range(1, 7), 40, 0.9


def _covered(seed: int) -> np.ndarray:
    """(SESSIONS, 3): whether each realised session's paid, organic and total GMV falls in
    the 90% interval of 200 `response_draws` for the same schedule."""
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    simulated = sim.history(21, seed=seed)
    panel = History.from_frames(simulated.spend, simulated.room)[0].panel(sim.packages)
    model = fitted(panel)
    rng = np.random.default_rng(100 + seed)
    spend = sim.operator_spend(rng)
    draws = model.response_draws(len(spend), 200, sim.packages, seed=seed)
    drawn = np.array([(d.paid_gmv(spend).sum(), d.organic_gmv(spend).sum()) for d in draws])
    low, high = np.quantile(np.c_[drawn, drawn.sum(axis=1)], [(1 - LEVEL) / 2, (1 + LEVEL) / 2],
                            axis=0)
    realised = []
    for _ in range(SESSIONS):
        day, factors = sim.draw_factors(rng)
        session = sim.sample(spend, rng, day_factor=day, package_factors=factors)
        paid, organic = session.paid_gmv.sum(), session.organic_gmv.sum()
        realised.append((paid, organic, paid + organic))
    realised = np.array(realised)
    return (low <= realised) & (realised <= high)


def test_90_percent_intervals_hold_about_90_percent_of_realised_sessions():
    """Coverage of paid, organic and total GMV over 240 sessions within 3 binomial standard
    errors of 0.9 (0.058); measured 90.4%, 91.3% and 92.5%. Sessions of one history share its
    fit, so the real spread is wider than the binomial's, and a shortfall of a few points is
    not resolved here: drawing history's own days held 87.9%, 92.9% and 90.0% on these
    sessions, and 85.5% of paid GMV over the benchmark's 24 histories of the builtin
    scenarios, where continuous day draws hold 87.5% (benchmarks/results/forecast_coverage.txt)."""
    covered = np.concatenate([_covered(seed) for seed in SEEDS])
    tolerance = 3 * np.sqrt(LEVEL * (1 - LEVEL) / len(covered))
    for name, share in zip(("paid", "organic", "total"), covered.mean(axis=0), strict=True):
        assert share == pytest.approx(LEVEL, abs=tolerance), name
