"""Small sessions built directly from the curves' transforms (no fitting, no simulator)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover, Exponential, Hill


def make_response(
    packages: int = 3,
    minutes: int = 30,
    *,
    seed: int = 0,
    carryover: bool = True,
    uplift: bool = True,
    cannibal: bool = False,
) -> SessionResponse:
    """A session of `minutes` x `packages` with varied curves.

    Paid terms alternate exponential and Hill saturations (k 100-400 yuan/min, marginal ROI at
    zero spend 2-6); with `carryover` each has a 1-6 min half-life; with `uplift` one organic
    term mixes all packages through a two-stage carryover; `cannibal` gives the last package a
    negative organic weight.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(minutes)
    profile = 1.0 + 0.4 * np.sin(2 * np.pi * t / max(minutes, 20))
    paid = []
    for p in range(packages):
        k = rng.uniform(100, 400)
        saturation = Exponential(k=k) if p % 2 == 0 else Hill(k=k, shape=rng.uniform(0.6, 1.0))
        scale = rng.uniform(2.0, 6.0) * k * profile
        halves = (float(rng.uniform(1, 6)),) if carryover else ()
        weights = np.eye(packages)[p]
        paid.append(ResponseTerm(scale, saturation, Carryover(half_lives=halves), weights))
    terms = []
    if uplift:
        weights = rng.uniform(0.3, 1.0, packages)
        if cannibal:
            weights[-1] = -0.6
        halves = (3.0, 6.0) if carryover else ()
        terms.append(
            ResponseTerm(
                800.0 * profile, Exponential(k=600.0), Carryover(half_lives=halves), weights
            )
        )
    names = tuple(f"pkg{p}" for p in range(packages))
    return SessionResponse(names, 1500.0 * profile, tuple(paid), tuple(terms))


@pytest.fixture(name="make_response")
def make_response_fixture():
    """The `make_response` factory, for tests."""
    return make_response
