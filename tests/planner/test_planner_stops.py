"""A solver that stops (time limit, numerical failure) is never reported as infeasibility."""

from __future__ import annotations

import time
import types

import numpy as np
import pytest

from optimizer.errors import InputError
from optimizer.planner import PlanningProblem, solve
from optimizer.planner.backends import HighsBackend, Solution
from optimizer.planner.plan import NoPlanInTime, SolverFailure
from optimizer.planner.program import Formulation


@pytest.fixture
def stop_at(monkeypatch):
    """stop_at(call, status): the backend's `call`-th solve (1-based) and later ones return
    `status` without a plan."""

    def install(call: int, status: str) -> None:
        real, calls = HighsBackend.solve, []

        def solve_or_stop(self, *args, **kwargs):
            calls.append(1)
            return Solution(status) if len(calls) >= call else real(self, *args, **kwargs)

        monkeypatch.setattr(HighsBackend, "solve", solve_or_stop)

    return install


def problem(make_response, **settings):
    response = make_response(3, 30, seed=1, cannibal=True)
    return PlanningProblem(response=response, **({"budget": 5000.0} | settings))


def test_time_limit_without_any_plan_asks_for_more_time(make_response, stop_at):
    stop_at(1, "time_limit")
    with pytest.raises(NoPlanInTime) as raised:
        solve(problem(make_response, paid_roi_min=2.0, time_limit=7.0))
    assert isinstance(raised.value, InputError)  # the CLI's exit status 2, not 3
    assert raised.value.where == "planner.time_limit"
    assert "within the time limit of 7 s" in raised.value.message
    assert "does not mean that the requirements cannot be met" in raised.value.message


def test_a_later_round_that_stops_keeps_the_plan_in_hand(make_response, stop_at):
    stop_at(2, "time_limit")
    plan = solve(problem(make_response, paid_roi_min=2.0))
    assert plan.status == "feasible"
    assert plan.total_spend > 0 and plan.infeasibility is None
    assert any("stopped by the time limit" in w for w in plan.warnings)


def test_a_solver_failure_is_an_internal_error_not_infeasibility(make_response, stop_at):
    stop_at(1, "error")
    with pytest.raises(SolverFailure, match="numerical trouble, not infeasibility"):
        solve(problem(make_response, paid_roi_min=2.0))


def test_a_diagnosis_that_cannot_finish_claims_no_numbers(make_response, stop_at):
    stop_at(3, "time_limit")  # infeasible twice (restricted, then whole ranges); then stops
    plan = solve(problem(make_response, objective="min_spend", gmv_target=1e9, time_limit=5.0))
    assert plan.status == "infeasible"
    assert "time limit ended before the diagnosis" in plan.infeasibility.message
    assert plan.infeasibility.best == {}


def test_a_stalled_simplex_hands_over_to_the_interior_point_method(make_response, monkeypatch):
    """Dual simplex once ran out a 60 s limit on a 3,122-row program that the interior-point
    method solves in 0.5 s: the first method gets a share of the time, then the other runs."""
    real, runs = HighsBackend._run, []

    def stalling(self, method):
        limit = self.h.getOptionValue("time_limit")  # (status, value) from highspy's core
        limit = limit[1] if isinstance(limit, tuple) else limit
        runs.append((method, limit - self.h.getRunTime()))
        return Solution("time_limit") if method == "simplex" else real(self, method)

    monkeypatch.setattr(HighsBackend, "_run", stalling)
    plan = solve(problem(make_response, paid_roi_min=2.0, time_limit=40.0))
    assert plan.status == "optimal" and not plan.warnings
    assert plan.expected_paid_gmv >= 2.0 * plan.total_spend * (1 - 1e-9)
    first, then = runs[0], runs[1]
    assert first[0] == "simplex" and first[1] <= 5.0 + 1e-6
    assert then[0] == "ipm" and then[1] > 30.0


def test_a_short_run_keeps_its_method_and_its_basis_for_the_next(make_response, monkeypatch):
    """With a re-plan's time (under 2 s), the interior-point method from scratch rarely ended
    in what the simplex left, and the switch cleared the simplex's basis: the next re-plan
    started cold and stopped too (80 minutes of fallbacks in a row on the demo). The simplex
    now keeps all of a short time, and a run it does not end leaves its basis to the next."""
    real, runs = HighsBackend._run, []

    def stopping(self, method):
        runs.append(method)
        return Solution("time_limit") if len(runs) == 2 else real(self, method)

    monkeypatch.setattr(HighsBackend, "_run", stopping)
    backend = HighsBackend()
    lp = Formulation(problem(make_response, paid_roi_min=2.0)).program()
    backend.load(lp)
    assert backend.solve(1.0).status == "optimal"  # a basis to keep
    assert backend.solve(1.0).status == "time_limit" and runs == ["simplex", "simplex"]
    assert backend.h.getBasis().valid


@pytest.mark.parametrize("budget", [1e-9, 1e12])
def test_extreme_budgets_are_planned_with_words_that_hold(make_response, budget):
    plan = solve(problem(make_response, budget=budget, paid_roi_min=2.0))
    assert plan.status in ("optimal", "feasible")
    assert plan.total_spend <= budget * (1 + 1e-9)
    if plan.total_spend > 0:
        assert plan.expected_paid_gmv >= 2.0 * plan.total_spend * (1 - 1e-9)
    assert not any("time limit" in w for w in plan.warnings)


def test_slots_of_any_length_that_divides_the_session(make_response):
    response = make_response(2, 42, seed=3)
    for slot in (2, 3, 6, 7, 14):
        plan = solve(PlanningProblem(response=response, budget=4000.0, slot_minutes=slot))
        levels = plan.spend.reshape(-1, slot, 2)
        assert np.allclose(levels, levels[:, :1, :])
        assert plan.total_spend == pytest.approx(4000.0)
    with pytest.raises(InputError, match="not a whole number of slots"):
        PlanningProblem(response=response, budget=4000.0, slot_minutes=5)


def test_a_mip_run_is_interrupted_at_the_wall_clock_deadline():
    """HiGHS's branch and bound overran its own time limit (22.5 s on 9.55 s): the backend's
    MIP callback stops it at the deadline, and clears the flag before it (HiGHS keeps it
    from one run to the next)."""
    deadline = HighsBackend()._deadline
    flag = types.SimpleNamespace(user_interrupt=True)
    deadline.at = time.perf_counter() + 60.0
    deadline.interrupt(None, "", None, flag, None)
    assert flag.user_interrupt is False
    deadline.at = time.perf_counter() - 1.0
    deadline.interrupt(None, "", None, flag, None)
    assert flag.user_interrupt is True


def test_a_backend_dropped_is_freed_with_its_model(make_response):
    """HiGHS holds its callback where the garbage collector cannot see it; the callback was a
    method of the backend, so every backend leaked with its model (3.5 MB per demo re-plan
    program, one new backend per plan and per re-plan past the edge of the floors)."""
    import gc
    import weakref

    from optimizer.planner.engine import Engine
    from optimizer.planner.program import Formulation

    lp = Engine(Formulation(PlanningProblem(response=make_response(2, 30), budget=1000.0))
                ).program(relaxed=True)
    backend = HighsBackend()
    backend.load(lp)
    backend.solve(10.0)
    gone = weakref.ref(backend)
    del backend
    gc.collect()
    assert gone() is None
