"""Nonlinear factors F(theta) of the fitted models, with their gradients.

Each factor is built once from history arrays and is then a function
``theta -> (F (n,), dF/dtheta (n, q))`` for `fit_multiplicative`. Carryover half-lives and
saturation scales are estimated on the log scale (positive, and steps of equal relative size).
"""

from __future__ import annotations

import numpy as np

from optimizer.curves.transforms import (
    Carryover,
    Exponential,
    Hill,
    Logarithmic,
    decay_of,
    session_starts,
)

LOG2 = float(np.log(2.0))


def carryover_with_slope(x: np.ndarray, session: np.ndarray, half_life: float,
                         stages: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Adstock of `x` (n,) or (n, P) through `stages` equal geometric stages of `half_life`
    minutes each (`Carryover`), and its derivative in log(half-life).

    Each stage ``a[t] = r a[t-1] + (1 - r) b[t]`` filters the previous stage's output b (the
    first's is x) and restarts at each session; its derivative in r obeys ``d[t] = r d[t-1] +
    (a[t-1] - b[t]) + (1 - r) db[t]``: the same filter of ``(a[t-1] - b[t]) / (1 - r) + db[t]``.
    """
    stage = Carryover(half_lives=(half_life,))
    r = decay_of(half_life)
    first = session_starts(session)
    a, d_r = np.asarray(x, dtype=float), np.zeros(np.shape(x))
    for _ in range(stages):
        out = stage.apply_sessions(a, session)
        previous = np.roll(out, 1, axis=0)
        previous[first] = 0.0
        d_r = stage.apply_sessions((previous - a) / (1.0 - r) + d_r, session)
        a = out
    return a, d_r * (r * LOG2 / half_life)


def family_saturation(family: str, k: float, shape: float | None = None
                      ) -> Exponential | Hill | Logarithmic:
    """The saturation of a paid curve of `family` ("exponential", "hill" or "log") with scale
    `k` (yuan/min of carried-over spend) and, for "hill", its `shape`."""
    if family == "hill":
        return Hill(k=k, shape=shape)
    return Logarithmic(k=k) if family == "log" else Exponential(k=k)


class PaidFactor:
    """``F = S(adstock(spend))`` for one package: theta = (log half-life, log k[, shape]).

    spend: (n,) yuan/min of the package in live minutes; session: (n,) session ids.
    family: "exponential", "hill" or "log" (``S(a) = log(1 + a / k)``, `Logarithmic`).
    stages: equal geometric carryover stages, each of the half-life (2: a delayed peak).
    """

    def __init__(self, spend: np.ndarray, session: np.ndarray, family: str,
                 stages: int = 1) -> None:
        self.spend = np.asarray(spend, dtype=float)
        self.session = np.asarray(session)
        self.family = family
        self.stages = stages

    @property
    def names(self) -> tuple[str, ...]:
        base = ("log_half_life", "log_k")
        return (*base, "shape") if self.family == "hill" else base

    def saturation(self, theta: np.ndarray) -> Exponential | Hill | Logarithmic:
        shape = float(theta[2]) if self.family == "hill" else None
        return family_saturation(self.family, float(np.exp(theta[1])), shape)

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, da = carryover_with_slope(self.spend, self.session, float(np.exp(theta[0])),
                                     self.stages)
        saturation = self.saturation(theta)
        F = saturation(a)
        columns = [saturation.derivative(a) * da]
        if self.family == "hill":
            ratio = (np.maximum(a, 1e-300) / saturation.k) ** saturation.shape
            dS_dratio = 1.0 / (1.0 + ratio) ** 2
            columns.append(-saturation.shape * ratio * dS_dratio)
            columns.append(ratio * np.log(np.maximum(a, 1e-300) / saturation.k) * dS_dratio)
        elif self.family == "log":  # d log(1 + a/k) / d log k = -a / (k + a)
            spent = np.maximum(a, 0.0)
            columns.append(-spent / (saturation.k + spent))
        else:
            z = a / saturation.k
            columns.append(-np.exp(-z) * z)
        return F, np.column_stack(columns)


ORGANIC_FLOOR = 1e-3
"""Least F of the organic factor: cannibalisation takes at most 99.9% of the baseline (keeps
the fit away from F <= 0, where the log-linear scale would have to explode to fit GMV > 0)."""


def split_leverage(leverage: np.ndarray, split: bool) -> tuple[np.ndarray, np.ndarray]:
    """(gain, loss), each (P,): the leverages an uplift saturates and those it takes linearly.
    With `split` (a paid-driven uplift) the positive ones saturate and the negative ones are
    linear; without it every leverage saturates, over the net index (loss all 0)."""
    leverage = np.asarray(leverage, dtype=float)
    gain = np.maximum(leverage, 0.0) if split else leverage
    return gain, leverage - gain


class UpliftFactor:
    """``F = 1 + G(z) / level``, ``z = adstock(drive) @ leverage``, ``G(z) = c (1 - exp(-z / c))``.

    theta = (log half-life, leverage per package (P,), log c). Leverage is organic GMV per yuan
    of drive at the room's average organic level `level` (yuan/min), any sign; c (yuan/min) is
    where the uplift saturates.
    drive: (n, P) yuan/min, each package's spend or expected paid GMV; session: (n,) session ids.
    split: only the packages of positive leverage saturate, ``F = 1 + (G(z+) + z-) / level``
        with z+ and z- the index's parts of positive and negative leverage: cannibalisation
        is linear (the form a paid-driven uplift needs, `optimizer.curves.organic`).
    """

    def __init__(self, drive: np.ndarray, session: np.ndarray, level: float,
                 split: bool = False) -> None:
        self.drive = np.asarray(drive, dtype=float)
        self.session = np.asarray(session)
        self.level = float(level)
        self.split = split

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u, du = carryover_with_slope(self.drive, self.session, float(np.exp(theta[0])))
        leverage, c = theta[1:-1], float(np.exp(theta[-1]))
        gain, loss = split_leverage(leverage, self.split)
        z = u @ gain
        decay = np.exp(np.minimum(-z / c, 50.0))
        G = c * (1.0 - decay)
        F = 1.0 + (G + u @ loss) / self.level
        # a leverage of 0 takes the linear side: at z = 0 both sides have slope 1
        slope = np.where(leverage > 0, decay[:, None], 1.0) if self.split else decay[:, None]
        columns = [(decay * (du @ gain) + du @ loss)[:, None], slope * u,
                   (G - z * decay)[:, None]]
        floored = F < ORGANIC_FLOOR
        dF = np.where(floored[:, None], 0.0, np.hstack(columns) / self.level)
        return np.maximum(F, ORGANIC_FLOOR), dF
