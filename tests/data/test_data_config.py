"""Campaign config: loading, defaults and every bad input the loader names."""

from __future__ import annotations

from datetime import datetime

import pytest

from optimizer.data import CampaignConfig, load_config
from optimizer.errors import InputError

GOOD = {
    "history": {"spend": "spend.csv", "room": "room.csv"},
    "session": {"start": "2026-12-01 19:00", "end": "2026-12-01 23:00"},
    "budget": 80000,
}


def config_error(write, text: str) -> str:
    path = write("configs/campaign.yaml", text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    return str(caught.value)


def with_changes(**changes) -> dict:
    data = {key: dict(value) if isinstance(value, dict) else value for key, value in GOOD.items()}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section][field] = value
        else:
            data[section] = value
    return data


def from_dict_error(tmp_path, data: dict) -> str:
    with pytest.raises(InputError) as caught:
        CampaignConfig.from_dict(data, tmp_path, source="<request>")
    assert caught.value.source == "<request>"
    return str(caught.value)


def test_good_config_has_contract_defaults_and_absolute_paths(config, tmp_path):
    loaded = load_config(config())
    assert loaded.history.spend == (tmp_path / "data" / "spend.csv").resolve()
    assert loaded.history.room.is_absolute()
    assert loaded.session.start == datetime(2026, 12, 1, 19, 0)
    assert loaded.session.end == datetime(2026, 12, 1, 23, 0)
    assert (loaded.session.slot_minutes, loaded.session.minutes, loaded.session.slots) == (
        1,
        240,
        240,
    )
    assert loaded.objective == "max_gmv"
    assert loaded.room_id is None and loaded.gmv_target is None and loaded.margin == 0.3
    assert loaded.roi.paid_min is None and loaded.roi.overall_min is None
    assert loaded.packages == {}
    assert loaded.source.endswith("campaign.yaml")


def test_full_config_from_contract_example(config):
    loaded = load_config(
        config(
            """\
            room_id: demo_room
            objective: max_profit
            gmv_target: null
            roi:
              paid_min: 2.0
              overall_min: null
            margin: 0.25
            packages:
              fans: {max_spend_per_minute: 1500, min_spend_when_active: 200}
              new_pkg:
                curve: {family: hill, max_gmv_per_minute: 900, saturation_spend: 300, shape: 0.8}
            """
        )
    )
    assert loaded.room_id == "demo_room"
    assert loaded.roi.paid_min == 2.0 and loaded.margin == 0.25
    assert loaded.packages["fans"].max_spend_per_minute == 1500
    assert loaded.packages["fans"].min_spend_when_active == 200
    curve = loaded.packages["new_pkg"].curve
    assert (curve.family, curve.shape, curve.carryover_minutes, curve.organic_leverage) == (
        "hill",
        0.8,
        0.0,
        0.0,
    )


def test_from_dict_resolves_paths_against_base_dir(tmp_path):
    loaded = CampaignConfig.from_dict(GOOD | {"room_id": 12345}, tmp_path / "base")
    assert loaded.history.spend == (tmp_path / "base" / "spend.csv").resolve()
    assert loaded.room_id == "12345"
    assert loaded.source == "<config>"


def test_empty_sections_mean_none_given(tmp_path):
    loaded = CampaignConfig.from_dict(GOOD | {"packages": None, "roi": None}, tmp_path)
    assert loaded.packages == {} and loaded.roi.paid_min is None


def test_config_is_frozen(tmp_path):
    loaded = CampaignConfig.from_dict(GOOD, tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        loaded.budget = 1


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(InputError, match="nope.yaml: file not found"):
        load_config(path)


def test_yaml_syntax_error_names_file_and_line(write):
    message = config_error(write, "budget: 5\nsession: [1, 2\n")
    assert "not valid YAML" in message and "line 3" in message


def test_key_given_twice_is_an_error(write):
    message = config_error(write, "budget: 5\nbudget: 6\n")
    assert "'budget' is given twice" in message and "line 2" in message


@pytest.mark.parametrize("text", ["", "- 1\n- 2\n"])
def test_config_must_be_a_mapping(write, text):
    message = config_error(write, text)
    assert "must be a mapping" in message and "history, session and budget" in message


def test_missing_required_keys_are_all_listed(write):
    message = config_error(write, "room_id: r1\n")
    assert "3 problems" in message
    assert "history: required key is missing; add history: {spend: PATH" in message
    assert "session: required key is missing; add session:" in message
    assert "budget: required key is missing; add budget:" in message


def test_unknown_key_is_named_with_a_suggestion(config):
    with pytest.raises(InputError) as caught:
        load_config(config("budgte: 5\n"))
    message = str(caught.value)
    assert "budgte: unknown key (did you mean 'budget'?)" in message


def test_unknown_nested_key_names_the_full_path(config):
    with pytest.raises(InputError) as caught:
        load_config(config("packages:\n  fans: {max_spend_per_min: 10}\n"))
    message = str(caught.value)
    assert "packages.fans.max_spend_per_min: unknown key" in message
    assert "did you mean 'max_spend_per_minute'?" in message


def test_unknown_key_in_curve_block(tmp_path):
    curve = {"max_gmv_per_minute": 1, "saturation_spend": 1, "shaep": 0.5}
    message = from_dict_error(tmp_path, GOOD | {"packages": {"x": {"curve": curve}}})
    assert "packages.x.curve.shaep: unknown key (did you mean 'shape'?)" in message


def test_session_end_must_be_after_start(tmp_path):
    message = from_dict_error(tmp_path, with_changes(session__end="2026-12-01 18:00"))
    assert "session.end: must be after session.start (2026-12-01 19:00)" in message
    assert "exclusive" in message


def test_session_not_whole_slots(tmp_path):
    data = with_changes(session__end="2026-12-01 22:55", session__slot_minutes=15)
    message = from_dict_error(tmp_path, data)
    assert "session.slot_minutes:" in message
    assert "235 minutes are not a whole number of 15-minute slots" in message
    assert "such as 1, 5" in message


def test_session_shorter_than_a_slot(tmp_path):
    data = with_changes(session__end="2026-12-01 19:10", session__slot_minutes=15)
    message = from_dict_error(tmp_path, data)
    assert "session.slot_minutes: the session is 10 minutes long, shorter than one" in message


def test_any_slot_that_divides_the_session_is_accepted(tmp_path):
    loaded = CampaignConfig.from_dict(with_changes(session__slot_minutes=48), tmp_path)
    assert loaded.session.slots == 5


def test_slot_minutes_must_be_positive(tmp_path):
    message = from_dict_error(tmp_path, with_changes(session__slot_minutes=0))
    assert "session.slot_minutes: input should be greater than or equal to 1" in message


def test_session_times_need_minute_resolution(tmp_path):
    message = from_dict_error(tmp_path, with_changes(session__start="2026-12-01 19:00:30"))
    assert "session.start: must be on a whole minute" in message
    assert '"2026-12-01 19:00"' in message


def test_session_times_are_local(tmp_path):
    message = from_dict_error(tmp_path, with_changes(session__start="2026-12-01T19:00+08:00"))
    assert "session.start: must be local time without a UTC offset" in message


def test_unreadable_session_time(tmp_path):
    message = from_dict_error(tmp_path, with_changes(session__start="tomorrow evening"))
    assert "session.start: input should be a valid datetime" in message
    assert "'tomorrow evening'" in message


@pytest.mark.parametrize("budget", [0, -5])
def test_budget_must_be_positive(tmp_path, budget):
    message = from_dict_error(tmp_path, with_changes(budget=budget))
    assert f"budget: input should be greater than 0 (got {budget})" in message


def test_a_budget_written_as_text_says_how_to_write_it(tmp_path):
    message = from_dict_error(tmp_path, with_changes(budget="60,000"))
    assert "(got '60,000'); write a plain number, with no thousands separators" in message


def test_budget_must_be_finite(tmp_path):
    message = from_dict_error(tmp_path, with_changes(budget=float("inf")))
    assert "budget: input should be a finite number" in message


def test_min_spend_needs_gmv_target(tmp_path):
    message = from_dict_error(tmp_path, with_changes(objective="min_spend"))
    assert "gmv_target: objective min_spend needs gmv_target" in message
    assert "add gmv_target" in message


def test_min_spend_with_gmv_target_is_fine(tmp_path):
    loaded = CampaignConfig.from_dict(
        with_changes(objective="min_spend", gmv_target=300000), tmp_path
    )
    assert loaded.gmv_target == 300000


def test_unknown_objective_lists_the_choices(tmp_path):
    message = from_dict_error(tmp_path, with_changes(objective="max_roi"))
    assert "objective:" in message and "'max_gmv', 'min_spend' or 'max_profit'" in message


def test_max_profit_needs_a_margin(tmp_path):
    message = from_dict_error(tmp_path, with_changes(objective="max_profit", margin=None))
    assert "margin: objective max_profit needs margin" in message


@pytest.mark.parametrize("margin", [0, 1.5])
def test_margin_between_0_and_1(tmp_path, margin):
    message = from_dict_error(tmp_path, with_changes(margin=margin))
    assert "margin: input should be" in message
    if margin > 1:  # 30 for 30% is the likely slip
        assert "a share, written as a fraction: 0.3 for 30%" in message


def test_roi_floors_must_not_be_negative(tmp_path):
    message = from_dict_error(tmp_path, with_changes(roi={"paid_min": -1}))
    assert "roi.paid_min: input should be greater than or equal to 0" in message


def test_history_reach_defaults_to_the_spend_history_saw_and_can_be_switched_off(tmp_path):
    assert CampaignConfig.from_dict(GOOD, tmp_path).planner.history_reach == 1.0
    off = CampaignConfig.from_dict(with_changes(planner={"history_reach": None}), tmp_path)
    assert off.planner.history_reach is None
    message = from_dict_error(tmp_path, with_changes(planner={"history_reach": 0}))
    assert "planner.history_reach: input should be greater than 0" in message


def test_min_spend_when_active_above_max(tmp_path):
    packages = {"fans": {"max_spend_per_minute": 100, "min_spend_when_active": 200}}
    message = from_dict_error(tmp_path, with_changes(packages=packages))
    assert "packages.fans.min_spend_when_active: 200 yuan/min is more than" in message
    assert "max_spend_per_minute (100 yuan/min)" in message


def test_negative_package_limit(tmp_path):
    message = from_dict_error(
        tmp_path, with_changes(packages={"fans": {"max_spend_per_minute": -1}})
    )
    assert "packages.fans.max_spend_per_minute: input should be greater than or equal to 0" in (
        message
    )


def test_curve_settings_are_checked(tmp_path):
    curve = {"family": "hill", "saturation_spend": 100, "shape": 1.5, "carryover_minutes": -1}
    message = from_dict_error(tmp_path, with_changes(packages={"new": {"curve": curve}}))
    assert "3 problems" in message
    assert "packages.new.curve.max_gmv_per_minute: required key is missing" in message
    assert "packages.new.curve.shape: input should be less than or equal to 1" in message
    assert "packages.new.curve.carryover_minutes: input should be greater than or equal" in message


def test_several_problems_in_one_message(tmp_path):
    data = with_changes(budget=-1, session__end="2026-12-01 18:00", bugdet=3)
    message = from_dict_error(tmp_path, data)
    assert "3 problems" in message
    for key in ("budget:", "session.end:", "bugdet: unknown key"):
        assert key in message


def test_from_dict_needs_a_mapping(tmp_path):
    with pytest.raises(InputError, match="must be a mapping"):
        CampaignConfig.from_dict(["budget"], tmp_path)
