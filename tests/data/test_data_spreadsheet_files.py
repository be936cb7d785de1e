"""History and configs as operators' spreadsheets and editors write them (a black-box sweep
found each of these read wrongly or dropped without a word)."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.data import load_config, load_tables
from optimizer.errors import InputError

ROOM = """\
ts,organic_gmv
2026-11-01 19:00:00,100
2026-11-01 19:01:00,110
2026-11-01 19:02:00,120
"""
HEADER = "ts,package,spend,paid_gmv"


def load(tables, spend: str, room: str = ROOM):
    return load_tables(*tables(spend, room))


def error(tables, spend: str, room: str = ROOM) -> InputError:
    with pytest.raises(InputError) as caught:
        load(tables, spend, room)
    return caught.value


def test_trailing_commas_of_a_spreadsheet_are_read_as_nothing(tables):
    """Excel and WPS end every data row with a comma when a column was once filled: pandas
    took the first column for the index and every column shifted by one."""
    history, _ = load(tables, f"{HEADER}\n2026-11-01 19:00:00,fans,10,30,\n"
                                 "2026-11-01 19:01:00,fans,12,40,\n")
    assert history.spend["spend"].tolist() == [10.0, 12.0]
    assert history.spend["package"].tolist() == ["fans", "fans"]


@pytest.mark.parametrize(("row", "line", "fields"), [
    ("2026-11-01 19:00:00,fans,1,237.01,30", 2, 5),   # a thousands separator, unquoted
    ("2026-11-01 19:00:00,fans，10,30", 2, 3),        # a full-width comma
])
def test_a_line_with_another_number_of_fields_is_named(tables, row, line, fields):
    """An unquoted 1,237.01 was read as 1 and the rest dropped, without a word."""
    caught = error(tables, f"{HEADER}\n{row}\n2026-11-01 19:01:00,fans,12,40\n")
    assert f"line {line} has {fields} fields; the header has 4" in str(caught)
    assert "spend.csv" in caught.source and "thousands separators" in caught.fix


def test_a_repeated_header_line_is_named(tables):
    """Daily exports joined end to end repeat the header; its row was dropped as a row of
    another room called 'room_id'."""
    spend = f"{HEADER}\n2026-11-01 19:00:00,fans,10,30\n{HEADER}\n2026-11-01 19:01:00,fans,1,2\n"
    assert "line 3 repeats the header" in str(error(tables, spend))


@pytest.mark.parametrize("name", ["NA", "null", "None", "N/A"])
def test_a_package_called_like_a_missing_value_keeps_its_name(tables, name):
    history, _ = load(tables, f"{HEADER}\n2026-11-01 19:00:00,{name},10,30\n")
    assert history.packages == (name,)


def test_spaces_around_ids_do_not_split_a_package(tables):
    """`fans ` (a spreadsheet's trailing space) or 粉丝 with a full-width space was a second
    package, and the plan changed."""
    spend = (f"{HEADER}\n2026-11-01 19:00:00,fans,10,30\n2026-11-01 19:01:00,fans ,12,40\n"
             "2026-11-01 19:00:00,粉丝\u3000,5,9\n2026-11-01 19:01:00, 粉丝,6,9\n")
    history, _ = load(tables, spend)
    assert sorted(history.packages) == ["fans", "粉丝"]


def test_a_room_id_read_as_a_float_is_the_room(tables, tmp_path):
    """A Parquet column of room ids with a gap is float: 12345.0 left every row out as
    another room's."""
    spend_path, room_path = tables(f"{HEADER}\n2026-11-01 19:00:00,fans,10,30\n", ROOM)
    room = pd.read_csv(room_path).assign(room_id=[12345.0, None, 12345.0])
    room["ts"] = pd.to_datetime(room["ts"])
    room.to_parquet(tmp_path / "room.parquet")
    history, report = load_tables(spend_path, tmp_path / "room.parquet", room_id="12345")
    assert len(history.room) == 3
    assert not any("other rooms" in note for note in report.notes)


def test_no_package_at_all_is_named(config):
    """A spend table with a header only, and no packages in the config, reached the solver,
    which failed on a program with no packages."""
    from optimizer.data import load_history

    path = config(spend=f"{HEADER}\n")
    with pytest.raises(InputError) as caught:
        load_history(load_config(path))
    assert "no package to plan: the spend table has no rows" in str(caught.value)
    assert caught.value.source.endswith("spend.csv")


def test_a_room_with_no_organic_gmv_is_noted(tables):
    room = "ts,organic_gmv\n2026-11-01 19:00:00,0\n2026-11-01 19:01:00,0\n"
    _, report = load(tables, f"{HEADER}\n2026-11-01 19:00:00,fans,10,30\n", room)
    assert any("organic_gmv is 0 in every live minute" in note for note in report.notes)


@pytest.mark.parametrize("ts", [
    "10/11/2026 19:00",   # 10 November or October 11: 13/11/2026 is read the other way
    "26-11-01 19:00",     # no four-digit year: read as 2026-11-01, or 2001-11-26
    "19:00",              # no date: today's was added
])
def test_a_timestamp_a_parser_would_guess_at_is_refused(tables, ts):
    caught = error(tables, f"{HEADER}\n{ts},fans,10,30\n")
    assert "ts is not a local timestamp" in str(caught) and "YYYY-MM-DD" in caught.fix


def test_year_first_dates_with_slashes_are_read(tables):
    history, report = load(tables, f"{HEADER}\n2026/11/01 19:01,fans,10,30\n")
    assert history.spend["ts"].tolist() == [pd.Timestamp("2026-11-01 19:01")]
    assert any("general date parser" in note for note in report.notes)


CONFIG = """\
room_id: 0123
history: {spend: spend.csv, room: room.csv}
session: {start: "2026-12-01 19:00", end: "2026-12-01 23:00"}
budget: 080000
roi: {paid_min: 0, overall_min: 1.5}
packages:
  no: {max_spend_per_minute: 100}
  007: {max_spend_per_minute: 200}
"""


def test_config_ids_are_read_as_written(write):
    """YAML 1.1 read room_id 0123 as 83 (octal), a package `007` as 7 and `no` as False; a
    floor of 0 was refused (it is no floor)."""
    config = load_config(write("configs/campaign.yaml", CONFIG))
    assert config.room_id == "0123"
    assert set(config.packages) == {"no", "007"}
    assert config.budget == 80000
    assert config.roi.paid_min is None and config.roi.overall_min == 1.5


def test_config_numbers_are_read_as_yaml_1_2_reads_them(write):
    """YAML 1.1 read `8e4` as text, `1:30.0` as 90.0 (base 60) and `1_0` as 10: a floor
    written as a time became a floor of 90, and an id lost its underscore."""
    text = CONFIG.replace("080000", "8e4").replace("007:", "1_0:")
    config = load_config(write("configs/campaign.yaml", text))
    assert config.budget == 80000 and set(config.packages) == {"no", "1_0"}
    with pytest.raises(InputError, match=r"roi\.overall_min: .*'1:30\.0'"):
        load_config(write("configs/campaign.yaml",
                          text.replace("overall_min: 1.5", "overall_min: 1:30.0")))


def test_trailing_commas_on_some_rows_and_the_header_are_read_as_nothing(tables):
    """pandas refused a file whose rows ended in commas on some lines only."""
    history, _ = load(tables, f"{HEADER},\n2026-11-01 19:00:00,fans,10,30\n"
                                 "2026-11-01 19:01:00,fans,12,40,,\n")
    assert history.spend["spend"].tolist() == [10.0, 12.0]


def test_missing_value_words_are_missing_in_optional_number_columns(tables):
    """Excel's #N/A in a count column is a missing count, as before; only ids keep NA."""
    spend = "ts,package,spend,paid_gmv,clicks\n2026-11-01 19:00:00,NA,10,30,#N/A\n"
    history, _ = load(tables, spend)
    assert history.packages == ("NA",)
    assert history.spend["clicks"].isna().all()


def test_an_unbalanced_quote_is_bad_input_not_an_internal_error(tables):
    """Over 128 KB, Python's csv module raised its own error (exit 1)."""
    rows = "".join(f"2026-11-01 19:{m % 60:02d}:00,fans,10,30\n" for m in range(6000))
    caught = error(tables, f'{HEADER}\n2026-11-01 19:00:00,"fans,10,30\n{rows}')
    assert "line" in str(caught) and "close every quote" in caught.fix


@pytest.mark.parametrize("ts", ["1900", "19:00:00 1234"])
def test_a_time_with_four_digits_is_not_a_date(tables, ts):
    caught = error(tables, f"{HEADER}\n{ts},fans,10,30\n")
    assert "ts is not a local timestamp" in str(caught)
