"""When each survey closed (``closed_at``), which the contact erasure now reads instead
of ``updated_at``; answers then change only columns no index names, so PostgreSQL
updates a survey row in place (a HOT update, with room left on each page for it). Three
indexes go: two that another index already serves, and one on ``messages.agency_id``
that no query uses (every webhook's message rows paid for it).

Revision ID: h01_in_place_updates
Revises: k01_scale
Create Date: 2026-11-25 23:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h01_in_place_updates"
down_revision: str | None = "k01_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINAL = "status IN ('completed', 'expired', 'opted_out', 'failed', 'cancelled')"
KEPT_BY_CLOSING = "contact IS NOT NULL AND closed_at IS NOT NULL"
KEPT_BY_UPDATE = f"contact IS NOT NULL AND {FINAL}"
UNRECORDED = f"closed_at IS NULL AND {FINAL}"
FILLFACTOR = 80


def upgrade() -> None:
    op.add_column("surveys", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    # A closed survey's last change is never earlier than its closing: the closest record
    # there is of when the surveys closed before this column.
    op.execute(f"UPDATE surveys SET closed_at = COALESCE(completed_at, updated_at) WHERE {FINAL}")
    op.drop_index("ix_surveys_contact_kept_updated_at", table_name="surveys")
    op.create_index(
        "ix_surveys_contact_kept_closed_at",
        "surveys",
        ["closed_at"],
        postgresql_where=sa.text(KEPT_BY_CLOSING),
        sqlite_where=sa.text(KEPT_BY_CLOSING),
    )
    # Surveys the release before this one closes during a rolling deploy, without a
    # closing time: the erasure finds them here and gives them one (normally empty).
    op.create_index(
        "ix_surveys_closing_unrecorded",
        "surveys",
        ["id"],
        postgresql_where=sa.text(UNRECORDED),
        sqlite_where=sa.text(UNRECORDED),
    )
    # ix_surveys_flow_id_created_at and ix_answers_answered_covering lead with these.
    op.drop_index("ix_surveys_flow_id", table_name="surveys")
    op.drop_index("ix_answers_answered_survey_id", table_name="answers")
    op.drop_index("ix_messages_agency_id", table_name="messages")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE surveys SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE surveys RESET (fillfactor)")
    op.create_index("ix_messages_agency_id", "messages", ["agency_id"])
    op.create_index(
        "ix_answers_answered_survey_id",
        "answers",
        ["survey_id"],
        postgresql_where=sa.text("outcome = 'answered'"),
        sqlite_where=sa.text("outcome = 'answered'"),
    )
    op.create_index("ix_surveys_flow_id", "surveys", ["flow_id"])
    op.drop_index("ix_surveys_closing_unrecorded", table_name="surveys")
    op.drop_index("ix_surveys_contact_kept_closed_at", table_name="surveys")
    op.create_index(
        "ix_surveys_contact_kept_updated_at",
        "surveys",
        ["updated_at"],
        postgresql_where=sa.text(KEPT_BY_UPDATE),
        sqlite_where=sa.text(KEPT_BY_UPDATE),
    )
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("closed_at")
