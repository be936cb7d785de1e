"""The known truth behind a simulated history: scenario, seed and each session's day factors.

Saved as JSON (`truth.json`); a loaded truth gives back the same model, bit for bit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from optimizer.curves.response import SessionResponse
from optimizer.errors import InputError
from optimizer.sim.scenario import Scenario, validation_input_error
from optimizer.sim.simulator import LiveRoomSimulator


class SessionDraw(BaseModel):
    """The random day factors drawn for one simulated session (both have mean 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    start: dt.datetime
    day_factor: float
    package_factors: dict[str, float]


class Truth(BaseModel):
    """What generated a simulated history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: Scenario
    seed: int
    sessions: tuple[SessionDraw, ...]

    def simulator(self) -> LiveRoomSimulator:
        return LiveRoomSimulator(self.scenario)

    def response(self, date: dt.date | str | None = None) -> SessionResponse:
        """The truth of the session on `date` (its drawn factors and start time, the scenario's
        length), or, with no date, of a new session (factors 1: the expectation over days)."""
        if date is None:
            return self.simulator().response()
        day = dt.date.fromisoformat(date) if isinstance(date, str) else date
        draw = next((s for s in self.sessions if s.date == day), None)
        if draw is None:
            raise KeyError(f"no simulated session on {day}")
        return self.simulator().response(
            day_factor=draw.day_factor, package_factors=draw.package_factors,
            clock=draw.start.time()
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Truth:
        """Read a `truth.json`; a missing or invalid file is an InputError naming it."""
        try:
            return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            problem = f"cannot read the truth ({error.strerror})"
            raise InputError(problem, source=str(path)) from None
        except ValidationError as error:
            fix = "write it again with `spendplan simulate`"
            raise validation_input_error(error, str(path), fix) from None
