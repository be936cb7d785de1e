"""A package's spend levels over slots, held to the platform's level-change rules.

The continuous plan moves its levels freely; the platform allows at most K changes per package,
each of at least a step. `fewest_changes` approximates a level sequence by K + 1 constant
pieces (least squares, exact by dynamic programming); `change_pattern` says which slots then
change, and in which direction: what the integer heuristic fixes before the program refills
the levels. A re-plan passes the level in force (`start`): it holds until the first change.
"""

from __future__ import annotations

import itertools

import numpy as np


def fewest_changes(levels: np.ndarray, changes: int, start: float | None = None) -> np.ndarray:
    """(S,) the closest sequence to `levels` (S,) yuan/min in squared error that changes at most
    `changes` times, each piece at its mean (`levels` itself when that many changes suffice).

    start: the level in force before the first slot (None: none). The first piece then holds
    it, possibly for no slot, and a move away from it counts as a change.
    Dynamic programming over piece ends: O(changes x S^2) time, O(S^2) memory.
    """
    levels = np.asarray(levels, dtype=float)
    S = len(levels)
    if changes >= S - (start is None):
        return levels.copy()
    first, second = (np.r_[0.0, np.cumsum(v)] for v in (levels, levels**2))
    begin, end = np.arange(S + 1)[:, None], np.arange(S + 1)[None, :]
    width = np.maximum(end - begin, 1)
    sums = first[end] - first[begin]
    cost = np.where(end > begin, second[end] - second[begin] - sums**2 / width, np.inf)
    # best[j]: the least error of levels[:j] in the pieces so far
    best = cost[0].copy() if start is None else second - 2 * start * first + start**2 * end[0]
    ends = []
    for _ in range(changes):
        total = best[:, None] + cost
        ends.append(np.argmin(total, axis=0))
        best = total[ends[-1], np.arange(S + 1)]
    bounds, j = [S], S
    for back in reversed(ends):
        j = int(back[j])
        bounds.append(j)
    bounds.reverse()  # bounds[0]: where the first piece ends
    out = np.empty(S)
    out[: bounds[0]] = levels[: bounds[0]].mean() if start is None else start
    for a, b in itertools.pairwise(bounds):
        out[a:b] = levels[a:b].mean()  # every later piece holds a slot at least
    return out


def change_pattern(levels: np.ndarray, changes: int | None, step: float | None,
                   start: float | None = None, least: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(up, down) of 0/1: the slots whose level rises or falls once `levels` (S,) yuan/min is
    held to at most `changes` changes (None: any number) and a move of less than `least` x
    the `step` (None: any move) is not made; a smaller move that is made goes a whole step.
    Each is (S - 1,), for the slots after the first, or (S,) when the level in force before
    them is given (`start`), the first measuring the move from it. A move not made leaves the
    level where it was, and the next move is measured from there, so every level held stays
    within the range of `levels` and `start` (a cap) and every move made is at least the
    step."""
    held = fewest_changes(levels, len(levels) if changes is None else changes, start)
    path = held if start is None else np.r_[start, held]
    tiny = 1e-6 * max(float(np.abs(path).max(initial=0.0)), 1.0)
    step = max(step or 0.0, tiny)
    span = np.r_[levels, [] if start is None else [start]]  # the range a level may take
    low, high = (span.min(), span.max()) if len(span) else (0.0, 0.0)
    up, down = np.zeros(max(len(path) - 1, 0)), np.zeros(max(len(path) - 1, 0))
    level = path[0] if len(path) else 0.0
    for s in np.flatnonzero(np.diff(path)):
        move = path[s + 1] - level
        if abs(move) < max(least * step, tiny):
            continue
        target = level + np.sign(move) * max(abs(move), step)
        if low - tiny <= target <= high + tiny:
            (up if move > 0 else down)[s] = 1.0
            level = target
    return up, down
