"""Add what free-text answers say: themes, sentiment, crisis readings, corrections.

Revision ID: u03_comments
Revises: u02_cases
Create Date: 2026-12-08 00:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "u03_comments"
down_revision: str | None = "u02_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "comment_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("office", sa.String(length=200), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("theme_terms", sa.JSON(), nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=False),
        sa.Column("sentiment_score", sa.Float(), nullable=False),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("crisis_reasons", sa.JSON(), nullable=False),
        _time("crisis_routed_at", nullable=True),
        sa.Column("masked", sa.JSON(), nullable=False),
        sa.Column("original", sa.Text(), nullable=True),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.Column("corrected_themes", sa.JSON(), nullable=True),
        sa.Column("corrected_by", sa.String(length=340), nullable=True),
        _time("corrected_at", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_comment_readings_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_comment_readings_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_readings")),
        sa.UniqueConstraint(
            "survey_id", "question_id", name=op.f("uq_comment_readings_survey_id_question_id")
        ),
    )
    op.create_index(
        "ix_comment_readings_agency_flow_created",
        "comment_readings",
        ["agency_id", "flow_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_comment_readings_agency_flow_created", table_name="comment_readings")
    op.drop_table("comment_readings")
