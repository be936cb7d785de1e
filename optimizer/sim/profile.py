"""The room's traffic profile over a session: how busy the room is in each minute.

The profile m(τ) is dimensionless, 1 at the peak. It scales the baseline organic GMV, the
organic uplift and (raised to a package's peak sensitivity) the paid GMV of every package.
An optional `ClockProfile` multiplies it by the traffic of the clock time of day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Event(BaseModel):
    """A scheduled slot (e.g. a flash sale) that multiplies the profile by ``1 + lift``.

    minute: first minute of the slot (0 = session start); duration: minutes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    minute: int = Field(ge=0)
    duration: int = Field(ge=1)
    lift: float = Field(gt=-1)


class TrafficProfile(BaseModel):
    """Warm-up, plateau and decline of the room's traffic, plus scheduled events.

    m rises with a cosine smoothstep from `start_level` at minute 0 to 1 at `warmup_minutes`
    (0 means no warm-up), stays 1 up to `peak_end`, then falls smoothly to `end_level` at the
    session's last minute. Works for any session length; a session that ends before `peak_end`
    never declines.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_level: float = Field(default=0.4, ge=0)
    warmup_minutes: int = Field(default=30, ge=0)
    peak_end: int = Field(default=150, ge=0)
    end_level: float = Field(default=0.5, ge=0)
    events: tuple[Event, ...] = ()

    @model_validator(mode="after")
    def _warmup_before_peak_end(self) -> TrafficProfile:
        if self.warmup_minutes > self.peak_end:
            raise ValueError(
                f"warmup_minutes ({self.warmup_minutes}) must not exceed peak_end ({self.peak_end})"
            )
        return self

    def levels(self, minutes: int) -> np.ndarray:
        """m(τ) for τ = 0..minutes-1, shape (minutes,), dimensionless."""
        t = np.arange(minutes, dtype=float)
        last = minutes - 1
        rise = _ramp(t, 0, self.warmup_minutes) if self.warmup_minutes > 0 else np.ones_like(t)
        fall = _ramp(t, self.peak_end, last) if last > self.peak_end else np.zeros_like(t)
        m = 1.0 - (1.0 - self.start_level) * (1.0 - rise) - (1.0 - self.end_level) * fall
        for event in self.events:
            m[event.minute : event.minute + event.duration] *= 1.0 + event.lift
        return m


def _ramp(t: np.ndarray, begin: float, end: float) -> np.ndarray:
    """Cosine smoothstep: 0 up to `begin`, rising to 1 at `end` (> begin), 1 after."""
    x = np.clip((t - begin) / (end - begin), 0.0, 1.0)
    return 0.5 * (1.0 - np.cos(np.pi * x))


class ClockPeak(BaseModel):
    """A bump of traffic around a clock hour: ``height * exp(-((h - hour) / width) ** 2)``,
    h the hour of day (fractional, 0-24, wrapping midnight); hour and width in hours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hour: float = Field(ge=0, lt=24)
    width: float = Field(gt=0)
    height: float


class ClockProfile(BaseModel):
    """The room's traffic by clock time of day, multiplied into the session profile.

    The multiplier is ``base + sum of peaks`` at the minute's hour of day (dimensionless): a
    Douyin room's evening prime time is a peak at about 21:00 over a lower afternoon.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: float = Field(default=1.0, gt=0)
    peaks: tuple[ClockPeak, ...] = ()

    def levels(self, start: dt.time, minutes: int) -> np.ndarray:
        """The multiplier, shape (minutes,), over the minutes of a session from `start`."""
        hour = (start.hour + start.minute / 60.0 + np.arange(minutes) / 60.0) % 24.0
        level = np.full(minutes, self.base)
        for peak in self.peaks:
            apart = (hour - peak.hour + 12.0) % 24.0 - 12.0  # nearest way round the clock
            level += peak.height * np.exp(-((apart / peak.width) ** 2))
        return level
