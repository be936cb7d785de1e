"""Plans and revisions as the API shows them (`schemas`), from stored rows and arrays."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Row

from optimizer.api import schemas
from optimizer.api.planning import Solved

TS = "%Y-%m-%d %H:%M:%S"


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def totals(solved: Solved, budget: float) -> dict:
    """Session totals (yuan): actuals before `from_minute`, expectations after."""
    m = solved.from_minute
    spent = float(solved.spend[:m].sum())
    planned = float(solved.spend[m:].sum())
    paid, organic = float(solved.paid_gmv.sum()), float(solved.organic_gmv.sum())
    spend = spent + planned
    return {"budget": budget, "spent": spent, "remaining_budget": max(budget - spent, 0.0),
            "planned_remaining_spend": planned, "total_spend": spend,
            "expected_paid_gmv": paid, "expected_organic_gmv": organic,
            "expected_total_gmv": paid + organic,
            "paid_roi": paid / spend if spend > 0 else None,
            "overall_roi": (paid + organic) / spend if spend > 0 else None}


def fallback(row: Row) -> schemas.Fallback | None:
    return schemas.Fallback(reason=row.fallback, message=row.message or "") \
        if row.fallback else None


def revision_info(row: Row) -> schemas.RevisionInfo:
    """A stored revision without its arrays (its summary holds the totals)."""
    summary = json.loads(row.summary)
    return schemas.RevisionInfo(
        number=row.number, from_minute=row.from_minute, created_at=_iso(row.created_at),
        status=row.status, fallback=fallback(row),
        notes=None if row.fallback else row.message, solve_seconds=row.solve_seconds,
        budget_shadow_price=summary.pop("budget_shadow_price", None),
        totals=schemas.Totals(**summary))


def minute_plan(solved: Solved, packages: list[str], start: datetime,
                minute: int) -> schemas.MinutePlan:
    """Minute `minute` of a revision."""
    return schemas.MinutePlan(
        minute=minute, ts=(start + timedelta(minutes=minute)).strftime(TS),
        spend=dict(zip(packages, solved.spend[minute].tolist(), strict=True)),
        expected_paid_gmv=dict(zip(packages, solved.paid_gmv[minute].tolist(), strict=True)),
        marginal_roi=_by_package(packages, solved.marginal_roi[minute]),
        marginal_paid_roi=_by_package(packages, solved.marginal_paid_roi[minute]))


def _by_package(packages: list[str], values: np.ndarray) -> dict[str, float | None]:
    return {p: _finite(v) for p, v in zip(packages, values.tolist(), strict=True)}


def revision(row: Row, solved: Solved, packages: list[str], start: datetime,
             horizon: int | None = None) -> schemas.Revision:
    """A revision with its allocation for minutes [from_minute, from_minute + horizon)."""
    T = len(solved.organic_gmv)
    end = T if horizon is None else min(T, solved.from_minute + horizon)
    info = revision_info(row)
    return schemas.Revision(**dict(info), packages=packages, allocation=[
        minute_plan(solved, packages, start, t) for t in range(solved.from_minute, end)])


def plan_info(plan: Row, latest: Row) -> dict:
    """The fields of `schemas.PlanInfo`."""
    start = plan.session_start
    config = json.loads(plan.config)
    return {"id": plan.id, "created_at": _iso(plan.created_at), "room_id": plan.room_id,
            "session": schemas.SessionInfo(
                start=start.strftime(TS),
                end=(start + timedelta(minutes=plan.minutes)).strftime(TS),
                minutes=plan.minutes,
                slot_minutes=int(config.get("session", {}).get("slot_minutes", 1) or 1)),
            "packages": json.loads(plan.packages), "budget": plan.budget,
            "model_fingerprint": plan.model_fingerprint, "model_source": plan.model_source,
            "minutes_posted": plan.minutes_posted, "latest_revision": revision_info(latest)}


def summary(solved: Solved, budget: float) -> dict:
    """What a revision row keeps as its summary: totals and the budget's shadow price."""
    return {**totals(solved, budget), "budget_shadow_price": _finite(solved.budget_price)}


def actuals_list(rows: list[Row], packages: list[str]) -> list[schemas.MinuteActuals]:
    return [schemas.MinuteActuals(
        minute=r.minute, spend=dict(zip(packages, json.loads(r.spend), strict=True)),
        paid_gmv=dict(zip(packages, json.loads(r.paid_gmv), strict=True)),
        organic_gmv=r.organic_gmv) for r in rows]


def _iso(moment: datetime) -> str:
    """UTC time in ISO form (SQLite hands back naive datetimes: they are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def as_rows(values: np.ndarray) -> list[list[float]]:
    return np.asarray(values, dtype=float).tolist()
