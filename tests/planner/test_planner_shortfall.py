"""The share of what a session owes that the rest can bring (`shortfall.ReachableShare`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from optimizer.planner import PlanningProblem, Replanner
from optimizer.planner.shortfall import SHARE_MARGIN, ReachableShare


def most_the_rest_brings(engine, whole, alone) -> float:
    """The share by another LP, on scipy's own HiGHS: the largest paid floor row the rest can
    hold with every other row as `alone` has it, against that row's bounds under `whole`
    (none forgiven) and `alone` (all forgiven)."""
    row = engine.formulation.rows["paid_floor"]
    engine.adjust = whole
    owed = engine.program(relaxed=True).row_lower[row]
    engine.adjust = alone
    lp = engine.program(relaxed=True)
    found = milp(-lp.matrix[[row]].toarray().ravel(),
                 constraints=LinearConstraint(lp.matrix, lp.row_lower, lp.row_upper),
                 bounds=Bounds(lp.col_lower, lp.col_upper))
    if found.status == 2:  # infeasible: even meeting the floor alone is out of reach
        return 0.0
    assert found.success, found.message
    return float(np.clip((-found.fun - lp.row_lower[row]) / (owed - lp.row_lower[row]), 0, 1))


@pytest.mark.parametrize("paid_factor", [0.2, 0.35])
def test_the_share_lp_kept_warm_across_re_plans_finds_the_share_of_a_fresh_lp(
        make_response, paid_factor, monkeypatch):
    """Each minute of a day below its floor, the re-planner's share LP starts from the last
    one's basis (its program grown by refinements, the day's level moved): the share it finds
    is the one another LP finds from scratch."""
    response = make_response(3, 40, seed=7, cannibal=True)
    replanner = Replanner(PlanningProblem(response=response, budget=6000.0, paid_roi_min=2.5))
    real, found = ReachableShare.__call__, []

    def checked(self, engine, whole, alone, seconds):
        share = real(self, engine, whole, alone, seconds)
        found.append((share, most_the_rest_brings(engine, whole, alone)))
        return share

    monkeypatch.setattr(ReachableShare, "__call__", checked)
    T, P = response.minutes, len(response.packages)
    spend, paid, organic = np.zeros((T, P)), np.zeros((T, P)), np.zeros(T)
    plan = replanner.plan
    for minute in range(1, 36):
        spend[minute - 1] = plan.spend[minute - 1]
        paid[minute - 1] = paid_factor * plan.paid_gmv[minute - 1]
        organic[minute - 1] = plan.organic_gmv[minute - 1]
        plan = replanner.replan(minute, spend[:minute], paid[:minute], organic[:minute])
    shares = np.array(found)
    assert len(shares) >= 10 and ((shares[:, 0] > 0.01) & (shares[:, 0] < 0.99)).sum() >= 5
    expected = np.clip(shares[:, 1] - SHARE_MARGIN, 0, 1)
    assert shares[:, 0] == pytest.approx(expected, abs=1e-5)
