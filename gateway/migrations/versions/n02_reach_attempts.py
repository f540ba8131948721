"""Reminders, mode fallback and the contact attempts of each survey.

Revision ID: n02_reach_attempts
Revises: n01_reach
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "n02_reach_attempts"
down_revision: str | None = "n01_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
