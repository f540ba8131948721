"""Record a respondent's consent on the survey (a flow's ``consent: required``).

Revision ID: c01_consent
Revises: b01_survey_batches
Create Date: 2026-11-25 19:15:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c01_consent"
down_revision: str | None = "b01_survey_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("consent_text", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("consent_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("consent_given_at")
        batch.drop_column("consent_asked_at")
        batch.drop_column("consent_text")
