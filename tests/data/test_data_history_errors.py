"""Every bad history input is an InputError naming the file, row (and CSV line), column, fix."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.data import History, load_tables, write_table
from optimizer.errors import InputError

ROOM = """\
ts,organic_gmv
2026-11-01 19:00:00,100
2026-11-01 19:01:00,110
2026-11-01 19:02:00,120
"""


def spend_error(tables, spend: str, room: str = ROOM) -> InputError:
    spend_path, room_path = tables(spend, room)
    with pytest.raises(InputError) as caught:
        load_tables(spend_path, room_path)
    assert str(spend_path) in caught.value.source
    return caught.value


def room_error(tables, room: str) -> InputError:
    spend = "ts,package,spend,paid_gmv\n"
    spend_path, room_path = tables(spend, room)
    with pytest.raises(InputError) as caught:
        load_tables(spend_path, room_path)
    assert caught.value.source == str(room_path)
    return caught.value


def spend_with(*rows: str) -> str:
    return "ts,package,spend,paid_gmv\n" + "".join(f"{row}\n" for row in rows)


def test_missing_spend_file(tables, tmp_path):
    _, room_path = tables()
    with pytest.raises(InputError, match="spend.csv: file not found"):
        load_tables(tmp_path / "spend.csv", room_path)


def test_missing_required_column_lists_columns_found(tables):
    error = spend_error(tables, "ts,package,Spend\n2026-11-01 19:00:00,fans,1\n")
    assert error.source.endswith("spend.csv")
    message = str(error)
    assert "missing required columns 'spend' (did you mean 'Spend'?), 'paid_gmv'" in message
    assert "columns found: 'ts', 'package', 'Spend'" in message
    assert "needs the columns 'ts', 'package', 'spend', 'paid_gmv'" in message


def test_missing_room_column(tables):
    error = room_error(tables, "ts,gmv\n2026-11-01 19:00:00,1\n")
    assert "missing required column 'organic_gmv'" in str(error)


def test_unparseable_timestamp(tables):
    error = spend_error(
        tables, spend_with("2026-11-01 19:00:00,fans,1,2", "yesterday 7pm,fans,1,2")
    )
    assert error.where == "column 'ts'"
    assert "ts is not a local timestamp: row 2 (line 3): 'yesterday 7pm'" in str(error)
    assert "YYYY-MM-DD HH:MM:SS" in error.fix


def test_timestamp_with_utc_offset_is_rejected(tables):
    error = spend_error(tables, spend_with("2026-11-01T19:00:00+08:00,fans,1,2"))
    assert "ts is not a local timestamp: row 1 (line 2)" in str(error)
    assert "no time zone" in error.fix


def test_timestamp_not_on_a_whole_minute(tables):
    error = spend_error(tables, spend_with("2026-11-01 19:00:30,fans,1,2"))
    assert "ts is not on a whole minute: row 1 (line 2): 2026-11-01 19:00:30" in str(error)
    assert "seconds 00" in error.fix


def test_empty_timestamp(tables):
    error = spend_error(tables, spend_with("2026-11-01 19:00:00,fans,1,2", ",fans,1,2"))
    assert "ts is empty: row 2 (line 3)" in str(error)


@pytest.mark.parametrize(
    ("row", "problem", "fix"),
    [
        ("2026-11-01 19:00:00,fans,,2", "spend is empty: row 1 (line 2): empty", "write 0"),
        ("2026-11-01 19:00:00,fans,-3,2", "spend is negative: row 1 (line 2): -3.0", "never below"),
        ("2026-11-01 19:00:00,fans,inf,2", "spend is infinite: row 1 (line 2)", "real value"),
        (
            "2026-11-01 19:00:00,fans,12元,2",
            "spend is not a number: row 1 (line 2): '12元'",
            "plain",
        ),
    ],
)
def test_bad_spend_values(tables, row, problem, fix):
    error = spend_error(tables, spend_with(row))
    assert error.where == "column 'spend'"
    assert problem in str(error)
    assert fix in error.fix


def test_negative_paid_gmv(tables):
    error = spend_error(tables, spend_with("2026-11-01 19:00:00,fans,1,-2"))
    assert error.where == "column 'paid_gmv'" and "paid_gmv is negative" in str(error)


def test_bad_organic_gmv(tables):
    error = room_error(tables, "ts,organic_gmv\n2026-11-01 19:00:00,\n")
    assert error.where == "column 'organic_gmv'"
    assert "organic_gmv is empty: row 1 (line 2)" in str(error)


def test_negative_optional_signal(tables):
    spend = "ts,package,spend,paid_gmv,clicks\n2026-11-01 19:00:00,fans,1,2,-4\n"
    error = spend_error(tables, spend)
    assert error.where == "column 'clicks'" and "clicks is negative: row 1 (line 2)" in str(error)


def test_non_numeric_optional_signal(tables):
    room = "ts,organic_gmv,online_viewers\n2026-11-01 19:00:00,1,many\n"
    error = room_error(tables, room)
    assert "online_viewers is not a number: row 1 (line 2): 'many'" in str(error)


def test_empty_optional_signal_is_fine(tables):
    spend = "ts,package,spend,paid_gmv,clicks\n2026-11-01 19:00:00,fans,1,2,\n"
    history, _ = load_tables(*tables(spend, ROOM))
    assert history.spend["clicks"].isna().all()


def test_empty_package(tables):
    error = spend_error(tables, spend_with("2026-11-01 19:00:00,,1,2"))
    assert "package is empty: row 1 (line 2)" in str(error)


def test_duplicate_spend_rows_name_both_rows(tables):
    error = spend_error(
        tables,
        spend_with(
            "2026-11-01 19:00:00,fans,1,2",
            "2026-11-01 19:01:00,fans,1,2",
            "2026-11-01 19:00:00,fans,3,4",
        ),
    )
    assert error.where == "columns 'ts', 'package'"
    assert "duplicate ts and package: row 3 (line 4): same ts and package" in str(error)
    assert "(2026-11-01 19:00:00, fans) as row 1 (line 2)" in str(error)
    assert "one row per ts and package" in error.fix


def test_duplicate_room_minutes(tables):
    room = ROOM + "2026-11-01 19:01:00,5\n"
    error = room_error(tables, room)
    assert "duplicate ts: row 4 (line 5): same ts (2026-11-01 19:01:00) as row 2 (line 3)" in str(
        error
    )


def test_spend_when_the_room_was_not_live(tables):
    error = spend_error(
        tables, spend_with("2026-11-01 19:00:00,fans,1,2", "2026-11-01 19:07:00,fans,1,2")
    )
    assert "not live" in str(error) and "row 2 (line 3): 2026-11-01 19:07:00" in str(error)
    assert "room.csv" in error.fix


def test_many_bad_rows_show_the_first_five_and_the_count(tables):
    rows = [f"2026-11-01 19:0{i % 3}:00,p{i},-1,2" for i in range(7)]
    error = spend_error(tables, spend_with(*rows))
    message = str(error)
    assert "spend is negative in 7 rows: row 1 (line 2): -1.0;" in message
    assert "row 5 (line 6): -1.0; ... (2 more)" in message
    assert "row 6 (line 7)" not in message


def test_empty_room_table(tables):
    error = room_error(tables, "ts,organic_gmv\n")
    assert "the room table has no rows" in str(error)


def test_empty_file(tables, write):
    spend_path, room_path = tables()
    write("data/room.csv", "")
    with pytest.raises(InputError, match="room.csv: the file is empty"):
        load_tables(spend_path, room_path)


def test_several_rooms_without_room_id(tables):
    spend = "ts,package,spend,paid_gmv,room_id\n2026-11-01 19:00:00,fans,1,2,r1\n"
    room = "ts,organic_gmv,room_id\n2026-11-01 19:00:00,1,r1\n2026-11-01 19:00:00,1,r2\n"
    error = spend_error(tables, spend, room)
    assert "the history holds 2 rooms ('r1', 'r2') and no room_id is set" in str(error)
    assert "spend.csv" in error.source and "room.csv" in error.source
    assert "set room_id" in error.fix


def test_room_id_with_no_rows(tables):
    spend = "ts,package,spend,paid_gmv,room_id\n2026-11-01 19:00:00,fans,1,2,room_a\n"
    spend_path, room_path = tables(spend, ROOM)
    with pytest.raises(InputError) as caught:
        load_tables(spend_path, room_path, room_id="room_b")
    assert "no rows for room 'room_b' (did you mean 'room_a'?)" in str(caught.value)
    assert "rooms in this file: 'room_a'" in str(caught.value)


def test_time_zone_aware_frame(tables):
    spend = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-01 19:00"]).tz_localize("Asia/Shanghai"),
            "package": ["fans"],
            "spend": [1.0],
            "paid_gmv": [2.0],
        }
    )
    room = pd.DataFrame({"ts": pd.to_datetime(["2026-11-01 19:00"]), "organic_gmv": [1.0]})
    with pytest.raises(InputError) as caught:
        History.from_frames(spend, room)
    assert caught.value.source == "<spend frame>"
    assert "timestamps carry a time zone (Asia/Shanghai)" in str(caught.value)


def test_parquet_rows_have_no_line_numbers(tmp_path):
    spend = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-01 19:00", "2026-11-01 19:01"]),
            "package": ["fans", "fans"],
            "spend": [1.0, -1.0],
            "paid_gmv": [2.0, 2.0],
        }
    )
    room = pd.DataFrame(
        {"ts": pd.to_datetime(["2026-11-01 19:00", "2026-11-01 19:01"]), "organic_gmv": [1, 2]}
    )
    spend_path = write_table(spend, tmp_path / "spend.parquet")
    room_path = write_table(room, tmp_path / "room.pq")
    with pytest.raises(InputError) as caught:
        load_tables(spend_path, room_path)
    assert "spend is negative: row 2: -1.0" in str(caught.value)
    assert "(line" not in str(caught.value)


def test_frame_errors_name_the_rows_by_their_index_labels():
    """'row 6' for index label 5 (or 105) sent an analyst to df.loc[6]."""
    from io import StringIO

    spend = pd.read_csv(StringIO(spend_with("2026-11-01 19:00:00,fans,1,2",
                                            "2026-11-01 19:01:00,fans,,2")))
    room = pd.read_csv(StringIO(ROOM))
    for labels, shown in ((None, "row 2 (index 1)"), ([105, 106], "row 2 (index 106)"),
                          (["a", "b"], "row 2 (index 'b')")):
        frame = spend if labels is None else spend.set_axis(labels)
        with pytest.raises(InputError, match="spend is empty") as caught:
            History.from_frames(frame, room)
        assert shown in str(caught.value)


def test_true_in_a_frame_s_spend_column_is_not_a_number():
    """pandas reads True as 1: a flag pasted into the spend column was 1 yuan of spend."""
    from io import StringIO

    spend = pd.read_csv(StringIO(spend_with("2026-11-01 19:00:00,fans,1,2"))).astype(object)
    spend.loc[0, "spend"] = True
    with pytest.raises(InputError, match=r"spend is not a number: row 1 \(index 0\): True"):
        History.from_frames(spend, pd.read_csv(StringIO(ROOM)))
