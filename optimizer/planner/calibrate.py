"""How a re-plan's floors learn from the session so far: is today running above or below the
model?

A day's level is shared by its minutes (traffic, conversion, the room's form): when the GMV
earned so far is 10% under what the model expects at the spend actually made, the rest of the
session will probably run under it too, and floors held with the model's average day would be
missed. A re-plan therefore holds its floors and GMV target with the rest of the session's GMV
scaled by the day's ratio

    ratio = 1 + m / (m + PRIOR_MINUTES) * (earned / expected - 1)

(m minutes so far; the model's average day counts as `PRIOR_MINUTES` minutes of evidence, so a
few noisy minutes move it little), rounded down to a `STEP`. Paid GMV sets the paid floor's
ratio; paid plus organic GMV (baseline included) the overall floor's and the GMV target's.
`Past` writes the scaled rows exactly (see there); the objective keeps the model's average day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.planner.problem import PlanningProblem

PRIOR_MINUTES = 20.0
"""Minutes of evidence the model's average day is worth against the session's own."""

NOTE_FROM = 0.05
"""A re-plan notes the day's ratio in its warnings when it is this far from 1."""

LOWEST = 0.05
"""The smallest ratio used (a session earning nothing so far is not a day earning nothing)."""

STEP = 0.005
"""Ratios are used in steps of this size, rounded down (the cautious side for a floor): a
re-plan that sees the same level as the one before keeps the program's coefficients, whose
change costs the solver its factorisation."""


@dataclass(frozen=True)
class DayRatio:
    """The session's level so far against the model (1.0 = as expected, 0.9 = 10% under).

    paid: paid GMV earned / expected, shrunk towards 1; total: paid + organic GMV (baseline
    included) earned / expected, shrunk towards 1.
    """

    paid: float = 1.0
    total: float = 1.0

    @classmethod
    def of(cls, problem: PlanningProblem, minute: int, spend: np.ndarray, paid: np.ndarray,
           organic: np.ndarray) -> DayRatio:
        """spend, paid: (minute, P) yuan/min so far; organic: (minute,) yuan/min (baseline
        included). The expectation is the problem's (central) response at that spend."""
        past = np.zeros((problem.minutes, len(problem.packages)))
        past[:minute] = spend
        expected_paid = float(problem.response.paid_gmv(past)[:minute].sum())
        expected_total = expected_paid + float(problem.response.organic_gmv(past)[:minute].sum())
        weight = minute / (minute + PRIOR_MINUTES)
        return cls(paid=_shrunk(float(paid.sum()), expected_paid, weight),
                   total=_shrunk(float(paid.sum() + organic.sum()), expected_total, weight))

    def of_row(self, row: str) -> float:
        """The ratio a program row ("paid_floor", "overall_floor", "gmv_target") holds with."""
        return self.paid if row == "paid_floor" else self.total

    def notes(self, rows: set[str]) -> list[str]:
        """Words for the plan's warnings when the day is clearly off the model."""
        notes, off = [], NOTE_FROM - 1e-9  # ratios sit on the STEP grid
        if "paid_floor" in rows and abs(self.paid - 1) >= off:
            notes.append(f"paid GMV so far runs {_words(self.paid)} the model; the paid ROI "
                         "floor is held with the rest of the session at that level")
        held = [words for row, words in (("overall_floor", "overall ROI floor"),
                                         ("gmv_target", "GMV target")) if row in rows]
        if held and abs(self.total - 1) >= off:
            notes.append(f"total GMV so far runs {_words(self.total)} the model; the "
                         f"{' and the '.join(held)} {'are' if len(held) > 1 else 'is'} held "
                         "with the rest of the session at that level")
        return notes


def _shrunk(earned: float, expected: float, weight: float) -> float:
    if expected <= 0:
        return 1.0
    ratio = 1.0 + weight * (earned / expected - 1.0)
    return max(math.floor(ratio / STEP + 1e-9) * STEP, LOWEST)


def _words(ratio: float) -> str:
    return f"{abs(ratio - 1):.0%} {'above' if ratio > 1 else 'below'}"
