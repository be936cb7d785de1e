"""Merging the breakpoints a re-planned program no longer needs (`prune`)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from optimizer.planner import PlanningProblem, Replanner
from optimizer.planner import replan as replan_module
from optimizer.planner.prune import prune


def bad_day(replanner: Replanner, minutes: int, paid_factor: float):
    """Re-plan minutes 1..`minutes` of a bidder that follows the newest plan and earns
    `paid_factor` of its paid GMV; the plans, and the last actuals (spend, paid, organic)."""
    T, P = replanner.problem.minutes, len(replanner.problem.packages)
    spend, paid, organic = np.zeros((T, P)), np.zeros((T, P)), np.zeros(T)
    plan, plans = replanner.plan, []
    for minute in range(1, minutes + 1):
        spend[minute - 1] = plan.spend[minute - 1]
        paid[minute - 1] = paid_factor * plan.paid_gmv[minute - 1]
        organic[minute - 1] = plan.organic_gmv[minute - 1]
        plan = replanner.replan(minute, spend[:minute], paid[:minute], organic[:minute])
        plans.append(plan)
    return plans, (spend[:minutes], paid[:minutes], organic[:minutes])


@pytest.fixture
def problem(make_response):
    response = make_response(3, 40, seed=7, cannibal=True)
    return PlanningProblem(response=response, budget=6000.0, paid_roi_min=2.5)


def test_pruned_at_a_certified_plan_the_program_keeps_its_optimum_certified(
        problem, monkeypatch):
    """Merged chords interpolate the curves at the breakpoints around the plan's indexes:
    the program's best value is the plan's, certified within tolerance without a
    refinement round, solved from scratch."""
    monkeypatch.setattr(replan_module, "SEGMENT_GROWTH", math.inf)
    replanner = Replanner(problem)
    bad_day(replanner, 25, 0.6)
    engine, f = replanner.engine, replanner.engine.formulation
    before = engine.solve_continuous(time.perf_counter() + 30)
    segments = len(f.seg_cell)
    prune(f, f.cell_index(before.spend), f.cell_minute < 25)
    engine.reset()
    cold = engine.solve_continuous(time.perf_counter() + 30)
    assert len(f.seg_cell) < 0.7 * segments
    assert cold.rounds == 1 and cold.status == before.status == "optimal"
    assert cold.program_objective == pytest.approx(before.program_objective, rel=1e-9)


def test_a_pruned_program_starts_from_the_plan_s_basis(problem, monkeypatch):
    """The basis carried across the merge is the pruned program's optimum: no simplex
    iteration, and the plan, value and bound of the program before."""
    monkeypatch.setattr(replan_module, "SEGMENT_GROWTH", math.inf)
    replanner = Replanner(problem)
    bad_day(replanner, 25, 0.6)
    engine, f = replanner.engine, replanner.engine.formulation
    before = engine.solve_continuous(time.perf_counter() + 30)
    engine.pruned(prune(f, f.cell_index(before.spend), f.cell_minute < 25))
    after = engine.solve_continuous(time.perf_counter() + 30)
    assert engine.backend.h.getInfo().simplex_iteration_count == 0
    assert after.rounds == 1
    assert after.program_objective == pytest.approx(before.program_objective, rel=1e-9)
    assert after.bound == pytest.approx(before.bound, rel=1e-7)
    assert np.allclose(after.spend, before.spend, atol=1e-6 * before.spend.max())


def test_each_cell_keeps_its_range_its_first_breakpoints_and_the_plan_s_bracket(
        problem, monkeypatch):
    """Segments still tile every cell from its start to its top; a cell ahead keeps the
    first breakpoints; a past cell only those around its (fixed) index."""
    monkeypatch.setattr(replan_module, "SEGMENT_GROWTH", math.inf)
    replanner = Replanner(problem)
    bad_day(replanner, 25, 0.6)
    f = replanner.engine.formulation
    index = f.cell_index(replanner.settings)
    bare = f.cell_minute < 25
    prune(f, index, bare)
    again = prune(f, index, bare)
    assert np.array_equal(again, np.arange(len(f.seg_cell)))  # nothing more to merge
    T = problem.minutes
    for cell in range(len(f.cell_lo)):
        mine = f.seg_cell == cell
        a, b = np.sort(f.seg_a[mine]), np.sort(f.seg_b[mine])
        assert np.array_equal(a[1:], b[:-1]) and b[-1] == f.cell_top[cell]
        assert a[0] == f.cell_lo[cell]
        assert ((a <= index[cell]) & (index[cell] <= b)).any() or index[cell] > b[-1]
        if bare[cell]:
            assert len(a) <= 3
        else:
            first = f.initial_points[cell // T]
            assert np.isin(first[first < b[-1]], a).all()


def test_re_plans_pruned_at_every_minute_plan_as_re_plans_never_pruned(problem, monkeypatch):
    """A day below its floor (the shortfall LP's basis carried across the merges too): the
    same plans, the same shares of what the session owes, within the planner's
    tolerance."""
    runs = {}
    for growth in (0.0, math.inf):
        monkeypatch.setattr(replan_module, "SEGMENT_GROWTH", growth)
        replanner = Replanner(problem)
        runs[growth] = (bad_day(replanner, 30, 0.35)[0], len(replanner.engine.formulation.seg_cell))
    (pruned, few), (kept, many) = runs[0.0], runs[math.inf]
    assert few < many
    assert sum(any("misses them" in w for w in plan.warnings) for plan in kept) >= 10
    for a, b in zip(pruned, kept, strict=True):
        assert a.status == b.status == "optimal"
        assert a.warnings == b.warnings
        assert a.expected_total_gmv == pytest.approx(b.expected_total_gmv,
                                                     rel=problem.tolerance)


def test_a_merged_segment_takes_the_status_its_parts_had():
    """Basic when one part was, full (upper) when most parts were, else empty (lower);
    segments appended after the basis was taken count as empty. A merge of two basic parts
    leaves a basis with fewer basic columns than rows: none."""
    from optimizer.planner.backends import BASIC, LOWER, UPPER
    from optimizer.planner.warm import merged_basis

    rows = np.array([BASIC, LOWER])
    base = [BASIC, LOWER]  # two columns before the segments
    basis = np.array(base + [UPPER, UPPER, BASIC, LOWER, UPPER, LOWER], dtype=np.int8), rows
    merged = np.array([0, 0, 1, 1, 2, 2, 2])  # the last segment appended since
    cols, kept = merged_basis(basis, 2, merged)
    assert cols.tolist() == base + [UPPER, BASIC, LOWER] and kept is rows
    cols, _ = merged_basis(basis, 2, np.array([0, 0, 0, 0, 1, 1, 1]))
    assert cols.tolist() == base + [BASIC, LOWER]  # one of three parts full: empty
    two_basic = np.array(base + [BASIC, BASIC, LOWER, LOWER, LOWER, LOWER], dtype=np.int8)
    assert merged_basis((two_basic, rows), 2, merged) is None
    assert merged_basis(basis, 2, merged[:5]) is None  # a basis of a longer program
    assert merged_basis(None, 2, merged) is None


def test_the_first_shortfall_lp_is_solved_on_the_pruned_program(problem, monkeypatch):
    """It starts cold (no basis held yet): on as few segments as the plan in force needs.
    Later ones start from its basis and prune only past the growth bound."""
    monkeypatch.setattr(replan_module, "SEGMENT_GROWTH", math.inf)
    pruned, real = [], replan_module.prune
    monkeypatch.setattr(replan_module, "prune", lambda *a: pruned.append(1) or real(*a))
    replanner = Replanner(problem)
    plans, _ = bad_day(replanner, 25, 0.35)
    short = [k for k, plan in enumerate(plans) if any("misses" in w for w in plan.warnings)]
    assert len(short) >= 5 and pruned == [1] and replanner.reachable_share.warm
