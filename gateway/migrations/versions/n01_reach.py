"""Interactions, sampling, reminders, fallback and survey windows.

Revision ID: n01_reach
Revises: r03_first_answered
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "n01_reach"
down_revision: str | None = "r03_first_answered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
