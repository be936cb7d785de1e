"""Initial schema: models, plans, revisions, actuals.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("artifact", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("room_id", sa.Text),
        sa.Column("session_start", sa.DateTime, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("packages", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("base_dir", sa.Text, nullable=False),
        sa.Column("model_fingerprint", sa.String(64), sa.ForeignKey("models.fingerprint"),
                  nullable=False),
        sa.Column("model_source", sa.Text, nullable=False),
        sa.Column("budget", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("minutes_posted", sa.Integer, nullable=False),
        sa.Column("latest_revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "revisions",
        sa.Column("plan_id", sa.String(32), sa.ForeignKey("plans.id"), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("from_minute", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fallback", sa.String(20)),
        sa.Column("message", sa.Text),
        sa.Column("solve_seconds", sa.Float, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_revisions_plan_from", "revisions", ["plan_id", "from_minute"])
    op.create_table(
        "actuals",
        sa.Column("plan_id", sa.String(32), primary_key=True),
        sa.Column("minute", sa.Integer, primary_key=True),
        sa.Column("spend", sa.Text, nullable=False),
        sa.Column("paid_gmv", sa.Text, nullable=False),
        sa.Column("organic_gmv", sa.Float, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
    )


def downgrade() -> None:
    op.drop_table("actuals")
    op.drop_index("ix_revisions_plan_from", table_name="revisions")
    op.drop_table("revisions")
    op.drop_table("plans")
    op.drop_table("models")
