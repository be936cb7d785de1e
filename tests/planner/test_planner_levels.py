"""Level-change rules: `fewest_changes`, `change_pattern` and the integer heuristic on them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.planner import PlanningProblem, PlatformRules, integer, solve
from optimizer.planner.engine import Outcome
from optimizer.planner.levels import change_pattern, fewest_changes


def _brute_force(levels: np.ndarray, changes: int) -> float:
    """Least squared error over every way to cut `levels` into at most changes + 1 pieces."""
    S, best = len(levels), np.inf
    for k in range(min(changes, S - 1) + 1):
        for cuts in itertools.combinations(range(1, S), k):
            bounds = (0, *cuts, S)
            error = sum(((levels[a:b] - levels[a:b].mean()) ** 2).sum()
                        for a, b in itertools.pairwise(bounds))
            best = min(best, error)
    return best


@settings(max_examples=40, deadline=None)
@given(levels=st.lists(st.floats(0, 500), min_size=1, max_size=8), changes=st.integers(0, 8))
def test_fewest_changes_is_the_least_squares_piecewise_constant_sequence(levels, changes):
    levels = np.array(levels)
    held = fewest_changes(levels, changes)
    assert np.count_nonzero(np.abs(np.diff(held)) > 1e-9) <= changes
    error = ((held - levels) ** 2).sum()
    assert error == pytest.approx(_brute_force(levels, changes), rel=1e-9, abs=1e-6)
    for piece in np.split(np.arange(len(levels)), np.flatnonzero(np.diff(held)) + 1):
        assert held[piece] == pytest.approx(levels[piece].mean())  # each piece at its mean


def test_the_pattern_holds_moves_below_the_step_and_keeps_the_direction():
    levels = np.array([100.0, 100, 130, 130, 40, 40, 45, 200])
    up, down = change_pattern(levels, changes=None, step=50.0)
    assert up.tolist() == [0, 0, 0, 0, 0, 0, 1]  # +30 and +5 held flat, +155 kept
    assert down.tolist() == [0, 0, 0, 1, 0, 0, 0]  # -90 kept
    up, down = change_pattern(levels, changes=1, step=None)
    assert up.sum() + down.sum() == 1


def test_platform_rules_get_a_plan_even_when_branch_and_bound_finds_none(make_response,
                                                                           monkeypatch):
    """The heuristic's plan (change pattern, then whole units, each refilled) meets every rule
    exactly; without it, a branch and bound that stops empty-handed left no plan at all."""
    monkeypatch.setattr(integer, "_branch_and_bound",
                        lambda *args: Outcome("failed", cause="time_limit"))
    step, unit, changes = 40.0, 10.0, 2
    problem = PlanningProblem(response=make_response(3, 60, seed=4), budget=9000.0,
                              slot_minutes=5, paid_roi_min=1.5,
                              rules=PlatformRules(max_changes=changes, change_step=step,
                                                  spend_unit=unit))
    plan = solve(problem)
    assert plan.status in ("optimal", "feasible") and plan.total_spend > 0
    levels = plan.spend[:: problem.slot_minutes]
    moves = np.abs(np.diff(levels, axis=0))
    changed = moves > 1e-7
    assert (changed.sum(axis=0) <= changes).all()
    assert (moves[changed] >= step * (1 - 1e-9)).all()
    assert np.allclose(levels / unit, np.round(levels / unit), rtol=0, atol=1e-6)
    assert plan.total_spend <= problem.budget * (1 + 1e-9)
    assert plan.expected_paid_gmv >= 1.5 * plan.total_spend * (1 - 1e-9)
    relaxed = solve(problem.continuous())
    assert plan.expected_total_gmv >= 0.9 * relaxed.expected_total_gmv
