"""The read side of the service: plans, revisions, a minute's allocation, stored actuals.

Revisions never change once stored, so their decoded arrays and each minute's view are cached;
what changes (minutes posted, the newest revision) is read from the database on every call.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Engine, Row

from optimizer.api import schemas, store, views
from optimizer.api.context import Lru
from optimizer.api.db import single_read
from optimizer.api.errors import Invalid, NotFound
from optimizer.api.planning import Solved

PLAN_ID = re.compile(r"^[0-9a-f]{32}$")


class PlanReader:
    """Answers the read endpoints in `schemas` types (404 / 422 as `ApiError`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._revisions = Lru(512)
        self._minutes = Lru(20_000)

    def plan(self, plan_id: str) -> schemas.PlanInfo:
        with self.engine.connect() as conn:
            plan = self._plan_row(conn, plan_id)
            row, _ = self._revision(conn, plan_id, plan.latest_revision)
        return schemas.PlanInfo(**views.plan_info(plan, row))

    def revisions(self, plan_id: str) -> schemas.Revisions:
        with self.engine.connect() as conn:
            self._plan_row(conn, plan_id)
            rows = store.revision_list(conn, plan_id)
        return schemas.Revisions(plan_id=plan_id,
                                 revisions=[views.revision_info(r) for r in rows])

    def revision(self, plan_id: str, number: int, horizon: int | None) -> schemas.Revision:
        with self.engine.connect() as conn:
            plan = self._plan_row(conn, plan_id)
            if number > plan.latest_revision:
                raise NotFound(f"plan {plan_id} has revisions 0 to {plan.latest_revision}",
                               "number")
            row, solved = self._revision(conn, plan_id, number)
        return views.revision(row, solved, json.loads(plan.packages), plan.session_start,
                              horizon)

    def allocation(self, plan_id: str, minute: int) -> schemas.Allocation:
        """Minute `minute` of the revision in force then (the newest one planning it).

        One query per read: revisions never change, so a minute's view of one is cached.
        """
        with self.engine.connect() as conn:
            state = store.minute_state(single_read(conn), plan_id, minute) \
                if PLAN_ID.match(plan_id) else None
            if state is None:
                raise NotFound(f"no plan with id {plan_id!r}", "plan_id")
            if minute >= state.minutes:
                raise Invalid(f"minute {minute} is outside the session (minutes 0 to "
                              f"{state.minutes - 1})", "minute")

            def view() -> dict:
                plan = self._plan_row(conn, plan_id)
                row, solved = self._revision(conn, plan_id, state.number)
                return {"plan_id": plan_id, "revision": row.number, "status": row.status,
                        "fallback": views.fallback(row),
                        "budget_shadow_price": json.loads(row.summary).get(
                            "budget_shadow_price"),
                        "plan": views.minute_plan(solved, json.loads(plan.packages),
                                                  plan.session_start, minute)}

            shown = self._minutes.get((plan_id, state.number, minute), view)
        return schemas.Allocation(**shown, posted=minute < state.minutes_posted)

    def actuals(self, plan_id: str) -> schemas.StoredActuals:
        with self.engine.connect() as conn:
            plan = self._plan_row(conn, plan_id)
            rows = store.actual_rows(conn, plan_id)
        return schemas.StoredActuals(plan_id=plan_id, minutes=views.actuals_list(
            list(rows), json.loads(plan.packages)))

    def _plan_row(self, conn: Any, plan_id: str) -> Row:
        plan = store.plan(conn, plan_id) if PLAN_ID.match(plan_id) else None
        if plan is None:
            raise NotFound(f"no plan with id {plan_id!r}", "plan_id")
        return plan

    def _revision(self, conn: Any, plan_id: str, number: int) -> tuple[Row, Solved]:
        """A revision's row and arrays (revisions never change, so they are cached)."""
        def load() -> tuple[Row, Solved]:
            row = store.revision(conn, plan_id, number)
            plan = store.plan(conn, plan_id)
            return row, store.decode_solved(row, plan.minutes, len(json.loads(plan.packages)))

        return self._revisions.get((plan_id, number), load)
