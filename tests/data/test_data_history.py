"""Good history: sessions, the panel, room selection, the load report."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from optimizer.data import History, load_tables, write_table


def test_two_runs_of_minutes_are_two_sessions(tables):
    history, _ = load_tables(*tables())
    sessions = history.sessions
    assert sessions["session"].tolist() == [0, 1]
    assert sessions["start"].tolist() == [
        pd.Timestamp("2026-11-01 19:00"),
        pd.Timestamp("2026-11-02 19:00"),
    ]
    assert sessions["end"].tolist() == [
        pd.Timestamp("2026-11-01 19:05"),
        pd.Timestamp("2026-11-02 19:03"),
    ]
    assert sessions["minutes"].tolist() == [5, 3]
    assert history.room["session"].tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert history.room["minute"].tolist() == [0, 1, 2, 3, 4, 0, 1, 2]


def test_a_gap_of_one_minute_starts_a_new_session(tables, room_csv):
    room = room_csv.replace("2026-11-01 19:02:00,120\n", "")
    spend = "ts,package,spend,paid_gmv\n2026-11-01 19:03:00,fans,1,2\n"
    history, _ = load_tables(*tables(spend, room))
    assert history.sessions["minutes"].tolist() == [2, 2, 3]
    assert history.spend[["session", "minute"]].values.tolist() == [[1, 0]]


def test_a_day_split_by_a_gap_gets_a_note(tables, room_csv):
    """A 10-minute outage split a stream in two, and the session count grew, without a word."""
    room = room_csv.replace("2026-11-01 19:02:00,120\n", "")
    _, report = load_tables(*tables("ts,package,spend,paid_gmv\n", room))
    assert "room.csv: 2026-11-01 has 2 sessions (2, 2 minutes): a gap" in str(report)
    _, whole = load_tables(*tables())
    assert "a gap" not in str(whole)


def test_a_spend_far_past_a_packages_usual_gets_a_note(tables, spend_csv):
    """One minute of 1e9 yuan (among tens) took every package's organic leverage to 0."""
    spend = spend_csv.replace("19:00:00,fans,10,", "19:00:00,fans,100000,")
    _, report = load_tables(*tables(spend))
    _, usual = load_tables(*tables())
    assert "spend.csv: fans has 1 minute(s) of spend over 100 times its median" in str(report)
    assert "times its median" not in str(usual)


def test_spend_frame_columns_types_and_order(tables):
    history, _ = load_tables(*tables())
    spend = history.spend
    assert list(spend.columns) == ["ts", "package", "spend", "paid_gmv", "session", "minute"]
    assert pd.api.types.is_datetime64_dtype(spend["ts"])
    assert spend["spend"].dtype == float and spend["paid_gmv"].dtype == float
    assert spend["session"].tolist() == [0, 0, 0, 0, 1]
    assert spend["minute"].tolist() == [0, 0, 1, 3, 1]
    assert history.packages == ("fans", "lookalike")
    assert history.room_id is None
    assert history.source["spend"].endswith("spend.csv")
    assert list(history.room.columns) == ["ts", "organic_gmv", "session", "minute"]


def test_panel_fills_zeros_where_no_row(tables):
    history, _ = load_tables(*tables())
    panel = history.panel()
    assert panel.packages == ("fans", "lookalike")
    assert panel.spend.shape == (8, 2) and panel.paid_gmv.shape == (8, 2)
    assert panel.spend[:, 0].tolist() == [10, 12, 0, 0, 0, 0, 20, 0]
    assert panel.spend[:, 1].tolist() == [5, 0, 0, 6, 0, 0, 0, 0]
    assert panel.paid_gmv[:, 0].tolist() == [30, 40, 0, 0, 0, 0, 50, 0]
    assert panel.organic_gmv.tolist() == [100, 110, 120, 130, 140, 200, 210, 220]
    assert panel.session.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert panel.minute.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert panel.ts[5] == np.datetime64("2026-11-02T19:00")


def test_panel_for_chosen_packages(tables):
    history, _ = load_tables(*tables())
    panel = history.panel(["new", "lookalike"])
    assert panel.packages == ("new", "lookalike")
    assert not panel.spend[:, 0].any()
    assert panel.spend[:, 1].sum() == 11
    with pytest.raises(ValueError, match="repeated"):
        history.panel(["fans", "fans"])


def test_other_rooms_are_left_out_and_counted(tables):
    spend = (
        "ts,package,spend,paid_gmv,room_id\n"
        "2026-11-01 19:00:00,fans,1,2,r1\n"
        "2026-11-01 19:00:00,fans,5,6,r2\n"
        "2026-11-01 19:09:00,fans,5,6,r2\n"
        "2026-11-01 19:01:00,fans,1,2,\n"
    )
    room = (
        "ts,organic_gmv,room_id\n"
        "2026-11-01 19:00:00,1,r1\n"
        "2026-11-01 19:01:00,1,r1\n"
        "2026-11-01 19:00:00,9,r2\n"
    )
    history, report = load_tables(*tables(spend, room), room_id="r1")
    assert history.room_id == "r1"
    assert history.spend["spend"].tolist() == [1, 1]
    assert history.room["organic_gmv"].tolist() == [1, 1]
    notes = str(report)
    assert "spend.csv: left out 2 rows of other rooms ('r2'); kept 2 rows of 'r1'" in notes
    assert "room.csv: left out 1 rows of other rooms ('r2'); kept 2 rows of 'r1'" in notes
    assert "spend.csv: 1 rows with no room_id were taken as room 'r1'" in notes


def test_one_room_in_the_data_becomes_the_room(tables):
    room = "ts,organic_gmv,room_id\n2026-11-01 19:00:00,1,7001\n"
    spend = "ts,package,spend,paid_gmv\n2026-11-01 19:00:00,fans,1,2\n"
    history, report = load_tables(*tables(spend, room))
    assert history.room_id == "7001"
    assert "using '7001'" in str(report)


def test_rows_out_of_time_order_are_sorted_with_a_note(tables, spend_csv):
    header, *rows = spend_csv.splitlines()
    history, report = load_tables(*tables("\n".join([header, *reversed(rows)]) + "\n"))
    assert history.spend["ts"].is_monotonic_increasing
    assert history.spend["package"].tolist()[:2] == ["fans", "lookalike"]
    assert "spend.csv: rows were not in time order; sorted by ts, package" in str(report)
    assert history.spend.index.tolist() == list(range(5))


def test_sorted_input_gets_no_sort_note(tables):
    _, report = load_tables(*tables())
    assert "sorted" not in str(report)
    assert "2 sessions, 8 live minutes, 5 spend rows for 2 packages" in str(report)


def test_extra_columns_are_kept_and_noted(tables):
    spend = "ts,package,spend,paid_gmv,clicks,campaign\n2026-11-01 19:00:00,fans,1,2,3,spring\n"
    history, report = load_tables(*tables(spend))
    assert history.spend["campaign"].tolist() == ["spring"]
    assert history.spend["clicks"].tolist() == [3.0]
    assert "kept the extra columns 'campaign'" in str(report)


def test_other_date_formats_are_read_with_a_note(tables):
    spend = "ts,package,spend,paid_gmv\n2026/11/01 19:01,fans,1,2\n"
    history, report = load_tables(*tables(spend))
    assert history.spend["ts"].tolist() == [pd.Timestamp("2026-11-01 19:01")]
    assert "1 timestamps were not written as YYYY-MM-DD HH:MM:SS" in str(report)


def test_package_ids_keep_leading_zeros(tables):
    spend = "ts,package,spend,paid_gmv\n2026-11-01 19:00:00,007,1,2\n"
    history, _ = load_tables(*tables(spend))
    assert history.packages == ("007",)


def test_from_frames_checks_and_leaves_the_frames_alone():
    ts = pd.date_range("2026-11-01 19:00", periods=3, freq="min")
    room = pd.DataFrame({"ts": ts, "organic_gmv": [1.0, 2.0, 3.0], "session": [9, 9, 9]})
    spend = pd.DataFrame(
        {"ts": ts[[2, 0]], "package": ["b", "a"], "spend": [1, 2], "paid_gmv": [3, 4]}
    )
    before = spend.copy()
    history, report = History.from_frames(spend, room)
    pd.testing.assert_frame_equal(spend, before)
    assert history.source == {"spend": "<spend frame>", "room": "<room frame>"}
    assert history.spend["package"].tolist() == ["a", "b"]
    assert history.room["session"].tolist() == [0, 0, 0]
    assert "<room frame>: replaced the columns 'session'" in str(report)


def test_history_is_frozen(tables):
    history, _ = load_tables(*tables())
    with pytest.raises(dataclasses.FrozenInstanceError):
        history.room_id = "other"


def demo_size_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """21 sessions x 240 minutes x 6 packages, as the demo history."""
    rng = np.random.default_rng(0)
    starts = pd.date_range("2026-11-01 19:00", periods=21, freq="D")
    minutes = np.concatenate([pd.date_range(s, periods=240, freq="min") for s in starts])
    packages = ["fans", "lookalike", "interest", "broad", "retarget", "shop"]
    room = pd.DataFrame({"ts": minutes, "organic_gmv": rng.uniform(0, 900, len(minutes))})
    spend = pd.DataFrame(
        {
            "ts": np.repeat(minutes, len(packages)),
            "package": np.tile(packages, len(minutes)),
            "spend": rng.uniform(0, 300, len(minutes) * len(packages)),
            "paid_gmv": rng.uniform(0, 900, len(minutes) * len(packages)),
            "room_id": "demo",
        }
    )
    return spend, room


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_demo_size_history_loads_fast(tmp_path, ext):
    spend, room = demo_size_frames()
    spend_path = write_table(spend, tmp_path / f"spend.{ext}")
    room_path = write_table(room, tmp_path / f"room.{ext}")
    started = time.perf_counter()
    history, _ = load_tables(spend_path, room_path)
    panel = history.panel()
    seconds = time.perf_counter() - started
    assert len(history.sessions) == 21 and panel.spend.shape == (5040, 6)
    assert seconds < 2.0
