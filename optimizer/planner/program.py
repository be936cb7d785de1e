"""The planning program in sparse-matrix form: one formulation that every solver adapter reads.

Columns (all in yuan/min unless said): spend ``x[t, p]`` per minute and package (a slot's
minutes are tied equal by rows), intermediate carryover stages, cumulative spend (pacing only),
integer-rule columns (only when a rule asks), and last the *segments* of every cell.

A cell is one response term in one minute. Its index ``z = lo + sum(segments)`` is tied to spend
by the carryover recursion ``a[t] = r a[t-1] + (1 - r) in[t]`` as sparse equality rows (one
chain per stage; never a dense kernel), with ``in[t] = spend[t] @ weights``. Its saturation
value is ``S(lo) + sum(slope_k * segment_k)``: the chords between breakpoints, so the program
never overstates GMV. Segment k is worth ``scale[t] * slope_k`` in the objective and in every
floor row that counts the term. Because slopes decrease, the program fills segments in order.

An uplift term driven by paid GMV (``driver="paid"``) takes, instead of spend, *paid GMV
columns* ``g[t, p]`` (yuan/min) as its chain's inputs: one per minute for each package it
weighs, tied to the package's paid cell by the row ``g - scale[t] S(z) = 0`` (through `vmap`,
S(z) being the chords). The ties are equalities: a package of negative leverage would take an
inequality ``g <= value`` down to 0. They are exact while the program never wants less paid GMV
than the chords give, i.e. fills each paid cell's segments in order: each paid GMV yuan must be
worth more than the organic GMV it cannibalises, ``1 + sum_u min(w_u[p], 0) max_t scale_u[t]
max S_u' > 0`` over the package's paid-driven uplift terms u (`_paid_worth_floor`, checked when
the program is built). The chords understate paid GMV, so for a package of negative leverage
the program can overstate the uplift a little; the exact program (S in the ties) is what the
cell problems bound, so their bound stays valid (`engine` compares it with the plan's exact
value).

Rows: budget, paid ROI floor, overall ROI floor, GMV target, slot ties, pacing, integer rules,
paid GMV ties. The program is always a maximisation (min_spend maximises -spend).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Exponential
from optimizer.planner.approximation import (
    best_index,
    cell_value,
    initial_breakpoints,
    initial_top,
)
from optimizer.planner.problem import PlanningProblem

SESSION = -1
"""`row_minute` / `base_minute` of rows and columns that belong to the whole session."""

_NOISE = 1e-9
"""Yuan/min: spend values below this are the solver's rounding, not a plan's spend."""


@dataclass
class LinearProgram:
    """``max cost @ v + offset`` s.t. ``row_lower <= matrix @ v <= row_upper``, column bounds.

    integer: (n,) bool, columns that must take whole values.
    """

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())


@dataclass(frozen=True)
class _Usage:
    """How one response term counts: objective weight and (row, weight) of each floor row.

    response: the response the term belongs to (the planned one or the floor response).
    package: the package whose paid GMV (in `response`) the term is, else -1.
    planned: whether `response` is the response planned for (not the floor response).
    """

    term: ResponseTerm
    objective: float
    rows: tuple[tuple[int, float], ...]
    response: SessionResponse
    package: int = -1
    planned: bool = True

    @property
    def counts(self) -> bool:
        """Whether the term enters the objective or a row."""
        return self.objective != 0 or bool(self.rows)


class _Builder:
    """Accumulates columns, rows and matrix entries as flat arrays."""

    def __init__(self) -> None:
        self.cols: list[tuple] = []
        self.rows: list[tuple] = []
        self.entries: list[tuple] = []
        self.ncol = self.nrow = 0

    def add_cols(self, n, lower, upper, cost=0.0, integer=False, minute=SESSION) -> np.ndarray:
        self.cols.append(
            tuple(np.broadcast_to(a, n) for a in (cost, lower, upper, integer, minute))
        )
        self.ncol += n
        return np.arange(self.ncol - n, self.ncol)

    def add_rows(self, n, lower, upper, minute=SESSION) -> np.ndarray:
        self.rows.append(tuple(np.broadcast_to(a, n) for a in (lower, upper, minute)))
        self.nrow += n
        return np.arange(self.nrow - n, self.nrow)

    def add(self, rows, cols, values) -> None:
        rows, cols, values = np.broadcast_arrays(rows, cols, values)
        self.entries.append((rows.ravel(), cols.ravel(), values.ravel().astype(float)))

    def column_arrays(self):
        return [np.concatenate(parts) for parts in zip(*self.cols, strict=True)]

    def row_arrays(self):
        return [np.concatenate(parts).astype(float) for parts in zip(*self.rows, strict=True)]

    def matrix(self, nrow: int, ncol: int) -> sp.csr_matrix:
        r, c, v = (np.concatenate(parts) for parts in zip(*self.entries, strict=True))
        return sp.csr_matrix((v, (r, c)), shape=(nrow, ncol))


class Formulation:
    """The program for one `PlanningProblem`, with its breakpoints and the cell prices.

    After construction, `program()` gives the current `LinearProgram`; `refine` adds
    breakpoints where the exact cell problem says the chords lose value.
    """

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        b = _Builder()
        T, P = problem.minutes, len(problem.packages)
        caps = problem.spend_caps
        self.caps = caps
        spend_cost = 0.0 if problem.objective == "max_gmv" else -1.0
        minute = np.repeat(np.arange(T), P)
        # a cap no lower than the budget over one slot is implied by the budget row and the slot
        # ties; as a column bound (the whole budget) it would only spoil the program's scaling
        implied = caps >= problem.budget / problem.slot_minutes
        upper = np.tile(np.where(implied & (caps > 0), np.inf, caps), T)
        self.spend_cols = b.add_cols(T * P, 0.0, upper, spend_cost, minute=minute)
        self.spend_cols = self.spend_cols.reshape(T, P)
        self.rows = self._session_rows(b)
        first = b.nrow
        self._slot_ties(b)
        ties = (first, b.nrow)
        self.cumulative_cols = self._pacing(b)
        first, first_col = b.nrow, b.ncol
        self.change_limits: dict[int, int] = {}
        self.change_rows: dict[int, np.ndarray] = {}  # package -> its rows x[s] - x[s-1] = ...
        self.rule_cols = self._integer_rules(b)
        rules, self.rule_col_range = (first, b.nrow), (first_col, b.ncol)
        self._cells(b)
        self.nbase = b.ncol
        cost, lower, upper, integer, col_minute = b.column_arrays()
        self.base_cost, self.base_lower, self.base_upper = cost.astype(float), lower, upper
        self.base_integer = integer.astype(bool)
        self.base_minute = col_minute.astype(int)
        row_lower, row_upper, row_minute = b.row_arrays()
        self.row_minute = row_minute.astype(int)
        self.nrow = b.nrow
        self.tie_rows, self.rule_rows = (np.zeros(b.nrow, dtype=bool) for _ in range(2))
        self.tie_rows[slice(*ties)] = True
        self.rule_rows[slice(*rules)] = True
        self.base_matrix = b.matrix(b.nrow, b.ncol).tocsc()
        # constants of z = lo + sum(segments) and of S(lo) move to the bounds and the offset
        s_lo = self.saturation_at(self.cell_lo)
        shift = self.zmap @ self.cell_lo + self.vmap @ s_lo
        self.row_lower, self.row_upper = row_lower - shift, row_upper - shift
        baseline = problem.response.baseline.sum() if problem.objective == "max_gmv" else 0.0
        self.offset = float(baseline + self.cell_cost @ s_lo)

    # ----------------------------------------------------------------------------- build
    def _session_rows(self, b: _Builder) -> dict[str, int]:
        p = self.problem
        spend = self.spend_cols.ravel()
        rows = {"budget": b.add_rows(1, -np.inf, p.budget)[0]}
        b.add(rows["budget"], spend, 1.0)
        baseline = float(p.floor_model.baseline.sum())
        floors = (
            ("paid_floor", p.paid_roi_min, 0.0),
            ("overall_floor", p.overall_roi_min, -baseline),
        )
        for name, roi, lower in floors:
            if roi is not None and roi > 0:
                rows[name] = b.add_rows(1, lower, np.inf)[0]
                b.add(rows[name], spend, -roi)
        if p.gmv_target is not None:
            rows["gmv_target"] = b.add_rows(1, p.gmv_target - baseline, np.inf)[0]
        return rows

    def _slot_ties(self, b: _Builder) -> None:
        """Rows x[t, p] - x[t-1, p] = 0 inside each slot, for packages that can spend."""
        L = self.problem.slot_minutes
        t = np.array([m for m in range(1, self.problem.minutes) if m % L])
        packages = np.flatnonzero(self.caps > 0)
        if len(t) == 0 or len(packages) == 0:
            return
        tt, pp = np.meshgrid(t, packages, indexing="ij")
        rows = b.add_rows(tt.size, 0.0, 0.0, minute=tt.ravel())
        b.add(rows, self.spend_cols[tt, pp].ravel(), 1.0)
        b.add(rows, self.spend_cols[tt - 1, pp].ravel(), -1.0)

    def _pacing(self, b: _Builder) -> np.ndarray:
        """Cumulative spend C[t] (yuan): C[t] - C[t-1] - sum_p x[t, p] = 0, bounded by pacing."""
        pacing, T = self.problem.pacing, self.problem.minutes
        if pacing is None:
            return np.zeros(0, dtype=int)
        budget = self.problem.budget
        lower = np.zeros(T) if pacing.lower is None else pacing.lower * budget
        upper = np.full(T, np.inf) if pacing.upper is None else pacing.upper * budget
        cols = b.add_cols(T, lower, upper, minute=np.arange(T))
        rows = b.add_rows(T, 0.0, 0.0, minute=np.arange(T))
        b.add(rows, cols, 1.0)
        b.add(rows[1:], cols[:-1], -1.0)
        b.add(rows[:, None], self.spend_cols, -1.0)
        return cols

    def _integer_rules(self, b: _Builder) -> dict[str, np.ndarray]:
        """Columns and rows of min_spend_when_active, spend units and level changes.

        Returns the activity columns ("active"), with the spend column ("active_spend") and the
        minimum ("active_minimum") each one governs; the unit counts ("units", with the spend
        column each one governs in "units_spend"); the change flags ("change_up",
        "change_down", their package in "change_package", one per slot after the first, in
        order).

        Per package p and slot s (first minute t_s): active a[p,s] in {0,1} with
        m a <= x <= cap a; units n[p,s] integer with x = unit n; level changes
        x[s] - x[s-1] = inc - dec, inc <= cap up, dec <= cap dn, up + dn <= 1, up, dn in {0,1},
        inc >= step up and dec >= step dn (change_step), sum(up + dn) <= max_changes.
        """
        p, rules = self.problem, self.problem.rules
        L, S = p.slot_minutes, p.minutes // p.slot_minutes
        starts = np.arange(S) * L
        cols: dict[str, list] = {}
        for k in np.flatnonzero(self.caps > 0):
            x, cap = self.spend_cols[starts, k], self.caps[k]
            m = p.min_spend_when_active[k]
            if m > 0:
                a = b.add_cols(S, 0.0, 1.0, integer=True, minute=starts)
                cols.setdefault("active", []).append(a)
                cols.setdefault("active_spend", []).append(x)
                cols.setdefault("active_minimum", []).append(np.full(S, m))
                at_least = b.add_rows(S, 0.0, np.inf, starts)
                b.add(at_least, x, 1.0)
                b.add(at_least, a, -m)
                at_most = b.add_rows(S, -np.inf, 0.0, starts)
                b.add(at_most, x, 1.0)
                b.add(at_most, a, -cap)
            if rules.spend_unit is not None:
                n = b.add_cols(
                    S, 0.0, np.floor(cap / rules.spend_unit), integer=True, minute=starts
                )
                rows = b.add_rows(S, 0.0, 0.0, starts)
                b.add(rows, x, 1.0)
                b.add(rows, n, -rules.spend_unit)
                cols.setdefault("units", []).append(n)
                cols.setdefault("units_spend", []).append(x)
            if (rules.max_changes is not None or rules.change_step is not None) and S > 1:
                limit, up, dn, self.change_rows[int(k)] = self._changes(b, x, cap, starts[1:])
                cols.setdefault("change_up", []).append(up)
                cols.setdefault("change_down", []).append(dn)
                cols.setdefault("change_package", []).append(np.full(S - 1, k))
                if limit is not None:
                    self.change_limits[int(k)] = limit
        return {name: np.concatenate(parts) for name, parts in cols.items()}

    def _changes(self, b: _Builder, x: np.ndarray, cap: float, minutes: np.ndarray):
        """Level-change rows of one package; returns its max_changes row (or None), its up and
        down flag columns and its change rows (x[s] - x[s-1] = inc - dec, one per slot after
        the first)."""
        rules, n = self.problem.rules, len(minutes)
        inc, dec = (b.add_cols(n, 0.0, cap, minute=minutes) for _ in range(2))
        up, dn = (b.add_cols(n, 0.0, 1.0, integer=True, minute=minutes) for _ in range(2))
        diff = b.add_rows(n, 0.0, 0.0, minutes)
        for col, sign in ((x[1:], 1.0), (x[:-1], -1.0), (inc, -1.0), (dec, 1.0)):
            b.add(diff, col, sign)
        for amount, flag in ((inc, up), (dec, dn)):
            rows = b.add_rows(n, -np.inf, 0.0, minutes)
            b.add(rows, amount, 1.0)
            b.add(rows, flag, -cap)
            if rules.change_step is not None:
                rows = b.add_rows(n, 0.0, np.inf, minutes)
                b.add(rows, amount, 1.0)
                b.add(rows, flag, -rules.change_step)
        one = b.add_rows(n, -np.inf, 1.0, minutes)
        b.add(one, up, 1.0)
        b.add(one, dn, 1.0)
        if rules.max_changes is None:
            return None, up, dn, diff
        total = b.add_rows(1, -np.inf, rules.max_changes)
        b.add(total, np.concatenate([up, dn]), 1.0)
        return int(total[0]), up, dn, diff

    def _usages(self) -> list[_Usage]:
        p, rows = self.problem, self.rows
        weight = {"max_gmv": 1.0, "max_profit": p.margin, "min_spend": 0.0}[p.objective]
        paid_rows = tuple((rows[n], 1.0) for n in ("paid_floor",) if n in rows)
        all_rows = tuple((rows[n], 1.0) for n in ("overall_floor", "gmv_target") if n in rows)
        if p.floor_response is None:
            return _response_usages(p.response, weight, paid_rows + all_rows, all_rows, True)
        return (_response_usages(p.response, weight, (), (), True)
                + _response_usages(p.floor_response, 0.0, paid_rows + all_rows, all_rows, False))

    def _cells(self, b: _Builder) -> None:
        """Chains, paid GMV ties, cell maps (`zmap`, `vmap`, `cell_cost`), initial segments."""
        T = self.problem.minutes
        usages = self._usages()
        self.terms = [u.term for u in usages]
        self.term_responses = [u.response for u in usages]
        self.term_package = np.array([u.package if u.planned else -1 for u in usages])
        zr, zc, zv, vr, vc, vv = [], [], [], [], [], []
        lo, hi, top, cost, seg = [], [], [], [], []
        self.initial_points: list[np.ndarray] = []  # each term's first breakpoints
        self._stage_parts: list[np.ndarray] = []
        self._chain_parts: list[np.ndarray] = []
        self._tie_parts: list[np.ndarray] = []
        paid = _PaidColumns(T, len(self.caps))
        spend_hint = self._spend_hint()
        for j, usage in enumerate(usages):
            term, cells = usage.term, np.arange(j * T, (j + 1) * T)
            w = np.where(self.caps > 0, term.weights, 0.0)
            inputs, caps, hint = self._drive(usage, paid, spend_hint)
            lo_j = max(float(min(0.0, np.minimum(w, 0) @ caps)), _index_floor(term))
            hi_j = float(max(0.0, np.maximum(w, 0) @ caps))
            rows, decay = self._chain(b, inputs, w, term.carryover.decays)
            zr += [rows, rows[1:]] if decay > 0 else [rows]
            zc += [cells, cells[:-1]] if decay > 0 else [cells]
            zv += [np.ones(T), np.full(T - 1, -decay)] if decay > 0 else [np.ones(T)]
            ties = self._paid_ties(b, usage, usages, paid, hi_j)
            for row, weight in usage.rows + ties:
                vr.append(np.broadcast_to(row, T))
                vc.append(cells)
                vv.append(weight * term.scale)
            top_j = initial_top(term.saturation, float(hint @ np.maximum(w, 0)), lo_j, hi_j)
            lo.append(np.full(T, lo_j))
            hi.append(np.full(T, hi_j))
            top.append(np.full(T, top_j))
            cost.append(usage.objective * term.scale)
            points = initial_breakpoints(term.saturation, lo_j, top_j, [hint @ w])
            self.initial_points.append(points)
            k = len(points) - 1
            seg.append((np.repeat(cells, k), np.tile(points[:-1], T), np.tile(points[1:], T)))
        ncell = len(usages) * T
        self.cell_lo, self.cell_hi = np.concatenate(lo), np.concatenate(hi)
        _check_paid_worth(usages, self.cell_lo[::T], self.problem.packages)
        self.cell_top = np.concatenate(top)
        self.cell_cost = np.concatenate(cost).astype(float)
        self.cell_minute = np.tile(np.arange(T), len(usages))
        self.zmap = _cell_map(zr, zc, zv, b.nrow, ncell)
        self.vmap = _cell_map(vr, vc, vv, b.nrow, ncell)
        self.seg_cell, self.seg_a, self.seg_b = (np.concatenate(a) for a in zip(*seg, strict=True))
        self._slopes: np.ndarray | None = None
        self._matrix: sp.csc_matrix | None = None
        self.stage_cols, self.chain_rows, self.paid_cols, self.paid_tie_rows = (
            np.concatenate(parts) if parts else np.zeros(0, dtype=int)
            for parts in (self._stage_parts, self._chain_parts, paid.parts, self._tie_parts)
        )

    def _drive(self, usage: _Usage, paid: _PaidColumns, spend_hint: np.ndarray):
        """(inputs, caps, hint) of a term's chain: (T, P) columns of its drive (spend, or the
        paid GMV columns of its response), and per package the most (caps) and an even split's
        (hint, from `spend_hint`, `_spend_hint`) drive, yuan/min."""
        if usage.term.driver == "spend":
            return self.spend_cols, self.caps, spend_hint
        response = usage.response
        hint = np.array([np.mean(t.scale) * float(t.saturation(h))
                         for t, h in zip(response.paid, spend_hint, strict=True)])
        return paid.columns[id(response)], paid.most[id(response)], hint

    def _paid_ties(self, b: _Builder, usage: _Usage, usages: list[_Usage], paid: _PaidColumns,
                   hi: float) -> tuple[tuple[np.ndarray, float], ...]:
        """For a paid term that a paid-driven uplift term of its response reads: its paid GMV
        columns g (between 0 and the most the term gives, yuan/min) and the rows
        ``g[t] - scale[t] S(z[t]) = 0``; returns those rows with the cells' weight (-1) in them.
        """
        if usage.package < 0 or not _read(usages, usage):
            return ()
        T = self.problem.minutes
        t = np.arange(T)
        most = float(np.max(usage.term.scale) * usage.term.saturation(hi))
        g = b.add_cols(T, 0.0, most, minute=t)
        rows = b.add_rows(T, 0.0, 0.0, minute=t)
        b.add(rows, g, 1.0)
        self._tie_parts.append(rows)
        paid.add(usage, g, most)
        return ((rows, -1.0),)

    def _spend_hint(self) -> np.ndarray:
        """(P,) yuan/min a package would get if the budget were split evenly: a breakpoint hint."""
        p = self.problem
        can = self.caps > 0
        share = p.budget / (p.minutes * max(1, int(can.sum())))
        return np.where(can, np.minimum(self.caps, share), 0.0)

    def _chain(self, b: _Builder, inputs: np.ndarray, w, decays):
        """Rows of the carryover chain of one term; returns the z rows and the last decay.

        inputs: (T, P) columns of the term's drive; w: (P,) its weights; decays: its
        carryover's. Intermediate stages are free columns: the chain fixes their values, and
        bounds as wide as the reachable range would only spoil the program's scaling.
        """
        T = self.problem.minutes
        t = np.arange(T)
        decays = [r for r in decays if r > 0] or [0.0]
        inputs = [(inputs[:, k], w[k]) for k in np.flatnonzero(w)]
        for i, r in enumerate(decays):
            rows = b.add_rows(T, 0.0, 0.0, minute=t)
            self._chain_parts.append(rows)
            for col, weight in inputs:
                b.add(rows, col, -(1.0 - r) * weight)
            if i == len(decays) - 1:
                return rows, r
            stage = b.add_cols(T, -np.inf, np.inf, minute=t)
            self._stage_parts.append(stage)
            b.add(rows, stage, 1.0)
            b.add(rows[1:], stage[:-1], -r)
            inputs = [(stage, 1.0)]
        raise AssertionError("unreachable")

    def saturation_at(self, z: np.ndarray, derivative: bool = False) -> np.ndarray:
        """S_j(z) (or S_j'(z)) for a per-cell array z, each cell with its term's saturation."""
        T = self.problem.minutes
        out = np.empty_like(z, dtype=float)
        for j, term in enumerate(self.terms):
            curve = term.saturation.derivative if derivative else term.saturation
            out[j * T : (j + 1) * T] = curve(z[j * T : (j + 1) * T])
        return out

    # ------------------------------------------------------------------------- program
    def program(self) -> LinearProgram:
        """The current program, segments last.

        Every array is the caller's to edit but the matrix, which is shared by the programs of
        the same segments (built once for them): an edit of coefficients replaces it.
        """
        if self._matrix is None:
            cells = self.seg_cell
            seg_matrix = self.zmap[:, cells] + self.vmap[:, cells] @ sp.diags(self.slopes())
            self._matrix = sp.hstack([self.base_matrix, seg_matrix], format="csc")
        n = len(self.seg_cell)
        return LinearProgram(
            cost=np.concatenate([self.base_cost, self.cell_cost[self.seg_cell] * self.slopes()]),
            col_lower=np.concatenate([self.base_lower, np.zeros(n)]),
            col_upper=np.concatenate([self.base_upper, self.seg_b - self.seg_a]),
            integer=np.concatenate([self.base_integer, np.zeros(n, dtype=bool)]),
            matrix=self._matrix,
            row_lower=self.row_lower.copy(),
            row_upper=self.row_upper.copy(),
            offset=self.offset,
        )

    def _segments_changed(self) -> None:
        self._slopes, self._matrix = None, None

    def slopes(self) -> np.ndarray:
        """(segments,) chord slopes, read-only; computed again only after the segments change."""
        if self._slopes is None:
            T = self.problem.minutes
            term = self.seg_cell // T
            slope = np.empty(len(self.seg_cell))
            for j, t in enumerate(self.terms):
                m = term == j
                a, z = self.seg_a[m], self.seg_b[m]
                slope[m] = (t.saturation(z) - t.saturation(a)) / (z - a)
            slope.flags.writeable = False
            self._slopes = slope
        return self._slopes

    def spend(self, values: np.ndarray) -> np.ndarray:
        """(T, P) spend in yuan/min from a solution vector; solver noise (below `_NOISE`
        yuan/min, e.g. 1e-13 on a cell whose activity is off) and negatives cleared."""
        spend = values[self.spend_cols]
        return np.where(spend < _NOISE, 0.0, spend)

    # ---------------------------------------------------------------------- certificate
    def cell_gaps(self, row_duals: np.ndarray, fixed: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Per cell: how much the exact saturation can add over the chords at these prices.

        With the program's row prices y (d = c - A^T y), the saturation value of a cell is worth
        ``v = cost - vmap^T y`` and its index costs ``pi = zmap^T y``. The exact cell problem
        ``max v S(z) - pi z`` minus the same over the chords is the cell's gap; the program's
        objective plus the sum of gaps bounds the exact optimum (weak Lagrangian duality).
        fixed: (cells,) bool, cells whose index the program fixes (a re-plan's past): their
        gap is 0 and their maximiser the range's start, without solving their cell problems.
        Returns (gaps, maximisers z*).
        """
        T = self.problem.minutes
        v = self.cell_cost - self.vmap.T @ row_duals
        pi = self.zmap.T @ row_duals
        open_cells = ~fixed
        seg = np.flatnonzero(open_cells[self.seg_cell])
        cell = self.seg_cell[seg]
        gain = np.maximum(v[cell] * self.slopes()[seg] - pi[cell], 0.0)
        chords = np.bincount(cell, gain * (self.seg_b[seg] - self.seg_a[seg]), len(v))
        best = self.cell_lo.copy()
        exact = np.zeros_like(v)
        for j, term in enumerate(self.terms):
            s = j * T + np.flatnonzero(open_cells[j * T: (j + 1) * T])
            lo = self.cell_lo[s]
            best[s] = best_index(term.saturation, v[s], pi[s], lo, self.cell_hi[s])
            exact[s] = cell_value(term.saturation, v[s], pi[s], lo, best[s])
        return np.maximum(exact - chords, 0.0), best

    def cell_index(self, spend: np.ndarray) -> np.ndarray:
        """(cells,) each cell's index z under `spend` (T, P) yuan/min, in cell order."""
        paid = {id(r): r.paid_gmv(spend) for r in self.term_responses if r.paid_driven}
        return np.concatenate([
            term.index(response.drive(term, spend, paid.get(id(response))))
            for term, response in zip(self.terms, self.term_responses, strict=True)
        ])

    def refine(self, cells: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, int]:
        """Add a breakpoint at index z[i] in cell cells[i].

        The segment containing the new point is cut in two: it keeps ``[a, z]`` and a new
        segment ``[z, b]`` is appended; a point above the cell's top appends ``[top, z]``
        (existing column indices stay valid). Returns the split segments' indices and the
        number of segments appended above tops (they come last).
        """
        target = np.full(len(self.cell_lo), np.nan)
        target[cells] = z
        zs = target[self.seg_cell]
        span = self.cell_hi[self.seg_cell] - self.cell_lo[self.seg_cell]
        margin = 1e-7 * np.maximum(span, 1.0)
        hit = np.flatnonzero((zs > self.seg_a + margin) & (zs < self.seg_b - margin))
        top = self.cell_top[cells]
        above = cells[z > top + 1e-7 * np.maximum(np.abs(top), 1.0)]
        self._append(self.seg_cell[hit], zs[hit], self.seg_b[hit])
        self.seg_b[hit] = zs[hit]
        self._segments_changed()
        self._append(above, self.cell_top[above], target[above])
        self.cell_top[above] = target[above]
        return hit, len(above)

    def set_segments(self, cells: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        """Replace every segment: segment k of cell cells[k] spans [a[k], b[k]] (index units,
        yuan/min), each cell's segments covering its range from its start to its top."""
        self.seg_cell, self.seg_a, self.seg_b = cells, a, b
        self._segments_changed()

    def open_ranges(self) -> int:
        """Extend every cell to its whole reachable range; returns the segments appended."""
        short = np.flatnonzero(self.cell_top < self.cell_hi)
        self._append(short, self.cell_top[short], self.cell_hi[short])
        self.cell_top[short] = self.cell_hi[short]
        return len(short)

    def _append(self, cells: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.seg_cell = np.concatenate([self.seg_cell, cells])
        self.seg_a = np.concatenate([self.seg_a, a])
        self.seg_b = np.concatenate([self.seg_b, b])
        self._segments_changed()


class _PaidColumns:
    """The paid GMV columns g of each response's packages, as (T, P) column indices (-1 where
    no paid-driven term reads the package), and the most each package's g can be (yuan/min),
    keyed by the response's id."""

    def __init__(self, minutes: int, packages: int) -> None:
        self.shape = (minutes, packages)  # (T, P)
        self.columns: dict[int, np.ndarray] = {}
        self.most: dict[int, np.ndarray] = {}
        self.parts: list[np.ndarray] = []

    def add(self, usage: _Usage, g: np.ndarray, most: float) -> None:
        """Record a paid term's columns g (T,) and the most they can be (yuan/min)."""
        key = id(usage.response)
        self.columns.setdefault(key, np.full(self.shape, -1))[:, usage.package] = g
        self.most.setdefault(key, np.zeros(self.shape[1]))[usage.package] = most
        self.parts.append(g)


def _response_usages(response: SessionResponse, objective: float, paid_rows, uplift_rows,
                     planned: bool) -> list[_Usage]:
    """The usages of one response's terms that count, and of the paid terms that an uplift
    term that counts reads (a paid-driven uplift needs its paid cells even when paid GMV
    counts nowhere itself)."""
    uplift = [_Usage(t, objective, uplift_rows, response, planned=planned)
              for t in response.uplift]
    uplift = [u for u in uplift if u.counts]
    paid = [_Usage(t, objective, paid_rows, response, k, planned)
            for k, t in enumerate(response.paid)]
    return [u for u in paid if u.counts or _read(uplift, u)] + uplift


def _read(usages: list[_Usage], paid: _Usage) -> bool:
    """Whether a paid-driven uplift term among `usages` reads `paid`'s package (same response)."""
    return any(u.term.driver == "paid" and u.response is paid.response
               and u.term.weights[paid.package] != 0 for u in usages)


def _check_paid_worth(usages: list[_Usage], lo: np.ndarray, packages) -> None:
    """Raise ValueError unless each paid GMV yuan is worth more than the organic GMV it can
    cannibalise (`_paid_worth_floor` > 0): the paid GMV ties need it (module docstring).

    lo: (terms,) each usage's lowest index (yuan/min)."""
    for usage in usages:
        if usage.package < 0 or not _read(usages, usage):
            continue
        worth = _paid_worth_floor(usages, lo, usage)
        if not worth > 0:  # nan too: an undefined slope
            raise ValueError(
                f"package {packages[usage.package]}: the organic GMV its paid GMV can "
                f"cannibalise ({1 - worth:.3g} yuan per paid GMV yuan at most) is not below its "
                "paid GMV, so the program cannot tie its paid GMV to its curve; plan it with an "
                "uplift driven by spend"
            )


def _paid_worth_floor(usages: list[_Usage], lo: np.ndarray, paid: _Usage) -> float:
    """Least GMV a yuan of `paid`'s paid GMV is worth to the program: ``1 + sum_u min(w_u[p],
    0) max_t scale_u[t] max S_u'`` over the paid-driven uplift terms u of its response (S_u'
    largest at the range's start, or at 0 where a curve flat below 0 bends)."""
    worth = 1.0
    for j, u in enumerate(usages):
        if u.term.driver != "paid" or u.response is not paid.response:
            continue
        lever = min(float(u.term.weights[paid.package]), 0.0)
        if lever < 0:
            steepest = max(float(u.term.saturation.derivative(np.array(z)))
                           for z in (lo[j], max(lo[j], 0.0)))
            worth += lever * float(np.max(np.abs(u.term.scale))) * steepest
    return worth


def _index_floor(term: ResponseTerm) -> float:
    """Lowest index the program represents for a term that spend can push below zero.

    An exponential saturation's slope grows as exp(-z / k) below zero; past z = -k ln(1e4) its
    value is so negative that no sensible plan goes there, and covering that range would put
    coefficients of e^20 into the program. Plans below this index are left out.
    """
    if isinstance(term.saturation, Exponential):
        return -term.saturation.k * np.log(1e4)
    return -np.inf


def _cell_map(rows, cells, values, nrow: int, ncell: int) -> sp.csc_matrix:
    """(nrow, ncell) sparse map from per-cell quantities to rows."""
    if not rows:
        return sp.csc_matrix((nrow, ncell))
    r, c, v = (np.concatenate(a) for a in (rows, cells, values))
    return sp.csc_matrix((v, (r, c)), shape=(nrow, ncell))
