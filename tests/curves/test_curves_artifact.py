"""Fitted models as JSON artifacts: round trip, data fingerprint, unreadable files."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest

from optimizer.curves import (
    FitOptions,
    fingerprint,
    from_artifact,
    load_model,
    save_model,
    to_artifact,
)
from optimizer.curves.model import SCHEMA_VERSION
from optimizer.errors import InputError


def _schedule(small_fit) -> np.ndarray:
    return small_fit.simulator.operator_spend(np.random.default_rng(7), 240)


def test_round_trip_gives_identical_responses(small_fit, tmp_path):
    model = small_fit.model
    assert model.fingerprint_ == fingerprint(small_fit.panel, model.options)
    path = save_model(to_artifact(model), tmp_path / "models" / "demo.json")
    loaded = load_model(path)
    assert loaded.fingerprint == model.fingerprint_
    again = from_artifact(loaded)
    assert again.fingerprint_ == model.fingerprint_
    assert again.packages_ == model.packages_
    assert again.n_sessions_ == model.n_sessions_
    assert again.session_minutes_ == model.session_minutes_
    spend = _schedule(small_fit)
    for minutes in (240, 180):
        before, after = model.response(minutes), again.response(minutes)
        np.testing.assert_array_equal(after.baseline, before.baseline)
        schedule = spend[:minutes]
        np.testing.assert_array_equal(after.paid_gmv(schedule), before.paid_gmv(schedule))
        np.testing.assert_array_equal(after.organic_gmv(schedule), before.organic_gmv(schedule))
        np.testing.assert_array_equal(after.uplift_by_package(schedule),
                                      before.uplift_by_package(schedule))


def test_round_trip_keeps_covariances_and_draws(small_fit, tmp_path):
    model = small_fit.model
    path = save_model(to_artifact(model), tmp_path / "m.json")
    again = from_artifact(load_model(path))
    spend = _schedule(small_fit)
    for before, after in zip(model.response_draws(240, 5, seed=4),
                             again.response_draws(240, 5, seed=4), strict=True):
        np.testing.assert_array_equal(after.paid_gmv(spend), before.paid_gmv(spend))
    for package, curve in model.paid_.items():
        assert again.paid_[package].cov == curve.cov
        assert again.paid_[package].diagnostics == curve.diagnostics
    np.testing.assert_array_equal(again.seen_spend(), model.seen_spend())


def test_seen_spend_is_the_95th_percentile_of_active_minutes(small_fit):
    """Per package, the 95th percentile of its positive per-minute spend in the history fitted;
    inf for a package whose curve comes from explicit settings or that has no fit."""
    model, panel = small_fit.model, small_fit.panel
    expected = [np.quantile(column[column > 0], 0.95) for column in panel.spend.T]
    np.testing.assert_allclose(model.seen_spend(panel.packages), expected, rtol=1e-12)
    explicit = {panel.packages[0]: object()}
    seen = model.seen_spend((*panel.packages, "new"), explicit)
    assert seen[0] == np.inf and seen[-1] == np.inf
    np.testing.assert_allclose(seen[1:-1], expected[1:], rtol=1e-12)


@pytest.mark.parametrize("version, missing", [
    (1, ("seen_spend", "family_weight", "alternatives", "profile", "informative_days")),
    (2, ("family_weight", "alternatives", "profile", "informative_days")),
    (3, ("profile", "informative_days")),
    (4, ("informative_days",)),
    (5, ()),
    (6, ()),
    (7, ()),
    (8, ()),
    (9, ()),
    (10, ()),
    (11, ("stages",))])
def test_an_artifact_of_an_older_schema_asks_for_a_refit(small_fit, tmp_path, version, missing):
    """Schema 1 lacks the spend history saw (`seen_spend`), schema 2 the family weights whose
    draws carry the family choice's uncertainty, schema 3 the profile fits that replace the
    draws of a curve whose half-saturation is not identified, schema 4 the sessions a package
    spent in (its average day), schema 5's day effects are of every session, schema 6 left
    the spline free in minutes a package never spent in, schema 7 held Hill shapes to at
    most 1, schema 8 had no clock-of-day spline, schema 9 no prior on organic leverages,
    schema 10 no noise floor band, and schema 11 no carryover stages (a delayed peak read as a
    geometric carryover):
    refit rather than plan without them."""
    data = json.loads(to_artifact(small_fit.model).model_dump_json())
    data["schema_version"] = version
    for curve in data["paid"].values():
        for field in missing:
            del curve[field]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        load_model(path)
    assert f"schema {SCHEMA_VERSION}" in str(caught.value) and "spendplan fit" in caught.value.fix


def test_a_delayed_peak_survives_the_round_trip(small_fit, tmp_path):
    """A curve of two carryover stages is saved with them and forecast with them again (two
    stages of the same half-life forecast other paid GMV than one)."""
    model = copy.copy(small_fit.model)
    package = model.packages_[0]
    model.paid_ = {**model.paid_, package: model.paid_[package].model_copy(update={"stages": 2})}
    again = from_artifact(load_model(save_model(to_artifact(model), tmp_path / "m.json")))
    assert again.paid_[package].stages == 2
    spend = _schedule(small_fit)
    delayed = model.response(240).paid_gmv(spend)
    np.testing.assert_array_equal(again.response(240).paid_gmv(spend), delayed)
    assert not np.allclose(delayed[:, 0], small_fit.model.response(240).paid_gmv(spend)[:, 0])


def test_saving_twice_gives_the_same_model(small_fit, tmp_path):
    artifact = to_artifact(small_fit.model)
    first = load_model(save_model(artifact, tmp_path / "a.json"))
    second = load_model(save_model(first, tmp_path / "b.json"))
    assert second == first


def test_fingerprint_is_stable_and_follows_the_data(small_fit):
    panel, options = small_fit.panel, small_fit.model.options
    reference = fingerprint(panel, options)
    assert fingerprint(panel, options) == reference
    copied = dataclasses.replace(panel, organic_gmv=panel.organic_gmv.copy())
    assert fingerprint(copied, options) == reference

    organic = panel.organic_gmv.copy()
    organic[100] += 0.01
    assert fingerprint(dataclasses.replace(panel, organic_gmv=organic), options) != reference
    spend = panel.spend.copy()
    spend[5, 2] += 1.0
    assert fingerprint(dataclasses.replace(panel, spend=spend), options) != reference
    paid = panel.paid_gmv.copy()
    paid[7, 0] += 1.0
    assert fingerprint(dataclasses.replace(panel, paid_gmv=paid), options) != reference
    later = dataclasses.replace(panel, ts=panel.ts + np.timedelta64(60, "m"))
    assert fingerprint(later, options) != reference  # the clock is fitted from the start times
    next_day = dataclasses.replace(panel, ts=panel.ts + np.timedelta64(1, "D"))
    assert fingerprint(next_day, options) == reference  # the date is not
    fewer = dataclasses.replace(panel, packages=panel.packages[:-1] + ("other",))
    assert fingerprint(fewer, options) != reference
    assert fingerprint(panel, FitOptions(knot_minutes=30.0)) != reference


@pytest.mark.parametrize("content", [
    "not json at all",
    '{"schema_version": 1',
    json.dumps({"schema_version": 99}),
    "",
])
def test_corrupt_file_is_an_input_error_naming_it(tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        load_model(path)
    assert caught.value.source == str(path)
    assert str(path) in str(caught.value)


def test_truncated_artifact_is_an_input_error(small_fit, tmp_path):
    path = save_model(to_artifact(small_fit.model), tmp_path / "m.json")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="m.json"):
        load_model(path)


def test_binary_garbage_is_an_input_error(tmp_path):
    path = tmp_path / "garbage.json"
    path.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(InputError, match="garbage.json"):
        load_model(path)


def test_missing_file_is_an_input_error(tmp_path):
    path = tmp_path / "nowhere.json"
    with pytest.raises(InputError, match="nowhere.json"):
        load_model(path)
