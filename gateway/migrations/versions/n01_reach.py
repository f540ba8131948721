"""Interactions, sampling, reminders, fallback and survey windows.

Every trigger is recorded as an interaction, whether or not a survey followed; the A-11
volumes count them. Sampling and windows are flow settings and need no table. The
interactions log keeps the ids of its agency, survey and batch without foreign keys
(see gateway/store/reach_models.py).

Revision ID: n01_reach
Revises: r03_first_answered
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "n01_reach"
down_revision: str | None = "r03_first_answered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("survey_id", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index(
        "uq_interactions_agency_id_idempotency_key",
        "interactions",
        ["agency_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        sqlite_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_index(
        "ix_interactions_agency_id_flow_id_created_at",
        "interactions",
        ["agency_id", "flow_id", "created_at"],
    )
    op.create_index(op.f("ix_interactions_survey_id"), "interactions", ["survey_id"])
    op.create_index(op.f("ix_interactions_batch_id"), "interactions", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_interactions_batch_id"), table_name="interactions")
    op.drop_index(op.f("ix_interactions_survey_id"), table_name="interactions")
    op.drop_index("ix_interactions_agency_id_flow_id_created_at", table_name="interactions")
    op.drop_index("uq_interactions_agency_id_idempotency_key", table_name="interactions")
    op.drop_table("interactions")
