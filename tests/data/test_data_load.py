"""load_history: the history checked against the campaign config."""

from __future__ import annotations

import pytest

from optimizer.data import load_config, load_history
from optimizer.errors import InputError


def history_error(config_path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_history(load_config(config_path))
    return caught.value


def test_relative_paths_are_read_from_the_config_folder(config, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path / "..")
    history, report = load_history(load_config(config()))
    assert history.source["spend"] == str((tmp_path / "data" / "spend.csv").resolve())
    assert history.packages == ("fans", "lookalike")
    assert "2 sessions" in str(report)


def test_config_room_id_picks_the_room(config):
    spend = "ts,package,spend,paid_gmv,room_id\n2026-11-01 19:00:00,fans,1,2,a\n"
    spend += "2026-11-01 19:00:00,fans,1,2,b\n"
    history, report = load_history(load_config(config("room_id: a\n", spend=spend)))
    assert history.room_id == "a" and len(history.spend) == 1
    assert "left out 1 rows of other rooms ('b')" in str(report)


def test_several_rooms_need_a_room_id_in_the_config(config):
    spend = "ts,package,spend,paid_gmv,room_id\n2026-11-01 19:00:00,fans,1,2,a\n"
    spend += "2026-11-01 19:00:00,fans,1,2,b\n"
    error = history_error(config(spend=spend))
    assert "2 rooms ('a', 'b') and no room_id is set" in str(error)


def test_missing_history_file_names_the_config_key(config, tmp_path):
    path = config()
    (tmp_path / "data" / "room.csv").unlink()
    error = history_error(path)
    assert error.source == str(path) and error.where == "history.room"
    assert "history file not found" in str(error) and "config file's folder" in error.fix


def test_history_inside_the_planned_session_is_an_error(config, room_csv):
    room = room_csv + "2026-12-01 19:00:00,1\n2026-12-01 22:59:00,1\n"
    error = history_error(config(room=room))
    assert error.source.endswith("room.csv") and error.where == "column 'ts'"
    message = str(error)
    assert "history inside the planned session (2026-12-01 19:00 to 2026-12-01 23:00)" in message
    assert "a fit must never see the future" in message
    assert "in 2 rows: row 9 (line 10): 2026-12-01 19:00:00; row 10 (line 11)" in message


def test_history_after_the_planned_session_is_fitted_on_with_a_note(config, room_csv):
    """Only overlap is an error (CONTRACT.md); later sessions were fitted on silently."""
    room = room_csv + "2026-12-02 19:00:00,1\n2026-12-02 19:01:00,1\n"
    history, report = load_history(load_config(config(room=room)))
    assert "2 live minutes after the planned session are fitted on too" in str(report)
    assert "3 sessions" in str(report)


def test_spend_inside_the_planned_session_is_an_error(config, spend_csv, room_csv):
    spend = spend_csv + "2026-12-01 20:00:00,fans,1,2\n"
    room = room_csv + "2026-12-01 20:00:00,1\n"
    error = history_error(config(spend=spend, room=room))
    assert error.source.endswith("spend.csv")
    assert "planned session" in str(error) and "row 6 (line 7)" in str(error)


def test_history_ending_at_the_session_start_is_fine(config, room_csv):
    room = room_csv + "2026-12-01 18:59:00,1\n2026-12-01 23:00:00,1\n"
    history, _ = load_history(load_config(config(room=room)))
    assert len(history.sessions) == 4


def test_config_package_without_history_needs_a_curve(config):
    error = history_error(config("packages:\n  fanz: {max_spend_per_minute: 10}\n"))
    assert error.source.endswith("campaign.yaml")
    assert "no history for packages.fanz (did you mean 'fans'?)" in str(error)
    assert "packages in the history: 'fans', 'lookalike'" in str(error)
    assert "add a curve: block" in error.fix and "max_spend_per_minute: 0" in error.fix


def test_config_package_with_curve_or_switched_off(config):
    extra = """\
    packages:
      fans: {max_spend_per_minute: 100}
      new: {curve: {max_gmv_per_minute: 500, saturation_spend: 200}}
      old: {max_spend_per_minute: 0}
    """
    history, report = load_history(load_config(config(extra)))
    assert history.packages == ("fans", "lookalike")
    assert "package 'new' is not in the history: using its curve from the config" in str(report)
    assert "package 'old' is not in the history and is switched off" in str(report)
