"""The expected response of one session to a spend schedule: what the planner optimises.

A session's response is a baseline of organic GMV plus a sum of *terms*. Each term is a concave
function of a linear index of spend::

    value_j[t] = scale_j[t] * S_j(z_j[t]),   z_j = carryover_j applied to (spend @ weights_j)

Paid GMV of package p is one term with one-hot weights on p. Organic uplift is one or more terms
whose weights (organic leverage per package, any sign) mix all packages, so the program is not
separable across packages. An uplift term's index is built from spend (``driver="spend"``) or
from the session's expected paid GMV per package (``driver="paid"``: paid traffic, not the
yuan paid for it, levers organic traffic, so the uplift saturates with each package's curve).
Fitted models (`optimizer.curves`) and the simulator's truth (`optimizer.sim`) both produce a
`SessionResponse`, so the planner treats them alike.

Shapes: a spend schedule is (T, P): T session minutes, P packages, yuan per minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from optimizer.curves.transforms import Carryover, Saturation, concave_envelope

Driver = Literal["spend", "paid"]
"""What drives an uplift term's index: spend, or the session's expected paid GMV."""


@dataclass(frozen=True)
class ResponseTerm:
    """``scale[t] * saturation(carryover(drive @ weights)[t])``.

    scale: (T,) yuan/min, the term's value per unit of saturation in each minute.
    weights: (P,) index weight of each package's drive (dimensionless).
    driver: what drives the index, (T, P) yuan/min: "spend", or "paid", the session's expected
        paid GMV per package (uplift terms only; `SessionResponse.drive` gives it).
    """

    scale: np.ndarray
    saturation: Saturation
    carryover: Carryover
    weights: np.ndarray
    driver: Driver = "spend"

    def index(self, drive: np.ndarray) -> np.ndarray:
        """z[t], shape (T,): the carried-over weighted drive (T, P) the saturation sees."""
        return self.carryover.apply(np.asarray(drive, dtype=float) @ self.weights)

    def value(self, drive: np.ndarray) -> np.ndarray:
        """Term value per minute, shape (T,), yuan."""
        return self.scale * self.saturation(self.index(drive))

    def attribution(self, drive: np.ndarray) -> np.ndarray:
        """Split of `value` among packages, shape (T, P); rows sum to `value`.

        Each package gets its share of the index times the term's average return
        ``S(z) / z`` (``S'(0)`` where z = 0): the documented attribution of organic uplift.
        """
        drive = np.asarray(drive, dtype=float)
        parts = self.carryover.apply(drive) * self.weights  # (T, P), sums to z
        z = parts.sum(axis=1)
        moving = np.abs(z) > 1e-9
        rate = np.where(moving, self.saturation(z) / np.where(moving, z, 1.0),
                        self.saturation.derivative(0.0))
        return (self.scale * rate)[:, None] * parts


@dataclass(frozen=True)
class SessionResponse:
    """Expected GMV of one session as a function of its spend schedule.

    packages: package ids, the column order of every (T, P) array.
    baseline: (T,) expected organic GMV with no paid spend, yuan per minute.
    paid: one term per package, in `packages` order (one-hot weights).
    uplift: terms whose sum is the organic uplift over the baseline; a term driven by paid
        GMV (``driver="paid"``) reads these paid terms' values.
    """

    packages: tuple[str, ...]
    baseline: np.ndarray
    paid: tuple[ResponseTerm, ...]
    uplift: tuple[ResponseTerm, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.paid) != len(self.packages):
            raise ValueError("one paid term per package is required")
        if any(term.driver != "spend" for term in self.paid):
            raise ValueError("paid terms are driven by spend")

    @property
    def minutes(self) -> int:
        """Session length T in minutes."""
        return len(self.baseline)

    def paid_gmv(self, spend: np.ndarray) -> np.ndarray:
        """Expected paid GMV, shape (T, P), yuan per minute."""
        return np.column_stack([term.value(spend) for term in self.paid])

    @property
    def paid_driven(self) -> bool:
        """Whether some uplift term is driven by paid GMV rather than spend."""
        return any(term.driver == "paid" for term in self.uplift)

    def drive(self, term: ResponseTerm, spend: np.ndarray,
              paid: np.ndarray | None = None) -> np.ndarray:
        """(T, P) yuan/min that drives `term`'s index under `spend` (T, P): the spend, or the
        expected paid GMV (`paid`, if already computed) for a ``driver="paid"`` term."""
        if term.driver == "spend":
            return np.asarray(spend, dtype=float)
        return self.paid_gmv(spend) if paid is None else paid

    def _drives(self, spend: np.ndarray) -> list[np.ndarray]:
        paid = self.paid_gmv(spend) if self.paid_driven else None
        return [self.drive(term, spend, paid) for term in self.uplift]

    def organic_uplift(self, spend: np.ndarray) -> np.ndarray:
        """Expected organic uplift over the baseline, shape (T,), yuan per minute."""
        return sum((term.value(drive) for term, drive in zip(self.uplift, self._drives(spend),
                                                             strict=True)),
                   np.zeros(self.minutes))

    def uplift_by_package(self, spend: np.ndarray) -> np.ndarray:
        """Organic uplift attributed to packages, shape (T, P); rows sum to `organic_uplift`."""
        shape = (self.minutes, len(self.packages))
        return sum((term.attribution(drive) for term, drive in zip(self.uplift,
                                                                   self._drives(spend),
                                                                   strict=True)),
                   np.zeros(shape))

    def organic_gmv(self, spend: np.ndarray) -> np.ndarray:
        """Expected organic GMV (baseline + uplift, never below 0), shape (T,), yuan per minute."""
        return np.maximum(self.baseline + self.organic_uplift(spend), 0.0)

    def enveloped(self) -> SessionResponse:
        """The response with every paid saturation on its concave envelope
        (`concave_envelope`): what the planner takes of an S-shaped truth; the same response
        where every curve is concave."""
        paid = tuple(replace(term, saturation=concave_envelope(term.saturation))
                     for term in self.paid)
        return replace(self, paid=paid)

    def stepper(self) -> ResponseStepper:
        """The response evaluated minute by minute as spend arrives (see `ResponseStepper`)."""
        return ResponseStepper(self)


class ResponseStepper:
    """A `SessionResponse` evaluated one minute at a time, as a live session unfolds.

    `step(spend)` takes minute t's spend and returns minute t's expected paid and organic GMV,
    equal to ``paid_gmv(schedule)[t]`` and ``organic_gmv(schedule)[t]`` of the schedule so far
    (later minutes cannot matter): each term keeps its carryover stages' state, so a session
    costs O(T) where re-evaluating the schedule each minute costs O(T²).
    """

    def __init__(self, response: SessionResponse) -> None:
        self.response = response
        self.minute = 0
        self._terms = response.paid + response.uplift
        self._decays = [[r for r in term.carryover.decays if r > 0] for term in self._terms]
        self._states = [np.zeros(len(decays)) for decays in self._decays]

    def step(self, spend: np.ndarray) -> tuple[np.ndarray, float]:
        """Expected (paid GMV (P,), organic GMV) in yuan of the next minute, given its spend
        (P,) yuan; raises IndexError after the session's last minute."""
        t = self.minute
        if t >= self.response.minutes:
            raise IndexError(f"the session has {self.response.minutes} minutes")
        spend = np.asarray(spend, dtype=float)
        P = len(self.response.paid)
        values = np.empty(len(self._terms))
        for j, (term, decays, state) in enumerate(
            zip(self._terms, self._decays, self._states, strict=True)
        ):
            # paid terms come first, so a paid-driven uplift term reads this minute's paid GMV
            level = float((values[:P] if term.driver == "paid" else spend) @ term.weights)
            for i, r in enumerate(decays):
                state[i] = r * state[i] + (1 - r) * level
                level = state[i]
            values[j] = term.scale[t] * float(term.saturation(level))
        self.minute += 1
        organic = max(float(self.response.baseline[t] + values[P:].sum()), 0.0)
        return values[:P], organic
