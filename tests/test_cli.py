"""The command line: the contract's exit status and messages a person can act on."""

from __future__ import annotations

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
    status, text = run(monkeypatch, capsys, "fit", str(missing), "--out", str(tmp_path / "m"))
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
