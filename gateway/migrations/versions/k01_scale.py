"""Send pacing and concurrent-call slots.

Revision ID: k01_scale
Revises: n02_reach_attempts
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "k01_scale"
down_revision: str | None = "n02_reach_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
