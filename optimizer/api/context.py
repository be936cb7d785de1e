"""What the service keeps in memory per plan: a small LRU cache and each plan's context
(config, expected response, limits and its re-planner once built)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from optimizer.api.campaign import Campaign
from optimizer.api.planning import Actuals, Limits, Planner, Solved


class Lru:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._size = max(size, 1)
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def peek(self, key: Any) -> Any:
        """The value held for `key`, or None; neither made nor marked as used."""
        with self._lock:
            return self._items.get(key)


class Context:
    """A plan's campaign in memory: config, response, limits, and its re-planner once built.

    solve_limit: seconds building the re-planner (one solve of the whole session) may take;
    replan_limit: seconds each re-plan's solver may take.
    """

    def __init__(self, campaign: Campaign, planner: Planner, solve_limit: float,
                 replan_limit: float) -> None:
        self.campaign = campaign
        self.config = campaign.config
        self.packages = campaign.packages
        self.response = campaign.response()
        self.limits = Limits.of(self.config, self.packages)
        self._planner = planner
        self._solve_limit = solve_limit
        self._replan_limit = replan_limit
        self._replanner: Any = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether the re-planner is built (a re-plan can start at once)."""
        return self._replanner is not None

    def warm(self) -> Any:
        """The re-planner, built on first use (building it solves the session once)."""
        with self._lock:
            if self._replanner is None:
                problem = self._planner.problem(self.campaign, self.response,
                                                self._solve_limit)
                self._replanner = self._planner.replanner(problem, self._replan_limit)
            return self._replanner

    def replan(self, actuals: Actuals, stop_at: float | None = None) -> Solved:
        """Re-plan the minutes after `actuals`; its solver stops at `stop_at`
        (time.perf_counter seconds, None: at its time limit)."""
        return self._planner.replan(self.warm(), actuals, stop_at)
