"""plan.png drawn by a forked child (`ChartInBackground`): the same file as drawn here, and
drawn here whenever the child cannot."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from optimizer.planner import PlanningProblem, chart_process, solve
from optimizer.planner.chart_process import ChartInBackground
from optimizer.planner.outputs import draw_plan

ROOT = Path(__file__).resolve().parents[2]
START = pd.Timestamp("2026-12-01 19:00")


@pytest.fixture
def plan(make_response):
    return solve(PlanningProblem(response=make_response(2, 15, seed=1), budget=2000.0))


def _forking(monkeypatch) -> None:
    """Let the child be forked here, where the test runner's threads would stop it."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def test_the_child_draws_the_same_file_as_this_process(monkeypatch, plan, tmp_path):
    _forking(monkeypatch)
    drawn_here = []
    monkeypatch.setattr(chart_process, "draw_plan",
                        lambda *a: drawn_here.append(os.getpid()) or draw_plan(*a))
    with ChartInBackground() as chart:
        assert chart._process is not None and chart._process.is_alive()
        chart.draw(plan, START, tmp_path / "child.png")
    draw_plan(plan, START, tmp_path / "here.png")
    assert drawn_here == []  # this process never drew: the child did
    assert (tmp_path / "child.png").read_bytes() == (tmp_path / "here.png").read_bytes()


def test_a_failing_child_leaves_the_chart_to_this_process(monkeypatch, plan, tmp_path):
    _forking(monkeypatch)
    parent = os.getpid()

    def only_here(*args):
        if os.getpid() != parent:
            raise RuntimeError("no fonts in the child")
        draw_plan(*args)

    monkeypatch.setattr(chart_process, "draw_plan", only_here)
    with ChartInBackground() as chart:
        chart.draw(plan, START, tmp_path / "plan.png")
    assert (tmp_path / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_child_never_asked_exits(monkeypatch):
    _forking(monkeypatch)
    with ChartInBackground() as chart:  # e.g. the plan failed before anything was drawn
        process = chart._process
    assert process is not None and not process.is_alive() and process.exitcode == 0


def test_no_child_where_other_threads_run(monkeypatch, plan, tmp_path):
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    with ChartInBackground() as chart:
        assert chart._process is None
        chart.draw(plan, START, tmp_path / "plan.png")
    assert (tmp_path / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_spendplan_plan_draws_plan_png_in_its_child(tmp_path):
    # the real command: one thread, so the chart is drawn by the forked child
    done = subprocess.run([sys.executable, "-m", "optimizer", "plan",
                           str(ROOT / "configs" / "demo.yaml"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "chart:" in done.stdout
