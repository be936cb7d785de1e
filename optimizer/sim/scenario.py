"""A simulation scenario: the known truth of one live room, loadable from YAML.

Units: money in yuan, rates in yuan per minute, durations and half-lives in minutes. The
generative model these parameters feed is described in `optimizer.sim.simulator`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from optimizer.curves.transforms import Carryover, Linear, Saturation
from optimizer.data.yaml_file import read_yaml
from optimizer.errors import InputError
from optimizer.sim.profile import ClockProfile, TrafficProfile

BUILTIN_DIR = Path(__file__).parent / "scenarios"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
"""A local clock time, "HH:MM"."""


class HistoryStarts(_Section):
    """A kind of history session, drawn with probability proportional to `weight`: its start
    uniformly from `start_times` (local "HH:MM"), its length uniformly from `minutes`."""

    start_times: tuple[ClockTime, ...] = Field(min_length=1)
    minutes: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)


class SessionSpec(_Section):
    """When sessions start (local "HH:MM") and how many minutes they last: the planned session
    and, unless `history` says otherwise, every history session.

    history: kinds of history session (`HistoryStarts`), one drawn per simulated day; empty
    (the default): every history session starts at `start_time` and lasts `minutes`.
    """

    start_time: ClockTime = "19:00"
    minutes: int = Field(default=240, ge=1)
    history: tuple[HistoryStarts, ...] = ()

    @property
    def start(self) -> dt.time:
        return dt.time.fromisoformat(self.start_time)

    def draw_history(self, rng: np.random.Generator) -> tuple[dt.time, int]:
        """One history session's start and length (minutes), drawn from `history`."""
        weights = np.array([kind.weight for kind in self.history])
        kind = self.history[rng.choice(len(self.history), p=weights / weights.sum())]
        start = kind.start_times[rng.integers(len(kind.start_times))]
        return dt.time.fromisoformat(start), int(kind.minutes[rng.integers(len(kind.minutes))])


class RoomTruth(_Section):
    """The room's organic side and its order noise.

    baseline_per_minute: organic GMV with no paid spend at profile level 1 (yuan/min).
    uplift_max_per_minute: ceiling of the positive organic uplift at profile level 1 (yuan/min).
    organic_carryover: how long paid spend keeps levering organic traffic (shared by packages).
    organic_driver: what levers organic traffic: "spend" (each package's leverage is organic
        yuan per paid yuan) or "paid_gmv" (organic yuan per yuan of the package's expected
        paid GMV: the uplift saturates with the package's own curve).
    aov: average organic order value (yuan); order_value_shape: gamma shape of one order's value.
    day_sigma: log-sd of the room's day factor (mean 1).
    dispersion: None for Poisson order counts, else the negative-binomial size (variance of a
        count with mean μ is μ + μ²/dispersion), used for every count in the room.
    views_per_order: organic room views per organic order; viewer_stay_half_life: minutes a
        viewer stays in the room (half-life), for the optional viewer columns.
    """

    baseline_per_minute: float = Field(ge=0)
    uplift_max_per_minute: float = Field(ge=0)
    organic_carryover: Carryover = Carryover(half_lives=(15.0,))
    organic_driver: Literal["spend", "paid_gmv"] = "spend"
    aov: float = Field(gt=0)
    order_value_shape: float = Field(default=2.0, gt=0)
    day_sigma: float = Field(default=0.0, ge=0)
    dispersion: float | None = Field(default=None, gt=0)
    views_per_order: float = Field(default=40.0, gt=0)
    viewer_stay_half_life: float = Field(default=3.0, gt=0)


class PackageTruth(_Section):
    """One audience package's paid response and its organic leverage.

    max_gmv_per_minute: V, paid GMV at full saturation and profile level 1 (yuan/min).
    saturation: S of the package's adstock (yuan/min); a saturating family, not linear.
    carryover: paid adstock (minutes). peak_sensitivity: γ, paid GMV scales with m(τ)^γ.
    organic_leverage: ℓ, organic yuan per paid yuan at low spend (per paid GMV yuan when the
        room's organic_driver is "paid_gmv"); ℓ < 0 cannibalises organic GMV.
    day_sigma: log-sd of the package's own day factor (mean 1). aov: average order value (yuan).
    typical_spend: the operator's usual level at the peak (yuan/min, the median level).
    cpm: yuan per thousand impressions; ctr: clicks per impression (optional columns only).
    """

    max_gmv_per_minute: float = Field(gt=0)
    saturation: Saturation
    carryover: Carryover = Carryover()
    peak_sensitivity: float = Field(default=1.0, ge=0)
    organic_leverage: float = 0.0
    day_sigma: float = Field(default=0.0, ge=0)
    aov: float = Field(gt=0)
    typical_spend: float = Field(ge=0)
    cpm: float = Field(default=40.0, gt=0)
    ctr: float = Field(default=0.02, ge=0, le=1)

    @field_validator("saturation")
    @classmethod
    def _saturating(cls, value: Any) -> Any:
        if isinstance(value, Linear):
            raise ValueError("a paid package needs a saturating family: exponential, hill or log")
        return value


class OperatorSpec(_Section):
    """How the room's operators spent historically (the confounded spend of the history).

    Per package, spend holds a level for U(change_min, change_max) minutes, then changes. The
    level is typical_spend · m(τ)^confounding · lognormal(0, level_sigma), τ the minute of the
    change. At each change the package is switched off with probability off_probability for
    U(off_min, off_max) minutes. Each minute's spend is the level times lognormal(0, spend_noise).
    """

    change_min: int = Field(default=3, ge=1)
    change_max: int = Field(default=15, ge=1)
    confounding: float = Field(default=1.0, ge=0)
    level_sigma: float = Field(default=0.4, ge=0)
    off_probability: float = Field(default=0.1, ge=0, le=1)
    off_min: int = Field(default=5, ge=1)
    off_max: int = Field(default=30, ge=1)
    spend_noise: float = Field(default=0.05, ge=0)

    @model_validator(mode="after")
    def _ordered_ranges(self) -> OperatorSpec:
        for low, high in (("change_min", "change_max"), ("off_min", "off_max")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} must not exceed {high}")
        return self


class Scenario(_Section):
    """The whole truth of a simulated room; `packages` order is the column order of (T, P).

    clock: traffic by clock time of day, multiplied into `profile` (None: none)."""

    name: str
    description: str = ""
    room_id: str
    session: SessionSpec = SessionSpec()
    first_day: dt.date
    profile: TrafficProfile = TrafficProfile()
    clock: ClockProfile | None = None
    room: RoomTruth
    packages: dict[str, PackageTruth] = Field(min_length=1)
    operator: OperatorSpec = OperatorSpec()

    @property
    def package_ids(self) -> tuple[str, ...]:
        return tuple(self.packages)

    @classmethod
    def parse(cls, data: Any, source: str) -> Scenario:
        """Validate a mapping; any problem is an InputError naming `source` and the key."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise validation_input_error(error, source, "correct the scenario file") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        """Load a scenario file, read as configs are (`read_yaml`: YAML 1.2 scalars, no key
        twice); a missing, unreadable or invalid file is an InputError."""
        return cls.parse(read_yaml(Path(path)), str(path))

    def to_yaml(self, path: str | Path) -> Path:
        """Write the scenario as YAML that `from_yaml` reads back into an equal scenario."""
        path = Path(path)
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def builtin(cls, name: str) -> Scenario:
        """A bundled scenario by name (see `list_builtin`)."""
        if name not in list_builtin():
            raise InputError(
                f"no builtin scenario {name!r}",
                where="scenario",
                fix=f"use one of {', '.join(list_builtin())} or a path to a YAML file",
            )
        return cls.from_yaml(BUILTIN_DIR / f"{name}.yaml")


def list_builtin() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def validation_input_error(error: ValidationError, source: str, fix: str) -> InputError:
    """The pydantic errors of the file `source` as one InputError naming each key."""
    problems = [
        (".".join(str(part) for part in item["loc"]) or "(top level)", item["msg"])
        for item in error.errors()
    ]
    key, message = problems[0]
    more = "".join(f"; key {k!r}: {m}" for k, m in problems[1:])
    return InputError(message + more, source=source, where=f"key {key!r}", fix=fix)
