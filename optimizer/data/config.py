"""The campaign config (see CONTRACT.md): pydantic models and the YAML loader.

Money is in yuan, rates in yuan per minute, times are local with minute resolution. Unknown
keys are errors. Every problem becomes one InputError that names the file and the key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from optimizer.data.config_errors import config_error
from optimizer.data.yaml_file import read_yaml
from optimizer.errors import InputError

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
ONE_MINUTE = timedelta(minutes=1)
COMMON_SLOTS = (1, 5, 10, 15, 30, 60)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, coerce_numbers_to_str=True
    )


class HistoryPaths(_Model):
    """The history tables; relative paths are taken from the config file's folder."""

    spend: Path
    room: Path

    @field_validator("spend", "room")
    @classmethod
    def _absolute(cls, path: Path, info: ValidationInfo) -> Path:
        base = Path((info.context or {}).get("base_dir", Path.cwd()))
        return (base / path.expanduser()).resolve()


class SessionSpec(_Model):
    """The session to plan: [start, end) in local time, cut into `slot_minutes` slots."""

    start: datetime
    end: datetime
    slot_minutes: int = Field(1, ge=1)

    @field_validator("start", "end")
    @classmethod
    def _local_minute(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError(
                f"must be local time without a UTC offset (got {value.isoformat()}); "
                'write it like "2026-12-01 19:00"'
            )
        if value.second or value.microsecond:
            raise ValueError(
                f"must be on a whole minute (got {value}); drop the seconds: "
                f'"{value:%Y-%m-%d %H:%M}"'
            )
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(
                f"must be after session.start ({start:%Y-%m-%d %H:%M}), got "
                f"{end:%Y-%m-%d %H:%M}; end is exclusive: a session from 19:00 to 23:00 has "
                "end 23:00"
            )
        return end

    @field_validator("slot_minutes")
    @classmethod
    def _whole_slots(cls, slot: int, info: ValidationInfo) -> int:
        start, end = info.data.get("start"), info.data.get("end")
        if start is None or end is None:
            return slot
        minutes = (end - start) // ONE_MINUTE
        if minutes < slot:
            raise ValueError(
                f"the session is {minutes} minutes long, shorter than one {slot}-minute slot; "
                "use a smaller slot_minutes or a longer session"
            )
        if minutes % slot:
            fits = [s for s in COMMON_SLOTS if minutes % s == 0]
            raise ValueError(
                f"the session's {minutes} minutes are not a whole number of {slot}-minute "
                f"slots; use a slot_minutes that divides {minutes} (such as "
                f"{', '.join(map(str, fits))}) or move session.end"
            )
        return slot

    @property
    def minutes(self) -> int:
        """Length of the session in minutes."""
        return (self.end - self.start) // ONE_MINUTE

    @property
    def slots(self) -> int:
        """Number of slots in the session."""
        return self.minutes // self.slot_minutes


class RoiFloors(_Model):
    """Optional floors on paid ROI (paid GMV / spend) and overall ROI (total GMV / spend).

    A floor of 0 is no floor (every plan's ROI is at least 0): read as null.
    """

    paid_min: NonNegative | None = None
    overall_min: NonNegative | None = None

    @field_validator("paid_min", "overall_min")
    @classmethod
    def _zero_is_none(cls, value: float | None) -> float | None:
        return value or None


class CurveSettings(_Model):
    """A response curve given by hand, for a package the history never saw.

    Paid GMV per minute at spend a (yuan/min) is `max_gmv_per_minute * (1 - exp(-a / k))`
    (exponential) or `max_gmv_per_minute * a**shape / (k**shape + a**shape)` (hill), with
    k = `saturation_spend`, at the session's average traffic.
    """

    family: Literal["exponential", "hill"] = "exponential"
    max_gmv_per_minute: Positive
    saturation_spend: Positive
    shape: Fraction = 1.0
    carryover_minutes: NonNegative = 0.0
    organic_leverage: float = 0.0


class PackageLimits(_Model):
    """Per-package limits in yuan per minute, and curve settings for a package history lacks.

    `max_spend_per_minute: 0` keeps the package out of the plan. `min_spend_when_active`
    makes the package's spend in each minute either 0 or at least that much.
    """

    max_spend_per_minute: NonNegative | None = None
    min_spend_when_active: NonNegative | None = None
    curve: CurveSettings | None = None

    @field_validator("min_spend_when_active")
    @classmethod
    def _not_above_max(cls, low: float | None, info: ValidationInfo) -> float | None:
        high = info.data.get("max_spend_per_minute")
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"{low:g} yuan/min is more than max_spend_per_minute ({high:g} yuan/min); "
                "lower min_spend_when_active or raise max_spend_per_minute"
            )
        return low


class PlatformSettings(_Model):
    """The ad platform's rules (optional; each makes the plan an integer program).

    max_changes: at most this many spend-level changes per package per session.
    change_step: yuan/min; each change moves a package's level by at least this much.
    spend_unit: yuan/min; every level is a whole multiple of it.
    """

    max_changes: int | None = Field(None, ge=0)
    change_step: Positive | None = None
    spend_unit: Positive | None = None


class PacingSettings(_Model):
    """Keep cumulative spend within `tolerance` (a fraction of the budget) of even pacing."""

    tolerance: Fraction


class PlannerSettings(_Model):
    """How to solve.

    confidence: hold the ROI floors and the GMV target at this confidence under the curves'
        uncertainty and day-to-day variation, measured at the spend of the plan made at
        expectation, instead of only in expectation (e.g. 0.8); each curve is bounded
        separately, and below the spend history saw returns no more per yuan than there. On
        independent truths of the fitted families' shapes, floors were missed at about the
        stated rate; on S-shaped ones, more often.
    history_reach: keep each package's planned spend per minute within this multiple of the
        spend history has seen (its 95th percentile per active minute), where the fitted
        curve is evidence and not extrapolation; raised for a package as far as the lower
        bound of its marginal ROI pays for what the budget, the GMV target and the ROI floors
        that bind ask of a yuan (with the margin, for profit; `pipeline.trusted_reach`,
        `pipeline._reach_price`), as far as a GMV target out of reach needs when that pays
        (min_spend raises only then), and for every package together when the budget could
        not be spent otherwise. null: plan on the curves at any spend.
    time_limit: seconds for the solve; solver: auto (HiGHS, CBC as fallback), highs or cbc;
    tolerance: relative accuracy of the plan's objective.
    """

    confidence: Annotated[float, Field(gt=0.5, lt=1)] | None = None
    history_reach: Positive | None = 1.0
    time_limit: Positive = 60.0
    solver: Literal["auto", "highs", "cbc"] = "auto"
    tolerance: Annotated[float, Field(gt=0, lt=0.5)] = 0.005


class CampaignConfig(_Model):
    """A campaign: the room's history, the session to plan, the budget and the goal.

    Beyond the contract's keys: `platform` (integer rules of the ad platform), `pacing` and
    `planner` (how to solve).
    """

    room_id: str | None = None
    history: HistoryPaths
    session: SessionSpec
    budget: Positive
    objective: Literal["max_gmv", "min_spend", "max_profit"] = "max_gmv"
    gmv_target: Positive | None = Field(None, validate_default=True)
    roi: RoiFloors = RoiFloors()
    margin: Fraction | None = 0.3
    packages: dict[str, PackageLimits] = {}
    platform: PlatformSettings = PlatformSettings()
    pacing: PacingSettings | None = None
    planner: PlannerSettings = PlannerSettings()
    _source: str = PrivateAttr("<config>")

    @field_validator("roi", "packages", "platform", "planner", mode="before")
    @classmethod
    def _empty_means_none_given(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("gmv_target")
    @classmethod
    def _target_for_min_spend(cls, target: float | None, info: ValidationInfo) -> float | None:
        if target is None and info.data.get("objective") == "min_spend":
            raise ValueError(
                "objective min_spend needs gmv_target, the total GMV in yuan (paid + organic) "
                "the plan must reach; add gmv_target or choose objective max_gmv"
            )
        return target

    @field_validator("margin")
    @classmethod
    def _margin_for_profit(cls, margin: float | None, info: ValidationInfo) -> float | None:
        if margin is None and info.data.get("objective") == "max_profit":
            raise ValueError(
                "objective max_profit needs margin, the gross margin (0 to 1); set margin or "
                "leave the key out for 0.3"
            )
        return margin

    @property
    def source(self) -> str:
        """The file (or label) the config was read from, for messages."""
        return self._source

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], base_dir: str | Path, *, source: str = "<config>"
    ) -> CampaignConfig:
        """Check a config given as a mapping (e.g. JSON); history paths are relative to
        `base_dir`. Raises one InputError listing every problem, named by `source`."""
        if not isinstance(data, Mapping):
            raise InputError(
                f"the campaign config must be a mapping of keys, not {type(data).__name__}",
                source=source,
                fix="give the keys history, session and budget (see CONTRACT.md)",
            )
        try:
            config = cls.model_validate(data, context={"base_dir": Path(base_dir)})
        except ValidationError as exc:
            raise config_error(exc, source, cls) from None
        config._source = source
        return config


def load_config(config: str | Path | Mapping | CampaignConfig,
                base_dir: str | Path | None = None) -> CampaignConfig:
    """A checked campaign config from a YAML file (history paths relative to its folder), or
    from a dict as the file would hold (in a notebook; history paths relative to `base_dir`,
    default the current folder). A `CampaignConfig` is returned as it is."""
    if isinstance(config, CampaignConfig):
        return config
    if isinstance(config, Mapping):
        folder = Path(base_dir if base_dir is not None else ".").resolve()
        return CampaignConfig.from_dict(dict(config), folder, source="config")
    path = Path(config)
    return CampaignConfig.from_dict(read_yaml(path), path.parent.resolve(), source=str(path))
