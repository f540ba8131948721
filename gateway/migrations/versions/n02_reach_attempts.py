"""Reminders, mode fallback and the contact attempts of each survey.

Revision ID: n02_reach_attempts
Revises: n01_reach
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "n02_reach_attempts"
down_revision: str | None = "n01_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("to_addr", sa.Text(), nullable=True),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_contact_attempts_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_contact_attempts_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
        sa.UniqueConstraint("step_key", name=op.f("uq_contact_attempts_step_key")),
    )
    op.create_index(op.f("ix_contact_attempts_survey_id"), "contact_attempts", ["survey_id"])
    op.create_index(op.f("ix_contact_attempts_agency_id"), "contact_attempts", ["agency_id"])
    op.create_index("ix_contact_attempts_outcome_due_at", "contact_attempts", ["outcome", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_contact_attempts_outcome_due_at", table_name="contact_attempts")
    op.drop_index(op.f("ix_contact_attempts_agency_id"), table_name="contact_attempts")
    op.drop_index(op.f("ix_contact_attempts_survey_id"), table_name="contact_attempts")
    op.drop_table("contact_attempts")
