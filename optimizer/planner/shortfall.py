"""A rest of the session for a past it cannot make up for: as close to the floors as it gets.

When no plan for minutes [m, T) brings the whole session to its ROI floors (and a min_spend
objective's GMV target) at the day's level so far, the re-planner plans the rest to bring the
largest share of what the session owes that it can (`Past(forgiven=1 - share)`): 1 just short
of the edge, where the session's floors are still within reach, down to 0 (the rest meets the
floors on its own) on a day far below them. So a slightly worse day never plans more spend
than a day just within reach, and a target out of reach gets the most GMV the rest can bring.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from optimizer.planner.backends import make_backend
from optimizer.planner.engine import Engine
from optimizer.planner.past import Past

SHARE_MARGIN = 1e-6
"""Share given up against the solver's tolerance, so the plan with it stays feasible."""


def reachable_share(engine: Engine, whole: Past, alone: Past, seconds: float) -> float:
    """The largest share (0 to 1) of what the session owes (`Past.owed`: the floors'
    shortfall, a min_spend target's rest) that the rest can bring.

    whole, alone: the same past with none and all of it forgiven (`Past.forgiven` 0 and 1).
    One LP (integer rules relaxed) over the program with `alone`'s bounds and a column
    ``share`` in [0, 1]: maximise it with each owed row at least its bound plus ``share``
    times what it owes (the bounds' difference). 0 when the solver finds nothing in
    `seconds`.
    """
    rows = np.array([engine.formulation.rows[name] for name in alone.owed], dtype=int)
    engine.adjust = whole
    lower = engine.program(relaxed=True).row_lower[rows]
    engine.adjust = alone
    lp = engine.program(relaxed=True)
    shortfall = np.maximum(lower - lp.row_lower[rows], 0.0)
    if not shortfall.any():
        return 1.0
    column = sp.csc_matrix((-shortfall, (rows, np.zeros(len(rows), dtype=int))),
                           shape=(lp.matrix.shape[0], 1))
    with_share = replace(
        lp, cost=np.r_[np.zeros(len(lp.cost)), 1.0], offset=0.0,
        col_lower=np.r_[lp.col_lower, 0.0], col_upper=np.r_[lp.col_upper, 1.0],
        integer=np.zeros(len(lp.cost) + 1, dtype=bool),
        matrix=sp.hstack([lp.matrix, column], format="csc"))
    backend = make_backend(engine.problem.solver)
    backend.stop_at = engine.backend.stop_at  # a re-plan told to stop stops this LP too
    backend.load(with_share)
    solution = backend.solve(max(seconds, 0.01))
    if solution.values is None or solution.status == "infeasible":
        return 0.0
    return float(np.clip(solution.values[-1] - SHARE_MARGIN, 0.0, 1.0))
