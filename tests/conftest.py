"""The run's shared fits (tests/fits.py) and its order: long files first.

pytest-xdist (`-n 2 --dist loadfile --no-loadscope-reorder`, pyproject) keeps each file on one
worker, so that a module-scoped fixture (a fitted scenario, 100 closed-loop sessions) is built
once, and hands files out in collection order as workers free up. Files with slow tests and
the notebooks go first (longest first is the classic rule for scheduling on a few workers): a
long file picked up last would leave the other worker idle for minutes, which is what xdist's
own order (most tests first) did to the notebooks, one test each.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from fits import FOLDER

_MADE_HERE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The run's folder of shared fits (tests/fits.py), made by the process that starts the
    run: xdist's workers, started later, inherit it through the environment."""
    if FOLDER not in os.environ:
        os.environ[FOLDER] = config.stash[_MADE_HERE] = tempfile.mkdtemp(prefix="spendplan-fits-")


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_MADE_HERE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        del os.environ[FOLDER]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def long(item: pytest.Item) -> bool:
        return item.get_closest_marker("slow") is not None or item.path.suffix == ".ipynb"

    first = {item.path for item in items if long(item)}
    items.sort(key=lambda item: item.path not in first)  # stable: file order kept otherwise
