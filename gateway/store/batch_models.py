"""Batches of triggers (``POST /api/v1/surveys/batch``): what each batch accepted and
refused, kept so that a batch sent again under the same ``Idempotency-Key`` gets the same
answer without creating its surveys twice."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


def new_batch_id() -> str:
    """A public batch id: ``bt_`` and 20 URL-safe random characters."""
    return "bt_" + secrets.token_urlsafe(15)


class SurveyBatch(Base):
    """One accepted batch request: counts, per-row refusals, and its idempotency key."""

    __tablename__ = "survey_batches"
    __table_args__ = (sa.UniqueConstraint("agency_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_batch_id)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    rows: Mapped[int]
    accepted: Mapped[int]
    rejected: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
