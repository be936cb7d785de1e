"""Reading and writing CSV and Parquet tables."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.data import load_tables, read_table, write_table
from optimizer.errors import InputError


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-01 19:00", "2026-11-01 19:01"]),
            "package": ["007", "fans"],
            "spend": [1.5, 0.0],
            "paid_gmv": [3.25, 0.0],
        }
    )


@pytest.mark.parametrize("name", ["t.parquet", "t.pq"])
def test_parquet_round_trip(tmp_path, name):
    path = write_table(frame(), tmp_path / name)
    pd.testing.assert_frame_equal(read_table(path), frame())


def test_csv_writes_contract_timestamps(tmp_path):
    path = write_table(frame(), tmp_path / "out" / "t.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "ts,package,spend,paid_gmv"
    assert lines[1] == "2026-11-01 19:00:00,007,1.5,3.25"
    back = read_table(path)
    assert back["package"].tolist() == ["007", "fans"]


def test_csv_and_parquet_load_the_same_history(tmp_path, tables):
    spend_csv, room_csv = tables()
    spend_pq = write_table(read_table(spend_csv), tmp_path / "spend.parquet")
    room_pq = write_table(read_table(room_csv), tmp_path / "room.parquet")
    from_csv, _ = load_tables(spend_csv, room_csv)
    from_pq, _ = load_tables(spend_pq, room_pq)
    pd.testing.assert_frame_equal(from_csv.spend, from_pq.spend)
    pd.testing.assert_frame_equal(from_csv.sessions, from_pq.sessions)


def test_csv_with_byte_order_mark(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("ts,organic_gmv\n2026-11-01 19:00:00,1\n".encode("utf-8-sig"))
    assert list(read_table(path).columns) == ["ts", "organic_gmv"]


@pytest.mark.parametrize("name", ["t.xlsx", "t"])
def test_unknown_extension(tmp_path, name):
    with pytest.raises(InputError) as caught:
        read_table(tmp_path / name)
    assert caught.value.source == str(tmp_path / name)
    assert "unknown table extension" in str(caught.value)
    assert ".csv, .parquet or .pq" in caught.value.fix


def test_write_unknown_extension(tmp_path):
    with pytest.raises(InputError, match="unknown table extension '.json'"):
        write_table(frame(), tmp_path / "t.json")


def test_missing_table(tmp_path):
    with pytest.raises(InputError, match="t.csv: file not found"):
        read_table(tmp_path / "t.csv")


def test_folder_is_not_a_table(tmp_path):
    (tmp_path / "t.csv").mkdir()
    with pytest.raises(InputError, match="t.csv: not a file"):
        read_table(tmp_path / "t.csv")


def test_broken_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_text("not parquet")
    with pytest.raises(InputError, match="t.parquet: cannot read the parquet file"):
        read_table(path)


def test_csv_with_a_broken_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n1,2,3,4\n")
    with pytest.raises(InputError, match="t.csv: line 3 has 4 fields; the header has 2"):
        read_table(path)


def test_csv_that_is_not_utf8(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("ts,package\n2026-11-01 19:00:00,粉丝\n".encode("gbk"))
    with pytest.raises(InputError, match="t.csv: the file is not UTF-8 text"):
        read_table(path)
