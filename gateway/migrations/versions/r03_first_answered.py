"""When each survey was first answered, for the results' respondent counts; each answer's
survey creation time, for the results' answer counts; when each pending alert delivery is
next due, for the sweeper that re-queues lost deliveries.

``surveys.first_answered_at`` is backfilled from the answers in one set-based UPDATE (the
earliest answered answer of each survey) and joins the results' covering index, so that
the dashboard and the A-11 report count respondents from the index alone.
``answers.survey_created_at`` copies the survey's ``created_at`` (one UPDATE joining the
surveys), indexed with the question for the answered answers.
``deliveries.next_attempt_at`` of a pending delivery starts at its last change.

Revision ID: r03_first_answered
Revises: p01_contact_privacy
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r03_first_answered"
down_revision: str | None = "p01_contact_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING = "ix_surveys_results_covering"
COVERED = [
    "id", "channel", "language", "status", "sent_at", "completed_at", "flow_version_id", "context",
]  # fmt: skip
PENDING = sa.text("status = 'pending'")
ANSWERED = sa.text("outcome = 'answered'")
ANSWERS_BY_SURVEY_CREATED = "ix_answers_answered_by_survey_created_at"

_BACKFILL_POSTGRESQL = """
UPDATE surveys SET first_answered_at = firsts.first_at
FROM (
    SELECT survey_id, min(created_at) AS first_at FROM answers
    WHERE outcome = 'answered' GROUP BY survey_id
) AS firsts
WHERE surveys.id = firsts.survey_id
"""
_BACKFILL_SQLITE = """
UPDATE surveys SET first_answered_at = (
    SELECT min(answers.created_at) FROM answers
    WHERE answers.survey_id = surveys.id AND answers.outcome = 'answered'
)
WHERE EXISTS (
    SELECT 1 FROM answers
    WHERE answers.survey_id = surveys.id AND answers.outcome = 'answered'
)
"""


_COPY_CREATED_POSTGRESQL = """
UPDATE answers SET survey_created_at = surveys.created_at
FROM surveys WHERE surveys.id = answers.survey_id
"""
_COPY_CREATED_SQLITE = """
UPDATE answers SET survey_created_at = (
    SELECT surveys.created_at FROM surveys WHERE surveys.id = answers.survey_id
)
"""


def upgrade() -> None:
    op.add_column("surveys", sa.Column("first_answered_at", sa.DateTime(timezone=True)))
    op.add_column("answers", sa.Column("survey_created_at", sa.DateTime(timezone=True)))
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(_BACKFILL_POSTGRESQL if postgresql else _BACKFILL_SQLITE)
    op.execute(_COPY_CREATED_POSTGRESQL if postgresql else _COPY_CREATED_SQLITE)
    op.create_index(
        ANSWERS_BY_SURVEY_CREATED,
        "answers",
        ["survey_created_at", "question_id"],
        postgresql_include=["survey_id", "value"],
        postgresql_where=ANSWERED,
        sqlite_where=ANSWERED,
    )
    op.drop_index(COVERING, table_name="surveys")
    op.create_index(
        COVERING,
        "surveys",
        ["agency_id", "flow_id", "created_at"],
        postgresql_include=[*COVERED, "first_answered_at"],
    )

    op.add_column("deliveries", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE deliveries SET next_attempt_at = updated_at WHERE status = 'pending'")
    op.create_index(
        "ix_deliveries_pending_next_attempt_at",
        "deliveries",
        ["next_attempt_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending_next_attempt_at", table_name="deliveries")
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop the old
    # one, and with foreign keys on, cascade the delete to its children.
    op.drop_column("deliveries", "next_attempt_at")

    op.drop_index(ANSWERS_BY_SURVEY_CREATED, table_name="answers")
    op.drop_column("answers", "survey_created_at")
    op.drop_index(COVERING, table_name="surveys")
    op.drop_column("surveys", "first_answered_at")
    op.create_index(
        COVERING, "surveys", ["agency_id", "flow_id", "created_at"], postgresql_include=COVERED
    )
