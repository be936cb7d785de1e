"""The service's planner on a model whose organic uplift follows paid GMV: plans, bidding
thresholds (by the chain rule through the paid curves) and re-plans from actuals."""

from __future__ import annotations

import numpy as np
import pytest
from api_support import demo_config, replanned_overspent
from fits import fitted

from optimizer.api.campaign import from_model, model_file, parse_config
from optimizer.api.planning import Limits, Planner
from optimizer.curves import FitOptions, save_model
from optimizer.data import History
from optimizer.planner.forecast import marginal_gmv
from optimizer.sim import LiveRoomSimulator, random_scenario


@pytest.fixture(scope="module")
def campaign(data_dir):
    sim = LiveRoomSimulator(random_scenario(2, paid_driven=True))
    simulated = sim.history(21, seed=2)
    panel = History.from_frames(simulated.spend, simulated.room)[0].panel(sim.packages)
    model = fitted(panel, FitOptions(organic_driver="paid"))
    save_model(model, data_dir / "models" / "paid.json")
    config = parse_config(demo_config(packages={
        "fans": {"max_spend_per_minute": 400, "min_spend_when_active": 30}}),
        data_dir, history=False)
    return from_model(config, model_file("models/paid.json", data_dir), "models/paid.json")


@pytest.mark.slow
def test_a_paid_driven_model_plans_bids_and_replans(campaign):
    planner = Planner()
    response = campaign.response()
    assert response.paid_driven
    first = planner.solve(planner.problem(campaign, response, 60))
    assert first.status in ("optimal", "feasible")
    assert first.spend.sum() <= 80000 * (1 + 1e-9)
    steps = Limits.of(campaign.config, campaign.packages).first_steps
    expected = marginal_gmv(response, first.spend, first_steps=steps)
    assert np.all(np.isfinite(first.marginal_roi))
    np.testing.assert_allclose(first.marginal_roi, expected)
    # the uplift reaches spend through the paid curves: a package that levers organic GMV
    # (positive leverage) is worth more than its paid GMV alone wherever it spends
    paid_only = marginal_gmv(response, first.spend, paid_only=True, first_steps=steps)
    levering = (first.spend > 0) & (response.uplift[0].weights > 0)[None, :]
    assert levering.any() and np.all(expected[levering] > paid_only[levering])
    m = 10
    actuals, again = replanned_overspent(planner, campaign, response, first.spend, m)
    np.testing.assert_array_equal(again.spend[:m], actuals.spend)
    assert again.spend.sum() <= 80000 * (1 + 1e-9) and again.from_minute == m
