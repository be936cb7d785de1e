"""plan.png drawn by a forked child that imports matplotlib while the parent plans.

Importing matplotlib takes about 0.85 s, a third of `spendplan plan` end to end, and a thread
cannot overlap it with planning (both are Python under one lock). A child forked at the start
of the command imports it on the other core, then waits for the plan; the parent sends the
plan when it has one and waits for the file. Where fork is unavailable, or the process already
runs other threads (forking them is unsafe: a test runner's, a server's), or the child fails,
the chart is drawn in this process as before: the same file either way.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pandas as pd

from optimizer.planner.outputs import draw_plan
from optimizer.planner.plan import Plan

_WAIT = 60.0
"""Seconds to wait for the child's chart before drawing it here."""


class ChartInBackground:
    """Context manager: `with ChartInBackground() as chart: ...; chart.draw(plan, start, path)`.

    `draw` has `draw_plan`'s signature; on leaving, a child that was never asked to draw exits.
    """

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> ChartInBackground:
        if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
            return self
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_draw_when_asked, args=(child, self._conn),
                                        daemon=True)
        self._process.start()
        child.close()
        return self

    def draw(self, plan: Plan, start: pd.Timestamp, path: Path) -> None:
        """plan.png at `path`: by the child when it is there and succeeds, else here."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.send((plan, start, path))
                if conn.poll(_WAIT) and conn.recv() is None:
                    return
            except (OSError, EOFError):  # the child is gone
                pass
            finally:
                conn.close()
        draw_plan(plan, start, path)

    def __exit__(self, *exc) -> None:
        if self._conn is not None:
            self._conn.close()  # the child's recv ends: nothing to draw
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()


def _draw_when_asked(conn: Connection, parents: Connection) -> None:
    """The child: import matplotlib, then draw the one plan it is sent; the end of the pipe
    that the parent closes when it has nothing to send is the parent's alone."""
    parents.close()
    import matplotlib.backends.backend_agg  # noqa: F401 - the slow import, done in advance
    import matplotlib.figure  # noqa: F401

    try:
        plan, start, path = conn.recv()
    except EOFError:  # the parent has no plan to draw
        return
    try:
        draw_plan(plan, start, path)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which draws itself
        conn.send(f"{type(error).__name__}: {error}")
    else:
        conn.send(None)
