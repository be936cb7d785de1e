"""Scenario files: the bundled ones, YAML round trips and errors that name the file and key."""

import pytest
import yaml

from optimizer.curves.transforms import Logarithmic
from optimizer.errors import InputError
from optimizer.sim import Scenario, list_builtin

BUILTINS = ["cannibal", "clock", "default", "long", "offmodel", "strong_confounding"]


def test_builtin_names():
    assert list_builtin() == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_loads_and_round_trips(name, tmp_path):
    scenario = Scenario.builtin(name)
    assert scenario.name == name
    assert Scenario.from_yaml(scenario.to_yaml(tmp_path / "s.yaml")) == scenario


def test_default_is_the_demo_room():
    scenario = Scenario.builtin("default")
    assert scenario.room_id == "demo_room"
    packages = ("fans", "lookalike", "competitor", "interest", "retarget", "auto")
    assert scenario.package_ids == packages
    assert (scenario.session.start_time, scenario.session.minutes) == ("19:00", 240)
    assert str(scenario.first_day) == "2026-11-10"
    assert scenario.packages["retarget"].organic_leverage < 0


def test_variants_have_what_their_names_promise():
    assert Scenario.builtin("long").session.minutes == 480
    assert len(Scenario.builtin("long").packages) == 8
    assert min(p.organic_leverage for p in Scenario.builtin("cannibal").packages.values()) <= -1
    assert Scenario.builtin("strong_confounding").operator.confounding == 2.5
    offmodel = Scenario.builtin("offmodel")
    packages = offmodel.packages.values()
    assert offmodel.room.dispersion is not None
    assert any(isinstance(p.saturation, Logarithmic) for p in packages)
    assert any(len(p.carryover.half_lives) == 2 for p in packages)
    assert any(p.peak_sensitivity != 1 for p in packages)


def _write_variant(tmp_path, edit):
    data = Scenario.builtin("default").model_dump(mode="json")
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["packages"]["fans"]["saturation"].update(k=-5), "packages.fans.saturation"),
        (lambda d: d["room"].update(colour="red"), "room.colour"),
        (
            lambda d: d["packages"]["auto"].update(saturation={"family": "linear"}),
            "packages.auto.saturation",
        ),
        (lambda d: d["operator"].update(change_min=20), "operator"),
        (lambda d: d["session"].update(start_time="7pm"), "session.start_time"),
        (lambda d: d.pop("room"), "room"),
    ],
)
def test_invalid_scenario_names_file_and_key(tmp_path, edit, key):
    path = _write_variant(tmp_path, edit)
    with pytest.raises(InputError) as caught:
        Scenario.from_yaml(path)
    assert caught.value.source == str(path)
    assert key in caught.value.where


def test_unreadable_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        Scenario.from_yaml(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed")
    with pytest.raises(InputError, match="not valid YAML"):
        Scenario.from_yaml(broken)
    with pytest.raises(InputError, match="no builtin scenario"):
        Scenario.builtin("nope")


def test_a_scenario_file_is_read_as_configs_are(tmp_path):
    """YAML 1.1 read an unquoted start time 20:30 as 1230 (base 60), refused by the pattern,
    and a key given twice kept the last silently."""
    path = Scenario.builtin("default").to_yaml(tmp_path / "room.yaml")
    text = path.read_text(encoding="utf-8").replace("start_time: '19:00'", "start_time: 20:30")
    path.write_text(text, encoding="utf-8")
    assert Scenario.from_yaml(path).session.start_time == "20:30"
    path.write_text(text + "name: twice\n", encoding="utf-8")
    with pytest.raises(InputError, match="given twice"):
        Scenario.from_yaml(path)
