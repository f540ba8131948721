"""The audit log: who did what to which record, and when.

Security-relevant changes are recorded here (API keys created and revoked, staff sign-in,
sign-out and failures, webhook and alert changes) so that an agency can answer "who did
this" long after the fact. Rows are only ever added.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class AuditEvent(Base):
    """One recorded action. ``actor`` is ``key:<prefix>``, ``staff:<email>`` or ``cli:<user>``."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Null for actions not tied to one agency (a sign-in attempt with an unknown email).
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(340))
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str | None] = mapped_column(sa.String(200))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
