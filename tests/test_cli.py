"""The command line: the contract's exit status and messages a person can act on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import cli

ROOT = Path(__file__).resolve().parents[1]


def run(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run `spendplan ARGS` in-process; return (exit status, stdout + stderr)."""
    monkeypatch.setattr(sys, "argv", ["spendplan", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
        raise SystemExit(0)
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out + captured.err


def test_simulate_writes_contract_history(monkeypatch, capsys, tmp_path):
    status, text = run(monkeypatch, capsys, "simulate", "--scenario", "default", "--days", "2",
                       "--seed", "3", "--out", str(tmp_path / "sim"))
    assert status == 0, text
    assert {p.name for p in (tmp_path / "sim").iterdir()} == {"spend.csv", "room.csv",
                                                             "truth.json"}


def test_missing_config_is_bad_input_naming_the_file(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    status, text = run(monkeypatch, capsys, "fit", str(missing), "--out",
                       str(tmp_path / "m.json"))
    assert status == 2
    assert "nope.yaml" in text and "Traceback" not in text


def test_unknown_config_key_is_bad_input_naming_the_key(monkeypatch, capsys, tmp_path):
    config = (ROOT / "configs" / "demo.yaml").read_text().replace("budget:", "budgte:")
    path = tmp_path / "typo.yaml"
    path.write_text(config.replace("../data/demo", str(ROOT / "data" / "demo")))
    status, text = run(monkeypatch, capsys, "fit", str(path), "--out", str(tmp_path / "m.json"))
    assert status == 2
    assert "budgte" in text and "budget" in text


def test_unknown_scenario_is_bad_input(monkeypatch, capsys, tmp_path):
    status, text = run(monkeypatch, capsys, "simulate", "--scenario", "no_such.yaml",
                       "--out", str(tmp_path))
    assert status == 2 and "no_such.yaml" in text


def test_usage_error_is_bad_input(monkeypatch, capsys):
    status, _ = run(monkeypatch, capsys, "simulate", "--days", "x")
    assert status == 2


def test_version_is_the_installed_distribution_s(monkeypatch, capsys):
    from importlib.metadata import version

    import optimizer

    status, text = run(monkeypatch, capsys, "--version")
    assert status == 0 and text.strip() == f"spendplan {version('spendplan')}"
    assert optimizer.__version__ == version("spendplan")


def test_internal_error_is_status_1_with_a_short_report(monkeypatch, capsys, tmp_path):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("optimizer.sim.write_simulation", broken)
    status, text = run(monkeypatch, capsys, "simulate", "--scenario", "default",
                       "--out", str(tmp_path))
    assert status == 1
    assert "RuntimeError: boom" in text and "Traceback" not in text


def test_console_script_is_installed():
    done = subprocess.run([sys.executable, "-m", "optimizer", "--help"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and "simulate" in done.stdout


def _demo_config(tmp_path: Path, extra: str = "") -> Path:
    """configs/demo.yaml with absolute history paths and `extra` YAML lines appended."""
    text = (ROOT / "configs" / "demo.yaml").read_text()
    path = tmp_path / "demo.yaml"
    path.write_text(text.replace("../data/demo", str(ROOT / "data" / "demo")) + extra)
    return path


def test_fit_with_a_package_switched_off_that_history_lacks(monkeypatch, capsys, tmp_path):
    """`max_spend_per_minute: 0` is the loader's own fix for a config package history lacks:
    `fit` then failed in its report (exit 1, "'leverage:ghost' is not in list")."""
    config = _demo_config(tmp_path, "  ghost: {max_spend_per_minute: 0}\n")
    status, text = run(monkeypatch, capsys, "fit", str(config), "--out",
                       str(tmp_path / "m.json"))
    assert status == 0, text
    assert "ghost" in text and (tmp_path / "m.json").is_file()
    assert "note: history: 21 sessions" in text  # the loader's notes, as plan prints them


@pytest.mark.parametrize("args, words", [
    (["fit", "CONFIG", "--out", "OUT/model.png"], "not a .json file"),
    (["simulate", "--scenario", "default", "--seed", "-1", "--out", "OUT"], "--seed"),
    (["simulate", "--scenario", "nope", "--out", "OUT"], "cannibal, clock, default, long"),
])
def test_bad_options_are_bad_input_before_any_work(monkeypatch, capsys, tmp_path, args, words):
    config = _demo_config(tmp_path)
    args = [a.replace("CONFIG", str(config)).replace("OUT", str(tmp_path / "out"))
            for a in args]
    status, text = run(monkeypatch, capsys, *args)
    assert status == 2 and words in text, text
    assert not (tmp_path / "out" / "model.png").exists()


def test_the_loaders_notes_come_before_its_error(monkeypatch, capsys, tmp_path):
    """A Parquet room table whose room ids were floats (12345.0) had its rows left out as
    another room's, with a note; the error that followed (spend when the room was not live)
    was printed alone, so the cause was not shown. Here: rows of another room left out, then
    a package the config names but the history lacks."""
    spend = tmp_path / "spend.csv"
    room = tmp_path / "room.csv"
    spend.write_text("ts,package,spend,paid_gmv,room_id\n2026-11-01 19:00:00,fans,10,30,r1\n"
                     "2026-11-01 19:00:00,fans,10,30,r2\n")
    room.write_text("ts,organic_gmv,room_id\n2026-11-01 19:00:00,100,r1\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"room_id: r1\nhistory: {{spend: {spend}, room: {room}}}\n"
                      'session: {start: "2026-12-01 19:00", end: "2026-12-01 23:00"}\n'
                      "budget: 1000\npackages:\n  lookalike: {max_spend_per_minute: 10}\n")
    status, text = run(monkeypatch, capsys, "plan", str(config), "--out", str(tmp_path / "o"))
    assert status == 2, text
    note, error = text.index("1 rows of other rooms"), text.index("no history for packages")
    assert note < error


def test_blas_runs_on_one_thread_unless_the_environment_says(monkeypatch, capsys):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    run(monkeypatch, capsys, "--version")
    assert os.environ["OPENBLAS_NUM_THREADS"] == "3"
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    run(monkeypatch, capsys, "--version")
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
