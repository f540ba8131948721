"""Respondents' contact addresses sealed at rest and found by a keyed hash.

Revision ID: p01_contact_privacy
Revises: r02_results_covering_indexes
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "p01_contact_privacy"
down_revision: str | None = "r02_results_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
