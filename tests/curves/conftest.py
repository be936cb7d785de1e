"""A small fitted model shared by the artifact and report tests (one fit per test process)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fits import fitted

from optimizer.curves import ResponseModel
from optimizer.data import History, Panel
from optimizer.sim import LiveRoomSimulator, Scenario


@dataclass(frozen=True)
class SmallFit:
    """Six sessions of the default scenario (seed 3) and the model fitted on them."""

    simulator: LiveRoomSimulator
    panel: Panel
    model: ResponseModel


@pytest.fixture(scope="session")
def small_fit() -> SmallFit:
    scenario = Scenario.builtin("default")
    simulator = LiveRoomSimulator(scenario)
    simulated = simulator.history(6, seed=3)
    history, _ = History.from_frames(simulated.spend, simulated.room)
    panel = history.panel(list(scenario.packages))
    return SmallFit(simulator, panel, fitted(panel))
