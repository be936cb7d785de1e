"""Simulated history in the contract's format, the truth file and the files on disk."""

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.sim import LiveRoomSimulator, Scenario, Truth, write_simulation

SPEND_COLUMNS = [
    "ts",
    "package",
    "spend",
    "paid_gmv",
    "room_id",
    "impressions",
    "clicks",
    "paid_orders",
]
ROOM_COLUMNS = ["ts", "organic_gmv", "room_id", "organic_views", "online_viewers"]
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def history():
    return LiveRoomSimulator(Scenario.builtin("default")).history(days=3, seed=7)


def test_tables_have_the_contract_columns(history):
    assert list(history.spend.columns) == SPEND_COLUMNS
    assert list(history.room.columns) == ROOM_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(history.spend["ts"])
    assert pd.api.types.is_datetime64_any_dtype(history.room["ts"])
    assert set(history.spend["room_id"]) == set(history.room["room_id"]) == {"demo_room"}


def test_room_rows_are_the_live_minutes(history):
    starts = pd.to_datetime(["2026-11-10 19:00", "2026-11-11 19:00", "2026-11-12 19:00"])
    live = [start + pd.Timedelta(minutes=m) for start in starts for m in range(240)]
    assert history.room["ts"].tolist() == live
    assert (history.room["ts"].dt.second == 0).all()


def test_spend_rows_are_active_live_package_minutes(history):
    spend = history.spend
    assert spend["ts"].isin(history.room["ts"]).all()
    assert not spend.duplicated(["ts", "package"]).any()
    assert ((spend["spend"] > 0) | (spend["paid_gmv"] > 0)).all()
    assert set(spend["package"]) == set(Scenario.builtin("default").package_ids)
    for column in ("spend", "paid_gmv"):
        assert (spend[column] >= 0).all()
        assert np.array_equal(spend[column], spend[column].round(2))
    for column in ("impressions", "clicks", "paid_orders"):
        assert pd.api.types.is_integer_dtype(spend[column]) and (spend[column] >= 0).all()


def test_history_is_reproducible_by_seed(history):
    sim = LiveRoomSimulator(Scenario.builtin("default"))
    again = sim.history(days=3, seed=7)
    pd.testing.assert_frame_equal(again.spend, history.spend)
    pd.testing.assert_frame_equal(again.room, history.room)
    assert again.truth == history.truth
    assert not sim.history(days=3, seed=8).room.equals(history.room)


def test_truth_records_each_session(history):
    sessions = history.truth.sessions
    assert [s.date for s in sessions] == [dt.date(2026, 11, 10) + dt.timedelta(d) for d in range(3)]
    assert sessions[0].start == dt.datetime(2026, 11, 10, 19, 0)
    assert all(set(s.package_factors) == set(history.truth.scenario.packages) for s in sessions)
    assert len({s.day_factor for s in sessions}) == 3


def test_truth_file_reloads_into_the_same_model(history, tmp_path):
    loaded = Truth.load(history.truth.save(tmp_path / "truth.json"))
    assert loaded == history.truth
    spend = LiveRoomSimulator(loaded.scenario).operator_spend(np.random.default_rng(4))
    for day in (None, "2026-11-11"):
        before, after = history.truth.response(day), loaded.response(day)
        assert np.array_equal(before.paid_gmv(spend), after.paid_gmv(spend))
        assert np.array_equal(before.organic_gmv(spend), after.organic_gmv(spend))
    first, second = (t.simulator().expected(spend) for t in (history.truth, loaded))
    for field in ("paid_gmv", "organic_gmv", "baseline", "uplift"):
        assert np.array_equal(getattr(first, field), getattr(second, field))


def test_session_truth_uses_its_day_factors(history):
    draw = history.truth.sessions[1]
    paid = history.truth.response(draw.date).paid[0].scale
    expectation = history.truth.response().paid[0].scale
    factor = draw.day_factor * draw.package_factors["fans"]
    assert np.allclose(paid, factor * expectation)
    with pytest.raises(KeyError):
        history.truth.response("2027-01-01")


def test_bad_truth_files_are_input_errors(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"seed": 1}))
    with pytest.raises(InputError, match="truth.json"):
        Truth.load(path)
    with pytest.raises(InputError, match="cannot read"):
        Truth.load(tmp_path / "missing.json")


def test_write_simulation_files(tmp_path):
    out = tmp_path / "nested" / "out"
    paths = write_simulation(Scenario.builtin("long"), days=2, seed=3, out_dir=out)
    assert set(paths) == {"spend", "room", "truth"} and all(p.is_file() for p in paths.values())
    history = LiveRoomSimulator(Scenario.builtin("long")).history(days=2, seed=3)
    for name, table in (("spend", history.spend), ("room", history.room)):
        text = paths[name].read_text().splitlines()
        assert text[0].split(",") == list(table.columns)
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,", row) for row in text[1:])
        assert not any(re.search(r"\.\d{3}", row) for row in text[1:])  # at most 2 decimals
        read = pd.read_csv(paths[name], parse_dates=["ts"])
        assert read["ts"].dt.strftime("%H:%M").iloc[[0, -1]].tolist() == ["15:00", "22:59"]
        assert np.allclose(read.select_dtypes("number"), table.select_dtypes("number"))
    assert Truth.load(paths["truth"]) == history.truth


def test_days_must_be_positive():
    with pytest.raises(InputError, match="days"):
        LiveRoomSimulator(Scenario.builtin("default")).history(days=0, seed=1)


def test_demo_data_comes_from_the_default_scenario():
    truth = Truth.load(DEMO / "truth.json")
    assert truth.scenario == Scenario.builtin("default")
    assert truth.seed == 20261201
    assert len(truth.sessions) == 21
    assert truth.sessions[-1].date == dt.date(2026, 11, 30)
