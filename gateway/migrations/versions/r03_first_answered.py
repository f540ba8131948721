"""When each survey was first answered, for the dashboard's respondent counts.

Revision ID: r03_first_answered
Revises: p01_contact_privacy
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "r03_first_answered"
down_revision: str | None = "p01_contact_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
