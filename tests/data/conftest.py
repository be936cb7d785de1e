"""Small history tables and configs written into tmp_path.

The room was live 2026-11-01 19:00-19:05 (5 minutes, session 0) and 2026-11-02 19:00-19:03
(3 minutes, session 1). The planned session is 2026-12-01 19:00-23:00.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

SPEND_CSV = """\
ts,package,spend,paid_gmv
2026-11-01 19:00:00,fans,10,30
2026-11-01 19:00:00,lookalike,5,8
2026-11-01 19:01:00,fans,12,40
2026-11-01 19:03:00,lookalike,6,9
2026-11-02 19:01:00,fans,20,50
"""

ROOM_CSV = """\
ts,organic_gmv
2026-11-01 19:00:00,100
2026-11-01 19:01:00,110
2026-11-01 19:02:00,120
2026-11-01 19:03:00,130
2026-11-01 19:04:00,140
2026-11-02 19:00:00,200
2026-11-02 19:01:00,210
2026-11-02 19:02:00,220
"""

CONFIG_YAML = """\
history:
  spend: ../data/spend.csv
  room: ../data/room.csv
session:
  start: "2026-12-01 19:00"
  end: "2026-12-01 23:00"
budget: 80000
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write(name, text) -> path: a text file in tmp_path (folders created)."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def tables(write) -> Callable[..., tuple[Path, Path]]:
    """tables(spend=..., room=...) -> (spend path, room path) in tmp_path/data."""

    def _tables(spend: str = SPEND_CSV, room: str = ROOM_CSV) -> tuple[Path, Path]:
        return write("data/spend.csv", spend), write("data/room.csv", room)

    return _tables


@pytest.fixture
def config(write, tables) -> Callable[..., Path]:
    """config(extra_yaml, spend=..., room=...) -> path of tmp_path/configs/campaign.yaml.

    The config points at the history tables with paths relative to its own folder.
    """

    def _config(extra: str = "", spend: str = SPEND_CSV, room: str = ROOM_CSV) -> Path:
        tables(spend, room)
        return write("configs/campaign.yaml", CONFIG_YAML + textwrap.dedent(extra))

    return _config


@pytest.fixture
def spend_csv() -> str:
    """The good spend table's text, to edit in a test."""
    return SPEND_CSV


@pytest.fixture
def room_csv() -> str:
    """The good room table's text, to edit in a test."""
    return ROOM_CSV
