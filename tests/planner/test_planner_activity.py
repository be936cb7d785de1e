"""Least spends when active: which cells the integer heuristic turns on (`_gathered`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.planner import PlanningProblem, integer, solve
from optimizer.planner.engine import Outcome


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(st.floats(0.0, 400.0), min_size=1, max_size=30),
       least=st.floats(1.0, 300.0))
def test_gathering_places_the_relaxed_spend_in_whole_minimums(cells, least):
    """Every cell the relaxation already spends a minimum in stays active, and the active cells
    (each at its minimum, or its relaxed spend if more) hold the relaxed total within half a
    minimum; gathered at whole minimums (share 1), never more than it."""
    spend, minimum = np.array(cells), np.full(len(cells), least)
    on = integer._gathered(spend, minimum, len(spend))
    assert on[spend >= least].all()
    placed = np.maximum(spend, least)[on].sum()
    assert abs(placed - spend.sum()) <= 0.5 * least * (1 + 1e-9) + 1e-9
    whole = integer._gathered(spend, minimum, len(spend), share=1.0)
    assert whole[spend >= least].all()
    assert spend.sum() - least * (1 + 1e-9) <= np.maximum(spend, least)[whole].sum() \
        <= spend.sum() * (1 + 1e-9) + 1e-9


def test_gathering_spreads_active_cells_where_the_relaxation_spends():
    """A relaxation at 30 yuan/min in every one of 40 minutes, with a least spend of 120: every
    fourth minute active, not the first ten (packed cells saturate each other through
    carryover)."""
    on = integer._gathered(np.full(40, 30.0), np.full(40, 120.0), 40)
    assert on.sum() == 10
    assert np.diff(np.flatnonzero(on)).tolist() == [4] * 9


@pytest.mark.parametrize("seed", range(4))
def test_a_package_the_relaxation_spreads_thin_still_runs(make_response, monkeypatch, seed):
    """Least spends six times the relaxation's mean spend per minute: the heuristic's plan alone
    (branch and bound left out) within 3% of the continuous bound. The thresholds alone
    (a cell on where the relaxation spends half a minimum) were 7-78% below it."""
    monkeypatch.setattr(integer, "_branch_and_bound",
                        lambda *args: Outcome("failed", cause="time_limit"))
    base = PlanningProblem(response=make_response(3, 120, seed=seed), budget=6000.0)
    relaxed = solve(base)
    least = 6.0 * relaxed.spend.sum(axis=0) / 120
    plan = solve(replace(base, min_spend_when_active=least))
    active = plan.spend > 0
    assert (plan.spend[active] >= np.broadcast_to(least, active.shape)[active] * (1 - 1e-9)).all()
    assert plan.mip_gap is not None and plan.mip_gap <= 0.03
    assert plan.exact_objective_value >= 0.97 * relaxed.exact_objective_value


def test_packages_held_to_their_least_spend_share_a_tight_budget(make_response, monkeypatch):
    """Every package's least spend above its reach, so each runs at exactly that or not at all,
    and the budget a third of what they could spend together: gathered at half a minimum the
    active cells broke the budget, and the heuristic had no plan here (on the demo, with every
    least spend 1.5 times the reach, the thresholds' plan was 62% below the bound). Gathered
    at more of a minimum they fit it."""
    monkeypatch.setattr(integer, "_branch_and_bound",
                        lambda *args: Outcome("failed", cause="time_limit"))
    response = make_response(3, 120, seed=2)
    free = solve(PlanningProblem(response=response, budget=6000.0))
    reach = 0.5 * free.spend.max(axis=0)
    least = 1.5 * reach
    problem = PlanningProblem(response=response, budget=float(least.sum()) * 120 / 3,
                              spend_reach=reach, min_spend_when_active=least)
    plan = solve(problem)
    active = plan.spend > 0
    assert np.allclose(plan.spend[active], np.broadcast_to(least, active.shape)[active])
    assert plan.total_spend <= problem.budget * (1 + 1e-9)
    assert plan.mip_gap is not None and plan.mip_gap <= 0.03
