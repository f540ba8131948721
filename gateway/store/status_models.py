"""Delivery statuses that arrived before their text was recorded sent.

A chunk of texts is recorded sent (with each text's MessageSid) once every text of the
chunk has been handed to the provider, so a status callback can name a sid the store does
not know yet. Such a status is kept here, one row per sid and status, until the text is
recorded (and the status applied, :mod:`gateway.sms.early_statuses`) or, never matched, for a
day (the sweeper deletes it). No contact address is kept.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class EarlyStatus(Base):
    """A provider status for an outbound text not recorded sent when it arrived."""

    __tablename__ = "early_statuses"
    __table_args__ = (
        # The same callback delivered twice is kept once.
        sa.UniqueConstraint("provider_sid", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
