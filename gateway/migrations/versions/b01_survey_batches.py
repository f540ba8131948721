"""Add survey batches: bulk triggers' results, kept for idempotent replays.

Revision ID: b01_survey_batches
Revises: s01_security
Create Date: 2026-11-25 18:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b01_survey_batches"
down_revision: str | None = "s01_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_survey_batches_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_batches")),
        sa.UniqueConstraint(
            "agency_id",
            "idempotency_key",
            name=op.f("uq_survey_batches_agency_id_idempotency_key"),
        ),
    )
    op.create_index(op.f("ix_survey_batches_agency_id"), "survey_batches", ["agency_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_batches_agency_id"), table_name="survey_batches")
    op.drop_table("survey_batches")
