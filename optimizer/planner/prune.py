"""Fewer segments: merge the breakpoints a program no longer needs.

Each re-plan's refinement rounds put breakpoints where that re-plan's optimum lies; the next
re-plan's optimum lies a little elsewhere, so a session's program kept growing (the demo's
from 12,134 columns to 44,382 over a bad day, re-planned every minute), and every load and
solve with it. `prune` merges each cell's segments between the breakpoints it keeps: the
cell's first breakpoints (`initial_breakpoints`, its range's ends) and the two around the
index where the plan puts the cell. Chords interpolate the saturation at breakpoints, so the
program's value of the plan is unchanged, and with the segments below its index full and those
above empty, the plan's basis (`warm.merged_basis`) stays optimal with the same prices:
the same certificate. A past cell (`bare`) keeps only the breakpoints around its index, which
is fixed.
"""

from __future__ import annotations

import numpy as np

from optimizer.planner.program import Formulation


def prune(f: Formulation, index: np.ndarray, bare: np.ndarray) -> np.ndarray:
    """Merge `f`'s segments (module docstring); returns (old segments,) each one's new
    segment, new segments in cell order and, within a cell, by index.

    index: (cells,) yuan/min, where the plan puts each cell; bare: (cells,) bool, cells whose
    first breakpoints go too (the past's, fixed at `index`).
    """
    order = np.lexsort((f.seg_a, f.seg_cell))
    cell, a, b = f.seg_cell[order], f.seg_a[order], f.seg_b[order]
    starts = np.r_[True, cell[1:] != cell[:-1]]
    holds = (a <= index[cell]) & (index[cell] < b)
    first = np.zeros(len(cell), dtype=bool)
    T = f.problem.minutes
    for j, points in enumerate(f.initial_points):
        of_term = cell // T == j
        first[of_term] = np.isin(a[of_term], points)
    keep = starts | holds | np.r_[False, holds[:-1] & ~starts[1:]] | (first & ~bare[cell])
    group = np.cumsum(keep) - 1
    ends = np.r_[np.flatnonzero(keep)[1:], len(cell)] - 1
    f.set_segments(cell[keep], a[keep], b[ends])
    merged = np.empty(len(cell), dtype=int)
    merged[order] = group
    return merged
