"""Run a re-plan in a worker thread until a deadline.

The caller waits until the deadline (time.perf_counter seconds), and the work is given it: a
solve told to stop there ends soon after (its result is dropped) while the caller answers with
a fallback. One solve per key (plan) runs at a time; a task that gets its key's turn only
after its deadline does not start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")


class TimedOut(Exception):
    """The work did not finish within its time budget."""


class Runner:
    """A small pool of solver threads; `run(key, work, deadline)` returns work(deadline)."""

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replan")
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def run(self, key: str, work: Callable[[float], T], deadline: float) -> T:
        """work(deadline)'s result, or TimedOut at `deadline` (time.perf_counter seconds);
        work's errors are raised."""
        lock = self._lock(key)

        def task() -> T:
            if not lock.acquire(timeout=_left(deadline)):
                raise TimedOut("an earlier re-plan of this plan is still running")
            try:
                if time.perf_counter() >= deadline:
                    raise TimedOut("no time was left to start the re-plan")
                return work(deadline)
            finally:
                lock.release()

        future = self._pool.submit(task)
        try:
            return future.result(timeout=_left(deadline))
        except FutureTimeout:
            raise TimedOut("the re-plan did not finish in time") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _left(deadline: float) -> float:
    """Seconds until `deadline` (time.perf_counter), 0 once past it."""
    return max(deadline - time.perf_counter(), 0.0)
