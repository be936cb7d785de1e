"""The traffic profile m(τ): warm-up, plateau, decline and events, for any session length."""

import numpy as np
import pytest
from pydantic import ValidationError

from optimizer.sim import Event, TrafficProfile


@pytest.mark.parametrize("minutes", [240, 480])
def test_shape_of_the_session(minutes):
    profile = TrafficProfile(start_level=0.3, warmup_minutes=30, peak_end=150, end_level=0.5)
    m = profile.levels(minutes)
    assert m.shape == (minutes,)
    assert m[0] == pytest.approx(0.3)
    assert np.all(m[30:151] == 1.0)
    assert m[-1] == pytest.approx(0.5)
    assert np.all(np.diff(m[:31]) > 0)
    assert np.all(np.diff(m[150:]) < 0)


def test_event_multiplies_its_slot_only():
    base = TrafficProfile(start_level=0.3, warmup_minutes=30, peak_end=150, end_level=0.5)
    sale = base.model_copy(update={"events": (Event(minute=120, duration=10, lift=0.5),)})
    ratio = sale.levels(240) / base.levels(240)
    assert np.all(ratio[120:130] == 1.5)
    assert np.all(np.delete(ratio, np.s_[120:130]) == 1.0)


def test_session_ending_before_the_peak_ends_never_declines():
    m = TrafficProfile(start_level=0.3, warmup_minutes=30, peak_end=150).levels(100)
    assert np.all(m[30:] == 1.0)


def test_no_warmup_starts_at_the_peak():
    assert TrafficProfile(warmup_minutes=0, peak_end=10).levels(20)[0] == 1.0


def test_warmup_after_peak_end_is_rejected():
    with pytest.raises(ValidationError, match="warmup_minutes"):
        TrafficProfile(warmup_minutes=60, peak_end=30)
