"""Send pacing and concurrent-call slots; delivery statuses that arrive before their
text is recorded sent (``early_statuses``).

Revision ID: k01_scale
Revises: n02_reach_attempts
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "k01_scale"
down_revision: str | None = "n02_reach_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_statuses")),
        sa.UniqueConstraint(
            "provider_sid", "status", name=op.f("uq_early_statuses_provider_sid_status")
        ),
    )
    op.create_index(op.f("ix_early_statuses_received_at"), "early_statuses", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_early_statuses_received_at"), table_name="early_statuses")
    op.drop_table("early_statuses")
