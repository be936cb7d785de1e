"""A package's spend levels over slots, held to the platform's level-change rules.

The continuous plan moves its levels freely; the platform allows at most K changes per package,
each of at least a step. `fewest_changes` approximates a level sequence by K + 1 constant
pieces (least squares, exact by dynamic programming); `change_pattern` says which slots then
change, and in which direction: what the integer heuristic fixes before the program refills
the levels.
"""

from __future__ import annotations

import numpy as np


def fewest_changes(levels: np.ndarray, changes: int) -> np.ndarray:
    """(S,) the closest sequence to `levels` (S,) yuan/min in squared error that changes at most
    `changes` times, each piece at its mean (`levels` itself when that many changes suffice).

    Dynamic programming over piece ends: O(changes x S^2) time, O(S^2) memory.
    """
    levels = np.asarray(levels, dtype=float)
    S = len(levels)
    if changes >= S - 1:
        return levels.copy()
    first, second = (np.r_[0.0, np.cumsum(v)] for v in (levels, levels**2))
    start, end = np.arange(S + 1)[:, None], np.arange(S + 1)[None, :]
    width = np.maximum(end - start, 1)
    sums = first[end] - first[start]
    cost = np.where(end > start, second[end] - second[start] - sums**2 / width, np.inf)
    best, ends = cost[0].copy(), []  # best[j]: least error of levels[:j] in the pieces so far
    for _ in range(changes):
        total = best[:, None] + cost
        ends.append(np.argmin(total, axis=0))
        best = total[ends[-1], np.arange(S + 1)]
    bounds, j = [S], S
    for back in reversed(ends):
        j = int(back[j])
        bounds.append(j)
    bounds = sorted(set(bounds) | {0})
    out = np.empty(S)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        out[a:b] = levels[a:b].mean()
    return out


def change_pattern(levels: np.ndarray, changes: int | None, step: float | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(up, down), each (S - 1,) of 0/1: the slots after the first whose level rises or falls
    once `levels` (S,) yuan/min is held to at most `changes` changes (None: any number), moves
    of less than the `step` (None: any move) held flat, so that the levels held stay within the
    range `levels` spans (a cap) and still make every move."""
    held = fewest_changes(levels, len(levels) if changes is None else changes)
    move = np.diff(held)
    least = max(step or 0.0, 1e-6 * max(float(np.abs(held).max(initial=0.0)), 1.0))
    return (move >= least).astype(float), (move <= -least).astype(float)
