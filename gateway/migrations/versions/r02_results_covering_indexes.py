"""Covering indexes for the results: the dashboard, the A-11 report and the CSV export read
one flow's surveys, and the answered answers of those surveys, from the indexes alone.

Revision ID: r02_results_covering_indexes
Revises: c01_consent
Create Date: 2026-11-25 19:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r02_results_covering_indexes"
down_revision: str | None = "c01_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SURVEY_COLUMNS = [
    "id", "channel", "language", "status", "sent_at", "completed_at", "flow_version_id", "context",
]  # fmt: skip


def upgrade() -> None:
    op.create_index(
        "ix_surveys_results_covering",
        "surveys",
        ["agency_id", "flow_id", "created_at"],
        postgresql_include=SURVEY_COLUMNS,
    )
    op.create_index(
        "ix_answers_answered_covering",
        "answers",
        ["survey_id", "question_id"],
        postgresql_include=["value"],
        postgresql_where=sa.text("outcome = 'answered'"),
        sqlite_where=sa.text("outcome = 'answered'"),
    )


def downgrade() -> None:
    op.drop_index("ix_answers_answered_covering", table_name="answers")
    op.drop_index("ix_surveys_results_covering", table_name="surveys")
