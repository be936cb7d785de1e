"""A certified upper bound for any plan, from the Lagrangian of the exact program.

For row prices y of a `Formulation` (reduced costs d = c - A^T y; y > 0 prices a row at its
upper bound, y < 0 at its lower one), weak duality bounds the best exact objective by

    D(y) = offset + sum_rows y_i b_i + sum_columns max_u d u + sum_cells max_z (v S(z) - pi z)

with v = cell cost - vmap^T y, pi = zmap^T y and b_i the row bound the sign of y_i picks: no
program is solved, and no chord enters. `plan_bound` prices the session rows (budget, floors)
as given and chooses the carryover chains' prices (and the paid GMV ties') so that no stage
column, no paid GMV column and no spend the plan makes has a reduced cost, and every cell that
spend does not pin down sits at its own optimum at the plan. D(y) then exceeds the plan's
value only by what each pinned cell gains from moving its index at these prices, and by the
session rows' slack: both vanish at the optimum.
It costs a sparse triangular solve or two, so a plan made on a coarser time grid is certified
on the session's minutes.
"""

from __future__ import annotations

import numpy as np

from optimizer.planner.approximation import best_index
from optimizer.planner.program import Formulation

_ROUNDING = 1e-9
"""Reduced costs this small (relative to the column's cost scale) are rounding: taken as 0."""
_SPENDING = 1e-9
"""Spend above this fraction of the plan's largest counts as spending."""
_PASSES = 4


def plan_bound(
    f: Formulation, spend: np.ndarray, session: dict[str, float]
) -> tuple[float, np.ndarray]:
    """(upper bound on the best exact objective of `f`'s problem, the row prices giving it).

    Program units (maximised). spend: (T, P) a plan, yuan/min, that fixes the chains' prices;
    session: the price of each session row by name (`Formulation.rows`; rows not named are
    priced 0). Only for programs without pacing or integer rules (their rows need prices too).
    """
    y = np.zeros(f.nrow)
    for name, row in f.rows.items():
        price = session.get(name, 0.0)
        # a price of the sign the row's bounds cannot take (solver noise) would make D infinite
        unbounded = f.row_upper[row] if price > 0 else f.row_lower[row]
        y[row] = 0.0 if np.isinf(unbounded) else price
    y = _chain_prices(f, spend, y)
    return lagrangian(f, y), y


def _chain_prices(f: Formulation, spend: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Row prices: `known` with the chain rows' and paid GMV ties' prices (module docstring).

    One condition per chain row and tie: a stage column and a paid GMV column have no reduced
    cost; where a package spends, its spend column has none; every other cell's index is
    priced at its marginal value at the plan (its value priced through the ties too). A
    package that does not spend in a minute but whose spend column would then gain (d > 0, an
    unbounded term) gets d = 0 there instead, and the prices are solved again.
    """
    from scipy.sparse import diags, vstack
    from scipy.sparse.linalg import spsolve

    T = f.problem.minutes
    active = np.flatnonzero(f.caps > 0)
    columns = f.spend_cols[:, active]
    pinned = spend[:, active] > _SPENDING * max(1.0, float(spend.max(initial=0.0)))
    term = {int(p): j for j, p in enumerate(f.term_package) if p >= 0}
    cell = np.array([term[int(p)] for p in active]) * T + np.arange(T)[:, None]  # (T, A)
    v = f.cell_cost - f.vmap.T @ known
    slope = f.saturation_at(f.cell_index(spend), derivative=True)
    priced = np.concatenate([f.chain_rows, f.paid_tie_rows])
    for _ in range(_PASSES):
        cols = np.concatenate([f.stage_cols, f.paid_cols, columns[pinned]])
        free = np.ones(len(f.cell_lo), dtype=bool)
        free[cell[pinned]] = False
        cells = f.zmap[priced][:, free] + f.vmap[priced][:, free] @ diags(slope[free])
        system = vstack([f.base_matrix[priced][:, cols].T, cells.T], format="csc")
        fixed = f.base_cost[cols] - f.base_matrix[:, cols].T @ known
        y = known.copy()
        y[priced] = spsolve(system, np.concatenate([fixed, v[free] * slope[free]]))
        d = f.base_cost[columns] - (f.base_matrix.T @ y)[columns]
        gains = ~pinned & (d > _ROUNDING * (1.0 + np.abs(f.base_cost[columns])))
        if not gains.any():
            break
        pinned |= gains
    return y


def lagrangian(f: Formulation, y: np.ndarray) -> float:
    """D(y): the Lagrangian bound of `f`'s exact program at row prices y (module docstring)."""
    T = f.problem.minutes
    d = f.base_cost - f.base_matrix.T @ y
    d[np.abs(d) <= _ROUNDING * (1.0 + np.abs(f.base_cost))] = 0.0
    columns = _best_at_bounds(d, f.base_lower, f.base_upper)
    s_lo = f.saturation_at(f.cell_lo)
    shift = f.zmap @ f.cell_lo + f.vmap @ s_lo
    rows = _best_at_bounds(y, f.row_lower + shift, f.row_upper + shift)
    v, pi = f.cell_cost - f.vmap.T @ y, f.zmap.T @ y
    cells = 0.0
    for j, term in enumerate(f.terms):
        s = slice(j * T, (j + 1) * T)
        z = best_index(term.saturation, v[s], pi[s], f.cell_lo[s], f.cell_hi[s])
        cells += float(v[s] @ term.saturation(z) - pi[s] @ z)
    return f.offset - float(f.cell_cost @ s_lo) + columns + rows + cells


def _best_at_bounds(weight: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """max of weight @ u over lower <= u <= upper (inf when a needed bound is infinite)."""
    up, down = weight > 0, weight < 0
    if np.isinf(upper[up]).any() or np.isinf(lower[down]).any():
        return np.inf
    return float(weight[up] @ upper[up] + weight[down] @ lower[down])
