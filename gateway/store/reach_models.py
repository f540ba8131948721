"""Interactions: every trigger an agency reports, whether or not a survey followed.

A trigger is an interaction report first. Its row says which flow and channel it was for,
its context, whether a survey was offered and, when not, why (``reason``); it links to the
survey record the trigger answered with (none when the contact was invalid). No contact
address is kept here. The A-11 volumes count these rows (docs/results.md).

The table is an append-only log written in the same transaction as the survey records
and batch it refers to, and those are never deleted; its ids are kept without foreign
keys, whose per-row checks would double the cost of recording a batch's 100,000 rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class Interaction(Base):
    """One reported interaction (a trigger, single or a batch row)."""

    __tablename__ = "interactions"
    __table_args__ = (
        sa.Index(
            "ix_interactions_agency_id_flow_id_created_at", "agency_id", "flow_id", "created_at"
        ),
        # A refused trigger retried with its Idempotency-Key is counted once (batch rows,
        # which have no key of their own, stay out of the index).
        sa.Index(
            "uq_interactions_agency_id_idempotency_key",
            "agency_id",
            "idempotency_key",
            unique=True,
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int]
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(16))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    offered: Mapped[bool]
    # sampled_out, quota_reached, fatigue, opted_out, invalid_contact; None when offered.
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    survey_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    batch_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
