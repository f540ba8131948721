"""What a free-text answer says, as read on arrival, and staff's corrections of it.

One :class:`CommentReading` per answered text question of a survey: the themes, the
sentiment and the crisis reading of the comment (whose stored answer is already
redacted), the kinds of personal data masked in it, and, only when the flow keeps them
(``comments.keep_original``), the unredacted text sealed like a contact and erased with
the survey's contact. What the gateway does with a reading is :mod:`gateway.surveys`'
and :mod:`gateway.alerts`' decision; these are rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow
from gateway.store.sealed_column import SealedContact


class CommentReading(Base):
    __tablename__ = "comment_readings"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "question_id"),
        # The dashboard's themes over time: one agency's flow by arrival time.
        sa.Index("ix_comment_readings_agency_flow_created", "agency_id", "flow_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(sa.String(64))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(16))
    language: Mapped[str] = mapped_column(sa.String(16))
    #: The survey's ``office`` context value, for the dashboard's view by office.
    office: Mapped[str | None] = mapped_column(sa.String(200))
    #: Theme ids the reader found, and the words that matched each (its explanation).
    themes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    theme_terms: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    sentiment: Mapped[str] = mapped_column(sa.String(8))
    sentiment_score: Mapped[float] = mapped_column(sa.Float(), default=0.0)
    crisis: Mapped[bool] = mapped_column(default=False)
    #: Every matched crisis phrase (category, phrase, negated, about someone else).
    crisis_reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: When the crisis route was fired (deliveries recorded, case opened).
    crisis_routed_at: Mapped[datetime | None]
    #: The kinds of personal data masked, in order ("ssn", "phone", an identifier's name).
    masked: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: The unredacted text, kept only when the flow says so; erased with the contact.
    original: Mapped[str | None] = mapped_column(SealedContact())
    #: Which reader decided ("rules", or the configured reader's name).
    reader: Mapped[str] = mapped_column(sa.String(64))
    #: Staff's themes, when they corrected the reader's; who and when.
    corrected_themes: Mapped[list[str] | None] = mapped_column(sa.JSON)
    corrected_by: Mapped[str | None] = mapped_column(sa.String(340))
    corrected_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def current_themes(self) -> list[str]:
        """The themes that count: staff's correction, else the reader's."""
        return list(self.corrected_themes if self.corrected_themes is not None else self.themes)
