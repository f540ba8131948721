"""Contact attempts: every time the gateway reaches out to a respondent about a survey.

A survey's first contact, each reminder and each fallback to another channel is one
:class:`ContactAttempt` row. Reminders and fallbacks are scheduled as rows with a
``due_at`` and carried out by the sweeper (:mod:`gateway.sending.due`), so a scheduled
contact survives a restart or a Redis outage. ``step_key`` (``"{survey id}:{kind}-{n}"``)
is unique, so an attempt is made once however often the sweeper runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow
from gateway.store.sealed_column import SealedContact

#: What an attempt is: the survey's first contact, a reminder, or a fallback channel.
ATTEMPT_KINDS: Final = ("first", "reminder", "fallback")
#: ``planned``: waits for the first contact to go out (its delay counts from then);
#: ``scheduled``: due at ``due_at``; ``starting``: the survey's start job makes it;
#: ``sent``, ``failed``; ``suppressed``: not made, ``detail`` says why.
ATTEMPT_OUTCOMES: Final = ("planned", "scheduled", "starting", "sent", "failed", "suppressed")


class ContactAttempt(Base):
    """One contact attempt of one survey (channel, time, kind, outcome)."""

    __tablename__ = "contact_attempts"
    __table_args__ = (sa.Index("ix_contact_attempts_outcome_due_at", "outcome", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: 1 for the first contact; the reminder's or fallback's place in the flow's list.
    number: Mapped[int] = mapped_column(default=1)
    channel: Mapped[str] = mapped_column(sa.String(16))
    #: Why a fallback is made: ``no_answer``, ``undeliverable`` or ``not_mobile``.
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    #: The address a fallback goes to when it is not the survey's own (an email), sealed
    #: at rest; cleared once the attempt is made or suppressed (its message keeps it).
    to_addr: Mapped[str | None] = mapped_column(SealedContact())
    step_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str | None] = mapped_column(sa.String(300))
    due_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ContactAttempt {self.step_key} {self.channel} {self.outcome}>"
