"""Run a re-plan in a worker thread within a time budget.

The caller waits at most `budget` seconds. A solve still running then keeps its thread until it
ends (its result is dropped): the caller answers with a fallback meanwhile. One solve per key
(plan) runs at a time; a task that gets its key's turn only after its deadline does not start.
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
    """A small pool of solver threads; `run(key, work, budget)` returns work()'s result."""

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replan")
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def run(self, key: str, work: Callable[[], T], budget: float) -> T:
        """work()'s result, or TimedOut after `budget` seconds; work()'s errors are raised."""
        deadline = time.monotonic() + budget
        lock = self._lock(key)

        def task() -> T:
            if not lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
                raise TimedOut("an earlier re-plan of this plan is still running")
            try:
                if time.monotonic() >= deadline:
                    raise TimedOut("no time was left to start the re-plan")
                return work()
            finally:
                lock.release()

        future = self._pool.submit(task)
        try:
            return future.result(timeout=max(deadline - time.monotonic(), 0.0))
        except FutureTimeout:
            raise TimedOut(f"the re-plan did not finish within {budget * 1000:.0f} ms") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
