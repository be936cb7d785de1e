"""Order of the run: long files first.

pytest-xdist (`-n 2 --dist loadfile --no-loadscope-reorder`, pyproject) keeps each file on one
worker, so that a module-scoped fixture (a fitted scenario, 100 closed-loop sessions) is built
once, and hands files out in collection order as workers free up. Files with slow tests and
the notebooks go first (longest first is the classic rule for scheduling on a few workers): a
long file picked up last would leave the other worker idle for minutes, which is what xdist's
own order (most tests first) did to the notebooks, one test each.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def long(item: pytest.Item) -> bool:
        return item.get_closest_marker("slow") is not None or item.path.suffix == ".ipynb"

    first = {item.path for item in items if long(item)}
    items.sort(key=lambda item: item.path not in first)  # stable: file order kept otherwise
