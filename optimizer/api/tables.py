"""The service's tables (SQLAlchemy Core): fitted models, plans, their revisions and actuals.

Arrays are stored as JSON text (portable between SQLite and PostgreSQL): per-package arrays in
the plan's `packages` order, money in yuan, minutes counted from the session's start. The
Alembic migrations in `optimizer.api.migrations` create exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

models = Table(
    "models", metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("artifact", Text, nullable=False),  # the ModelArtifact JSON
    Column("source", Text, nullable=False),  # where it first came from (path or upload)
    Column("created_at", DateTime(timezone=True), nullable=False),
)

plans = Table(
    "plans", metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("room_id", Text),
    Column("session_start", DateTime, nullable=False),  # local time, no offset
    Column("minutes", Integer, nullable=False),
    Column("packages", Text, nullable=False),  # JSON list, the column order of every array
    Column("config", Text, nullable=False),  # the request's campaign config JSON
    Column("base_dir", Text, nullable=False),  # folder its relative paths were read from
    Column("model_fingerprint", String(64), ForeignKey("models.fingerprint"), nullable=False),
    Column("model_source", Text, nullable=False),
    Column("budget", Float, nullable=False),  # yuan for the session
    Column("version", Integer, nullable=False),  # +1 on every change (optimistic locking)
    Column("minutes_posted", Integer, nullable=False),  # actuals hold minutes [0, this)
    Column("latest_revision", Integer, nullable=False),
)

revisions = Table(
    "revisions", metadata,
    Column("plan_id", String(32), ForeignKey("plans.id"), primary_key=True),
    Column("number", Integer, primary_key=True),  # 0 is the plan made before the session
    Column("from_minute", Integer, nullable=False),  # first minute this revision planned
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # optimal | feasible | complete
    Column("fallback", String(20)),  # why the last plan was scaled instead: timeout | ...
    Column("message", Text),
    Column("solve_seconds", Float, nullable=False),
    Column("summary", Text, nullable=False),  # JSON totals, see views.totals
    Column("body", Text, nullable=False),  # JSON arrays, see store.encode_solved
    Index("ix_revisions_plan_from", "plan_id", "from_minute"),
)

actuals = Table(
    "actuals", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("minute", Integer, primary_key=True),  # one row per (plan, minute): idempotency
    Column("spend", Text, nullable=False),  # JSON list, yuan per package
    Column("paid_gmv", Text, nullable=False),  # JSON list, yuan per package
    Column("organic_gmv", Float, nullable=False),  # yuan
    Column("revision", Integer, nullable=False),  # the revision the post that held it made
    Column("posted_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["plan_id"], ["plans.id"]),
)
