"""Worker processes that fit packages' paid curves side by side (`ResponseModel(n_jobs=...)`).

A package's curve is fitted on its own rows (`PackageTrials`): most of a fit's time, and the
packages are independent. Python holds one lock per process, so the packages go to worker
processes. They are spawned, not forked: a fork copies whatever the parent's other threads hold
(a progress bar's, a server's) and is unsafe with them. A spawned worker imports the fitting
code itself, which takes about a second; the pool starts the workers at once. Their first tasks
are the packages' held-out fits at each knot spacing, while the parent fits the organic model's.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any


class FitPool:
    """Context manager: up to `workers` spawned processes, started (and importing the fitting
    code) on entry; `map_unordered(task, jobs)` yields (job key, task's result) as each
    finishes. With `workers` under 2 nothing is started and the tasks run here, in order."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> FitPool:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_one_blas_thread)
            for _ in range(self.workers):  # start every worker now: each imports while we fit
                self._pool.submit(int)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def map_unordered(self, task: Callable[..., Any], jobs: Iterable[tuple[str, tuple]]
                      ) -> Iterator[tuple[str, Any]]:
        """(key, task(*args)) for each (key, args) of `jobs`, in the order they finish. The
        workers get every job at this call, so the caller may work meanwhile and read the
        results later; without workers each task runs as its result is read."""
        if self._pool is None:
            return ((key, task(*args)) for key, args in jobs)
        futures: dict[Future, str] = {self._pool.submit(task, *args): key for key, args in jobs}
        return ((futures[done], done.result()) for done in as_completed(futures))


def _one_blas_thread() -> None:
    """A worker's start: import the fitting code and hold BLAS to one thread for good, as
    `ResponseModel.fit` holds it in the parent (the matrices are small; threads only contend)."""
    import scipy.linalg  # noqa: F401 - load scipy's OpenBLAS before limiting it
    from threadpoolctl import threadpool_limits

    import optimizer.curves.model  # noqa: F401 - the import the first task would wait for

    threadpool_limits(limits=1, user_api="blas")
