"""A backend that starts each program it is given from the basis of the last one.

Re-plans solve programs that differ little from the last: new bounds (a minute more of the
past fixed), new coefficients (floors at the day's level), segments appended by refinement
(existing columns keep their indices) or merged by `prune`. `WarmBackend.give` passes only
what changed, or loads the program anew with the old basis carried across; a cold solve of
the demo's shortfall LP took 130-760 ms, from the last basis 16-80 ms.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optimizer.planner.backends import BASIC, LOWER, UPPER
from optimizer.planner.program import LinearProgram


class WarmBackend:
    """A solver backend (`backends`) and what it holds (module docstring)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self._matrix: sp.csc_matrix | None = None  # the matrix of the program held
        self._start = None  # no program held: the basis the next one starts from

    @property
    def holds(self) -> bool:
        """Whether the next program given starts from a basis held (not cold)."""
        return self._matrix is not None or self._start is not None

    def give(self, lp: LinearProgram, basis=None) -> None:
        """Make `lp` the backend's program, its next solve starting from `basis` (column and
        row statuses) when given, else from the basis held.

        The same matrix: new bounds only. The same entries: the changed coefficients and
        the bounds. Columns appended: loaded anew, the old columns' statuses kept, the new
        ones at their lower bounds. Otherwise loaded anew, from the basis `pruned` left, or
        cold.
        """
        held = self._matrix
        if basis is None and held is not None and held is lp.matrix:
            self.backend.set_bounds(lp)
        elif basis is None and held is not None and _same_pattern(held, lp.matrix):
            changed = np.flatnonzero(held.data != lp.matrix.data)
            if len(changed):
                self.backend.set_coefficients(lp.matrix, changed)
            self.backend.set_bounds(lp)
        else:
            if basis is None:
                basis = self._start if held is None else _appended(self.backend.basis(), held,
                                                                  lp.matrix)
            self.backend.load(lp, basis)
        self._matrix, self._start = lp.matrix, None

    def forget(self) -> None:
        """The next program loads cold."""
        self._matrix = self._start = None

    def pruned(self, first: int, merged: np.ndarray) -> None:
        """Columns from `first` on were segments and `prune` merged them (`merged`: each
        one's new segment): the next program loads anew from the basis held, carried across
        (`merged_basis`)."""
        held = self._start if self._matrix is None else self.backend.basis()
        self._matrix, self._start = None, merged_basis(held, first, merged)


def merged_basis(basis, first: int, merged: np.ndarray):
    """`basis` (column and row statuses) of a program whose columns from `first` on are
    segments, some appended since it was taken (at their lower bounds), for the program after
    `prune` merged them (`merged`: each segment's new one).

    A merged segment is basic when one of its parts was, else at its upper bound when most
    of its parts were (full), else at its lower one. None when two parts of one merged
    segment were basic (fewer basic columns than rows) or `basis` is of another program.
    """
    if basis is None or len(basis[0]) > first + len(merged):
        return None
    cols, rows = basis
    count = int(merged.max(initial=-1)) + 1
    parts = np.r_[cols[first:], np.full(first + len(merged) - len(cols), LOWER, cols.dtype)]
    basic = np.bincount(merged, parts == BASIC, count)
    if (basic > 1).any():
        return None
    full = np.bincount(merged, parts == UPPER, count) * 2 >= np.bincount(merged, None, count)
    status = np.where(basic == 1, BASIC, np.where(full, UPPER, LOWER)).astype(cols.dtype)
    return np.concatenate([cols[:first], status]), rows


def _appended(basis, loaded: sp.csc_matrix, matrix: sp.csc_matrix):
    """`basis` of the program with matrix `loaded` for `matrix`, which has the same rows and
    the same first columns (their entries may differ) and more: appended columns at their
    lower bounds. None when `matrix` is not `loaded` with columns appended."""
    if basis is None or loaded.shape[0] != matrix.shape[0] or loaded.shape[1] > matrix.shape[1]:
        return None
    cols, rows = basis
    empty = np.full(matrix.shape[1] - len(cols), LOWER, dtype=cols.dtype)
    return np.concatenate([cols, empty]), rows


def _same_pattern(a: sp.csc_matrix, b: sp.csc_matrix) -> bool:
    """Whether two programs' matrices have the same entries (values may differ)."""
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.indices, b.indices))
