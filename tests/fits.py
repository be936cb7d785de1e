"""Fits shared by the test files of one run: `fitted(panel, options)` fits each history and
option set once, whichever file or xdist worker asks first.

The fit is most of the suite's time, and several files fit the same simulated histories (the
acceptance scenarios, the planner's truths, the coverage guard, the paid-driven truth). Each
fit is saved as its artifact under the run's folder (`FOLDER`, made by tests/conftest.py), named
by its data fingerprint, and every caller, the one that fitted it included, gets the model read
back from the artifact: the same object whichever worker fitted it, as `plan` reuses a fit.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from optimizer.curves import (
    FitOptions,
    ResponseModel,
    fingerprint,
    from_artifact,
    load_model,
    save_model,
)
from optimizer.data import Panel

FOLDER = "SPENDPLAN_TEST_FITS"
"""Environment variable naming the run's folder of fits; unset, every call fits afresh."""


def fitted(panel: Panel, options: FitOptions | None = None) -> ResponseModel:
    """`ResponseModel(options).fit(panel)`, fitted once per test run (module docstring)."""
    options = options or FitOptions()
    folder = os.environ.get(FOLDER)
    if folder is None:
        return ResponseModel(options).fit(panel)
    path = Path(folder) / f"{fingerprint(panel, options)}.json"
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits for the first one's fit
        if not path.exists():
            save_model(ResponseModel(options).fit(panel), path)
    return from_artifact(load_model(path))
