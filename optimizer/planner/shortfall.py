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
from optimizer.planner.program import Formulation
from optimizer.planner.warm import WarmBackend

SHARE_MARGIN = 1e-6
"""Share given up against the solver's tolerance, so the plan with it stays feasible."""


class ReachableShare:
    """The largest share (0 to 1) of what the session owes (`Past.owed`: the floors'
    shortfall, a min_spend target's rest) that the rest can bring, for one re-planner.

    One LP (integer rules relaxed): the engine's program with the bounds of the past with all
    of it forgiven, and a first column ``share`` in [0, 1], maximised, with each owed row at
    least its bound plus ``share`` times what it owes (the difference between its bounds with
    none and all of the past forgiven). The LP stays loaded between re-plans, each solve
    starting from the last one's basis (`warm.WarmBackend`): a re-plan a minute later changes
    little, and a cold solve took 130-760 ms on the demo.
    """

    def __init__(self, solver: str) -> None:
        self.backend = make_backend(solver)
        self._warm = WarmBackend(self.backend)

    @property
    def warm(self) -> bool:
        """Whether the next LP starts from a basis (one is held)."""
        return self._warm.holds

    def pruned(self, formulation: Formulation, merged: np.ndarray) -> None:
        """The formulation's segments were merged (`Engine.pruned`): the next LP loads anew
        from the basis held, carried across."""
        self._warm.pruned(1 + formulation.nbase, merged)

    def __call__(self, engine: Engine, whole: Past, alone: Past, seconds: float) -> float:
        """The share for the past `whole` (none forgiven) and `alone` (all forgiven);
        0 when the solver finds nothing in `seconds` (nor past the engine's `stop_at`)."""
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
            lp, cost=np.r_[1.0, np.zeros(len(lp.cost))], offset=0.0,
            col_lower=np.r_[0.0, lp.col_lower], col_upper=np.r_[1.0, lp.col_upper],
            integer=np.zeros(len(lp.cost) + 1, dtype=bool),
            matrix=sp.hstack([column, lp.matrix], format="csc"))
        self.backend.stop_at = engine.backend.stop_at  # a re-plan told to stop stops it too
        self._warm.give(with_share)
        solution = self.backend.solve(max(seconds, 0.01))
        if solution.values is None or solution.status == "infeasible":
            return 0.0
        return float(np.clip(solution.values[0] - SHARE_MARGIN, 0.0, 1.0))
