"""Live-room simulator with a known truth: scenarios, expected and noisy sessions, history.

`Scenario` (YAML) describes a room; `LiveRoomSimulator` turns it into the true
`SessionResponse`, noisy draws and operator-like spend; `write_simulation` writes a history in
the contract's format with its `truth.json`; `random_scenario` draws an off-model room.
"""

from optimizer.sim.history import SimulatedHistory, write_simulation
from optimizer.sim.outcome import Expected, Realised
from optimizer.sim.profile import Event, TrafficProfile
from optimizer.sim.random_truth import random_scenario
from optimizer.sim.scenario import (
    OperatorSpec,
    PackageTruth,
    RoomTruth,
    Scenario,
    SessionSpec,
    list_builtin,
)
from optimizer.sim.simulator import LiveRoomSimulator
from optimizer.sim.truth import SessionDraw, Truth

__all__ = [
    "Event",
    "Expected",
    "LiveRoomSimulator",
    "OperatorSpec",
    "PackageTruth",
    "Realised",
    "RoomTruth",
    "Scenario",
    "SessionDraw",
    "SessionSpec",
    "SimulatedHistory",
    "TrafficProfile",
    "Truth",
    "list_builtin",
    "random_scenario",
    "write_simulation",
]
