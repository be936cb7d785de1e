"""Wall-clock timing shared by the benchmark scripts (each runs as `python benchmarks/bench_*.py`,
which puts this folder on sys.path)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def run_times(step: Callable[[], object], runs: int) -> tuple[list[float], object]:
    """Wall-clock seconds of each of `runs` calls of `step`, and the last result."""
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def timed(step: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall-clock seconds of `runs` calls of `step`, and the last result."""
    seconds, result = run_times(step, runs)
    return statistics.median(seconds), result
