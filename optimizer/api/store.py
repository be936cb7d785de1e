"""Reading and writing plans, revisions and actuals (SQLAlchemy Core on one connection).

Writes that change a plan go through `commit_post`, which locks the plan's row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's write lock is taken by BEGIN IMMEDIATE, see `db.writing`) and
checks the plan's `version`, so two posts on one plan can never both apply to the same state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from optimizer.api.planning import Actuals, Solved
from optimizer.api.tables import actuals, models, plans, revisions


class Stale(Exception):
    """The plan changed since it was read: read again and retry."""


def now() -> datetime:
    return datetime.now(UTC)


def dumps(value: dict) -> str:
    """JSON of a summary: non-finite numbers written as null."""
    return json.dumps({k: v if not isinstance(v, float) or math.isfinite(v) else None
                       for k, v in value.items()})


# -- models ---------------------------------------------------------------------------
def add_model(conn: Connection, fingerprint: str, artifact: str, source: str) -> bool:
    """Store a model artifact unless one with its fingerprint is there; True when added."""
    if conn.execute(select(models.c.fingerprint).where(
            models.c.fingerprint == fingerprint)).first() is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(insert(models).values(fingerprint=fingerprint, artifact=artifact,
                                               source=source, created_at=now()))
    except IntegrityError:  # stored meanwhile by another request
        return False
    return True


def model(conn: Connection, fingerprint: str) -> Row | None:
    return conn.execute(select(models).where(models.c.fingerprint == fingerprint)).first()


# -- plans and revisions -------------------------------------------------------------
ARRAYS = ("spend", "paid_gmv", "organic_gmv", "marginal_roi", "marginal_paid_roi")


def encode_solved(solved: Solved) -> str:
    """A revision's arrays for its minutes [from_minute, T) as JSON (the minutes before are
    actuals, kept in their own table)."""
    m = solved.from_minute
    body = {name: getattr(solved, name)[m:].tolist() for name in ARRAYS}
    return json.dumps({**body, "budget_price": solved.budget_price})


def decode_solved(row: Row, minutes: int, packages: int) -> Solved:
    """A stored revision; rows before its from_minute are NaN (use the actuals for them)."""
    body = json.loads(row.body)
    m = row.from_minute

    def full(name: str) -> np.ndarray:
        shape = (minutes,) if name == "organic_gmv" else (minutes, packages)
        out = np.full(shape, np.nan)
        out[m:] = np.asarray(body[name], dtype=float).reshape((minutes - m, *shape[1:]))
        return out

    return Solved(status=row.status, from_minute=m,
                  **{name: full(name) for name in ARRAYS}, budget_price=body["budget_price"],
                  solve_seconds=row.solve_seconds, message=row.message, fallback=row.fallback)


def revision_values(plan_id: str, number: int, solved: Solved, summary: dict) -> dict:
    return {"plan_id": plan_id, "number": number, "from_minute": solved.from_minute,
            "created_at": now(), "status": solved.status, "fallback": solved.fallback,
            "message": solved.message, "solve_seconds": solved.solve_seconds,
            "summary": dumps(summary), "body": encode_solved(solved)}


def add_plan(conn: Connection, values: dict, first: dict) -> None:
    """Insert a plan and its revision 0."""
    conn.execute(insert(plans).values(**values, version=1, minutes_posted=0, latest_revision=0,
                                      created_at=now()))
    conn.execute(insert(revisions).values(**first))


def plan(conn: Connection, plan_id: str) -> Row | None:
    return conn.execute(select(plans).where(plans.c.id == plan_id)).first()


def unfinished_plans(conn: Connection, limit: int) -> Sequence[Row]:
    """The newest plans whose session still has minutes without actuals."""
    return conn.execute(select(plans).where(plans.c.minutes_posted < plans.c.minutes)
                        .order_by(plans.c.created_at.desc()).limit(limit)).all()


def revision(conn: Connection, plan_id: str, number: int) -> Row | None:
    return conn.execute(select(revisions).where(revisions.c.plan_id == plan_id,
                                                revisions.c.number == number)).first()


def revision_in_force(conn: Connection, plan_id: str, minute: int) -> int | None:
    """The newest revision that planned `minute` (its from_minute <= minute)."""
    return conn.execute(select(func.max(revisions.c.number)).where(
        revisions.c.plan_id == plan_id, revisions.c.from_minute <= minute)).scalar()


def minute_state(conn: Connection, plan_id: str, minute: int) -> Row | None:
    """(minutes, minutes_posted, number): the plan's length, actuals so far and the revision
    in force at `minute`, in one query (None: no such plan)."""
    in_force = select(func.max(revisions.c.number)).where(
        revisions.c.plan_id == plans.c.id, revisions.c.from_minute <= minute).scalar_subquery()
    return conn.execute(select(plans.c.minutes, plans.c.minutes_posted,
                               in_force.label("number")).where(plans.c.id == plan_id)).first()


def revision_list(conn: Connection, plan_id: str) -> Sequence[Row]:
    """Every revision of a plan without its arrays, oldest first."""
    columns = [c for c in revisions.c if c.name != "body"]
    return conn.execute(select(*columns).where(revisions.c.plan_id == plan_id)
                        .order_by(revisions.c.number)).all()


# -- actuals --------------------------------------------------------------------------
def actual_rows(conn: Connection, plan_id: str) -> Sequence[Row]:
    return conn.execute(select(actuals).where(actuals.c.plan_id == plan_id)
                        .order_by(actuals.c.minute)).all()


def actuals_of(rows: Sequence[Row], packages: int) -> Actuals:
    """Stored actual rows (minutes 0..m-1 in order) as arrays."""
    if not rows:
        return Actuals.empty(packages)
    return Actuals(spend=np.array([json.loads(r.spend) for r in rows], dtype=float),
                   paid_gmv=np.array([json.loads(r.paid_gmv) for r in rows], dtype=float),
                   organic_gmv=np.array([r.organic_gmv for r in rows], dtype=float))


def commit_post(conn: Connection, plan_id: str, version: int, rows: list[dict],
                revision_row: dict, minutes_posted: int) -> None:
    """Store new actual minutes and the revision they made, if the plan is still at `version`.

    Raises Stale when another post changed the plan first (nothing is written then).
    """
    current = conn.execute(select(plans.c.version).where(plans.c.id == plan_id)
                           .with_for_update()).scalar()
    if current != version:
        raise Stale(plan_id)
    done = conn.execute(update(plans).where(plans.c.id == plan_id, plans.c.version == version)
                        .values(version=version + 1, minutes_posted=minutes_posted,
                                latest_revision=revision_row["number"]))
    if done.rowcount != 1:
        raise Stale(plan_id)
    try:
        conn.execute(insert(actuals), rows)
        conn.execute(insert(revisions).values(**revision_row))
    except IntegrityError as error:
        raise Stale(plan_id) from error
