"""The audit log: who did what to which record, and when; and the failed staff sign-ins
counted to slow password guessing.

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


class SignInThrottle(Base):
    """Failed staff sign-ins counted under one key (an account from one address, or one
    address), and until when that key is refused (gateway.dashboard.throttle). The key is
    a hash: the table holds neither emails nor addresses."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
