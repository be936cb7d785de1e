"""Solver adapters: the same `LinearProgram` solved by highspy directly or through PuLP.

`HighsBackend` keeps one highspy model alive, so a re-solve after bound changes or new segments
starts from the previous basis (warm start). It picks dual simplex for small LPs (few rows, or
few columns that are not fixed: presolve removes the rest) and the interior-point method (with
crossover, so duals are clean) for large ones, and retries with the other on a numerical
failure or when the first overruns its share of the time. `PulpBackend` builds the program in
bulk (one `LpAffineExpression` per row) for CBC: the fallback when highspy is missing or CBC is
asked.

Both report the solver's status as found, never as PuLP words it: a time limit is "time_limit"
even when the solver says "Optimal", and integer values are checked here (CBC without an
integer solution leaves the relaxation's values in the variables).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from optimizer.planner.program import LinearProgram

if TYPE_CHECKING:
    import scipy.sparse as sp

Status = Literal["optimal", "time_limit", "infeasible", "error"]
_SIMPLEX_ROWS = 20_000
_FIRST_SHARE, _FIRST_SECONDS = 0.25, 5.0
"""The first method of an LP gets this share of the time limit, at most this many seconds,
before the other takes over: dual simplex stalled for the whole limit (4,314 iterations in
20 s) on a 3,122-row program that the interior-point method solves in 0.5 s."""
_SWITCH_SECONDS = 2.0
"""With less time than this the first method keeps all of it, and a run it does not end
keeps its basis for the next: the other from scratch rarely ended in what was left, and the
switch threw the first's basis away. Re-plans stopped at 450 ms then found no plan for 80
minutes in a row (the demo at 40% of its paid GMV, each warm solve cut short and the next
one starting cold)."""
_FEASIBILITY = 1e-5
LOWER, BASIC, UPPER = 0, 1, 2
"""Basis statuses (HiGHS's): a column at its lower bound, basic, at its upper bound."""


@dataclass
class Solution:
    """What a backend returns; objective and bound include the program's offset.

    values: primal column values, None when the solver has no usable point.
    row_duals: y with reduced costs ``d = cost - A^T y`` (LP only).
    bound: best bound on the program's optimum (MIP), None for an LP.
    """

    status: Status
    values: np.ndarray | None = None
    row_duals: np.ndarray | None = None
    objective: float = float("nan")
    bound: float | None = None
    seconds: float = 0.0


def violation(lp: LinearProgram, values: np.ndarray) -> float:
    """Largest bound, row or integrality violation of a point, relative to 1 + |bound|."""
    activity = lp.matrix @ values
    parts = [
        _excess(lp.col_lower, values),
        _excess(-lp.col_upper, -values),
        _excess(lp.row_lower, activity),
        _excess(-lp.row_upper, -activity),
        np.abs(values - np.round(values)) * lp.integer,
    ]
    return float(max(p.max(initial=0.0) for p in parts))


def _changed(lower: np.ndarray, new_lower: np.ndarray, upper: np.ndarray,
             new_upper: np.ndarray) -> np.ndarray:
    """int32 indices where either bound differs (infinities equal to themselves)."""
    return np.flatnonzero((lower != new_lower) | (upper != new_upper)).astype(np.int32)


def _excess(lower: np.ndarray, value: np.ndarray) -> np.ndarray:
    """How far value is below a (possibly infinite) lower bound, relative to 1 + |bound|."""
    finite = np.isfinite(lower)
    return np.where(
        finite, (np.where(finite, lower, 0) - value) / (1 + np.abs(np.where(finite, lower, 0))), 0.0
    )


class _Deadline:
    """The wall clock (time.perf_counter) a MIP run stops at, and HiGHS's callback for it."""

    def __init__(self) -> None:
        self.at = math.inf

    def interrupt(self, kind, message, data_out, data_in, user_data) -> None:
        """Stop a MIP run at `at`: HiGHS's branch and bound overran its own time limit,
        22.5 s on a 9.55 s limit in a re-plan under platform rules (9.6 s with this)."""
        if data_in is not None:  # set either way: HiGHS keeps the flag from a run to the next
            data_in.user_interrupt = time.perf_counter() > self.at


class _Stoppable:
    """A backend its caller can stop: `stop_at` is the wall clock (time.perf_counter) past
    which no run starts and a run's time limit does not reach (inf: none). A service that
    stopped waiting for a re-plan sets it, so the re-plan does not go on using the CPU."""

    stop_at = math.inf

    def _time_left(self, time_limit: float) -> float | None:
        """Seconds the next run may take: `time_limit` cut at `stop_at`; None once past it."""
        left = self.stop_at - time.perf_counter()
        return None if left <= 0 else min(time_limit, left)


class HighsBackend(_Stoppable):
    """highspy, kept alive between solves (see module docstring)."""

    name = "highs"

    def __init__(self) -> None:
        import highspy

        self._hs = highspy
        # highspy.Highs() prints HiGHS's banner on stdout from its constructor, before
        # output_flag can be set (ERGO-Code/HiGHS#2749); the core class it wraps, with every
        # method used here, prints nothing. The public class where the core is not exposed.
        core = getattr(highspy, "_core", None)
        self.h = getattr(core, "_Highs", highspy.Highs)()
        self.h.setOptionValue("output_flag", False)
        self.lp: LinearProgram | None = None
        self._deadline = _Deadline()
        if core is not None and hasattr(core, "cb"):
            # the callback holds the deadline, not the backend: HiGHS keeps its callback
            # where the garbage collector cannot see it, and a cycle through it leaked every
            # backend with its model (3.5 MB per demo re-plan program)
            self.h.setCallback(self._deadline.interrupt, None)
            self.h.startCallback(core.cb.HighsCallbackType.kCallbackMipInterrupt)

    def load(self, lp: LinearProgram, basis: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Pass a program; with `basis` (column and row statuses) the next solve starts from it."""
        hs, inf = self._hs, self._hs.kHighsInf
        model = hs.HighsLp()
        model.num_col_, model.num_row_ = lp.matrix.shape[1], lp.matrix.shape[0]
        model.sense_ = hs.ObjSense.kMaximize
        model.offset_ = lp.offset
        model.col_cost_ = lp.cost
        model.col_lower_, model.col_upper_ = _finite(lp.col_lower, inf), _finite(lp.col_upper, inf)
        model.row_lower_, model.row_upper_ = _finite(lp.row_lower, inf), _finite(lp.row_upper, inf)
        matrix = model.a_matrix_
        matrix.format_ = hs.MatrixFormat.kColwise
        matrix.num_col_, matrix.num_row_ = model.num_col_, model.num_row_
        matrix.start_, matrix.index_ = lp.matrix.indptr, lp.matrix.indices
        matrix.value_ = lp.matrix.data
        if lp.is_mip:
            model.integrality_ = [
                hs.HighsVarType.kInteger if i else hs.HighsVarType.kContinuous for i in lp.integer
            ]
        self.h.passModel(model)
        self.lp = lp
        if basis is not None:
            self._set_basis(*basis)

    def set_bounds(self, lp: LinearProgram) -> None:
        """Change column and row bounds in place (keeps the basis for a warm start).

        `lp` has the shape of the program loaded; only the bounds that differ are passed.
        """
        inf, old = self._hs.kHighsInf, self.lp
        cols = _changed(old.col_lower, lp.col_lower, old.col_upper, lp.col_upper)
        rows = _changed(old.row_lower, lp.row_lower, old.row_upper, lp.row_upper)
        if len(cols):
            self.h.changeColsBounds(len(cols), cols, _finite(lp.col_lower[cols], inf),
                                    _finite(lp.col_upper[cols], inf))
        if len(rows):
            self.h.changeRowsBounds(len(rows), rows, _finite(lp.row_lower[rows], inf),
                                    _finite(lp.row_upper[rows], inf))
        self.lp = lp

    def set_coefficients(self, matrix: sp.csc_matrix, entries: np.ndarray) -> None:
        """Set the values of `matrix`'s stored entries at positions `entries` (same pattern
        as the program loaded) in place, keeping the basis."""
        cols = np.searchsorted(matrix.indptr, entries, side="right") - 1
        for row, col, value in zip(matrix.indices[entries].tolist(), cols.tolist(),
                                   matrix.data[entries].tolist(), strict=True):
            self.h.changeCoeff(row, col, value)

    def basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(column statuses, row statuses) as ints: 0 lower, 1 basic, 2 upper, 3 zero."""
        b = self.h.getBasis()
        if not b.valid:
            return None
        return _codes(b.col_status), _codes(b.row_status)

    def _set_basis(self, cols: np.ndarray, rows: np.ndarray) -> None:
        hs = self._hs
        statuses = [hs.HighsBasisStatus(k) for k in range(5)]
        b = hs.HighsBasis()
        b.col_status = [statuses[k] for k in cols.tolist()]
        b.row_status = [statuses[k] for k in rows.tolist()]
        b.valid = True
        self.h.setBasis(b)

    def solve(self, time_limit: float, mip_gap: float = 1e-4, start=None) -> Solution:
        """Solve the loaded program within `time_limit` seconds (LP: retry another method).

        start: column values of a known plan, a MIP start.
        """
        begin = time.perf_counter()
        h = self.h
        allowed = self._time_left(time_limit)
        if allowed is None:
            return Solution("time_limit")
        # HiGHS's clock runs on across runs of one instance: the limit is on its total
        limit = float(max(allowed, 0.01))
        h.setOptionValue("time_limit", h.getRunTime() + limit)
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        if self.lp.is_mip:
            self._deadline.at = begin + limit
            if start is not None:
                known = self._hs.HighsSolution()
                known.col_value = list(start)
                known.value_valid = True
                h.setSolution(known)
            solution = self._run("choose")
        else:
            lp = self.lp
            open_columns = int(np.count_nonzero(lp.col_lower < lp.col_upper))
            small = min(lp.matrix.shape[0], open_columns) < _SIMPLEX_ROWS or h.getBasis().valid
            methods = ("simplex", "ipm") if small else ("ipm", "simplex")
            solution = self._first_of(methods[:1] if limit < _SWITCH_SECONDS else methods,
                                      begin + limit)
        solution.seconds = _since(begin)
        return solution

    def _first_of(self, methods: tuple[str, ...], deadline: float) -> Solution:
        """The first method's solution if it ends (optimal or infeasible) within its share of
        the time (`_FIRST_SHARE`, at most `_FIRST_SECONDS`), else the next one's from scratch
        in the rest; a stopped run's plan, if any, when none ends."""
        h, runs = self.h, []
        for method in methods:
            last = len(runs) == len(methods) - 1
            left = max(deadline - time.perf_counter(), 0.01)
            share = left if last else min(left * _FIRST_SHARE, _FIRST_SECONDS)
            h.setOptionValue("time_limit", h.getRunTime() + share)
            runs.append(self._run(method))
            if runs[-1].status in ("optimal", "infeasible"):
                return runs[-1]
            if last:
                break
            h.clearSolver()
        return next((run for run in reversed(runs) if run.values is not None), runs[-1])

    def _run(self, method: str) -> Solution:
        h, ms = self.h, self._hs.HighsModelStatus
        h.setOptionValue("solver", method)
        h.setOptionValue("run_crossover", "on")
        # after an interior-point solve of a presolved program, HiGHS cleans up the postsolved
        # basis with dual simplex, which diverged on large programs: no presolve for "ipm";
        # with the default scaling, dual simplex failed ("excessive dual values") on programs
        # that it solves with max-value scaling (strategy 4)
        h.setOptionValue("presolve", "off" if method == "ipm" else "choose")
        h.setOptionValue("simplex_scale_strategy", 4)
        h.run()
        status, info = h.getModelStatus(), h.getInfo()
        if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
            return Solution("infeasible")
        stopped = status in (ms.kTimeLimit, ms.kIterationLimit, ms.kInterrupt)
        if status != ms.kOptimal and not stopped:
            return Solution("error")
        kind: Status = "time_limit" if stopped else "optimal"
        sol = h.getSolution()
        values = np.asarray(sol.col_value)
        if info.primal_solution_status != 2 or violation(self.lp, values) > _FEASIBILITY:
            return Solution(kind if stopped else "error")
        # duals of a stopped solve are not optimal: they would not give a valid bound
        duals = None
        if kind == "optimal" and sol.dual_valid and not self.lp.is_mip:
            duals = np.asarray(sol.row_dual)
        bound = info.mip_dual_bound if self.lp.is_mip else None
        return Solution(kind, values, duals, info.objective_function_value, bound)


class PulpBackend(_Stoppable):
    """PuLP with CBC (or PuLP's HiGHS), built in bulk from the same sparse program."""

    name = "cbc"

    def __init__(self) -> None:
        self.lp: LinearProgram | None = None

    def load(self, lp: LinearProgram, basis=None) -> None:
        """Keep the program; PuLP rebuilds its model at each solve (no warm start)."""
        self.lp = lp

    def set_bounds(self, lp: LinearProgram) -> None:
        self.lp = lp

    def set_coefficients(self, matrix, entries) -> None:
        """Nothing to do: the next solve builds its model from the program (`set_bounds`)."""

    def basis(self) -> None:
        return None

    def solve(self, time_limit: float, mip_gap: float = 1e-4, start=None) -> Solution:
        """Build and solve with CBC; `start` is ignored (PuLP has no warm start here)."""
        import pulp

        begin = time.perf_counter()
        allowed = self._time_left(time_limit)
        if allowed is None:
            return Solution("time_limit")
        time_limit = allowed  # CBC's limit is whole seconds, at least 1
        lp = self.lp
        model, variables, rows = _pulp_model(lp)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, int(np.ceil(time_limit))))
        if lp.is_mip:
            solver.optionsDict["gapRel"] = mip_gap
        model.solve(solver)
        values = np.array([v.varValue if v.varValue is not None else np.nan for v in variables])
        if model.status == pulp.LpStatusInfeasible or model.sol_status == pulp.LpStatusInfeasible:
            return Solution("infeasible", seconds=_since(begin))
        if np.isnan(values).any() or violation(lp, values) > _FEASIBILITY:
            # CBC stopped without an integer plan: PuLP left the relaxation's values
            status: Status = "time_limit" if _since(begin) >= time_limit * 0.9 else "error"
            return Solution(status, seconds=_since(begin))
        stopped = model.sol_status == pulp.LpSolutionIntegerFeasible
        duals = None
        if not lp.is_mip and model.status == pulp.LpStatusOptimal:
            duals = np.zeros(lp.matrix.shape[0])
            for i, constraints in rows.items():
                duals[i] = sum(c.pi or 0.0 for c in constraints)
        objective = float(lp.cost @ values + lp.offset)
        return Solution(
            "time_limit" if stopped else "optimal",
            values,
            duals,
            objective,
            None,
            _since(begin),
        )


def _pulp_model(lp: LinearProgram):
    """A PuLP model of the program: variables, and the PuLP constraints of each row."""
    import pulp

    model = pulp.LpProblem("spendplan", pulp.LpMaximize)
    variables = [
        pulp.LpVariable(
            f"v{i}",
            lowBound=None if np.isinf(lo) else float(lo),
            upBound=None if np.isinf(hi) else float(hi),
            cat=pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for i, (lo, hi, integer) in enumerate(
            zip(lp.col_lower, lp.col_upper, lp.integer, strict=True)
        )
    ]
    nonzero = np.flatnonzero(lp.cost)
    model += pulp.LpAffineExpression(
        [(variables[j], float(lp.cost[j])) for j in nonzero], constant=lp.offset
    )
    csr = lp.matrix.tocsr()
    rows: dict[int, list] = {}
    for i in range(csr.shape[0]):
        cols = csr.indices[csr.indptr[i] : csr.indptr[i + 1]]
        vals = csr.data[csr.indptr[i] : csr.indptr[i + 1]]
        expr = pulp.LpAffineExpression(
            [(variables[j], float(v)) for j, v in zip(cols, vals, strict=True)]
        )
        lo, hi = lp.row_lower[i], lp.row_upper[i]
        if lo == hi:
            parts = [expr == float(lo)]
        else:
            parts = [expr >= float(lo)] if np.isfinite(lo) else []
            parts += [expr <= float(hi)] if np.isfinite(hi) else []
        rows[i] = []
        for k, constraint in enumerate(parts):
            name = f"r{i}_{k}"
            model += constraint, name
            rows[i].append(model.constraints[name])
    return model, variables, rows


def _finite(values: np.ndarray, inf: float) -> np.ndarray:
    return np.clip(np.asarray(values, dtype=float), -inf, inf)


def _codes(statuses) -> np.ndarray:
    return np.fromiter(map(int, statuses), dtype=np.int8, count=len(statuses))


def _since(start: float) -> float:
    return time.perf_counter() - start


def make_backend(choice: str):
    """`HighsBackend` for "auto"/"highs" when highspy imports, else `PulpBackend` (CBC)."""
    if choice != "cbc":
        try:
            return HighsBackend()
        except ImportError:
            if choice == "highs":
                raise
    return PulpBackend()
