"""Service-recovery cases: a respondent's survey that staff act on, what they did, and
which cases are related.

A case belongs to one survey (at most one case per survey) and to that survey's agency.
Its history is :class:`CaseEvent` rows, only ever added: opened, assigned, a status
changed, a note, a link, a reply sent to the respondent and the respondent's answer, an
escalation. What a case may do next is :mod:`gateway.cases`'s decision; these are rows.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow

#: A case's statuses, in the order a case usually moves through them.
CASE_STATUSES: Final = ("new", "in_progress", "waiting", "resolved")
#: Statuses of a case still to be worked.
OPEN_CASE_STATUSES: Final = ("new", "in_progress", "waiting")
#: What a history row records.
CASE_EVENT_KINDS: Final = (
    "opened",
    "assigned",
    "status",
    "note",
    "link",
    "reply",
    "answer",
    "escalated",
)
#: An open case that is past due (``ix_cases_open_due_at``).
CASE_OPEN: Final = "status <> 'resolved'"
#: A case with a reply waiting to go out.
REPLY_WAITING: Final = "reply_due_at IS NOT NULL"


def new_case_id() -> str:
    """A public case id: ``cs_`` and 16 URL-safe random characters (96 bits)."""
    return "cs_" + secrets.token_urlsafe(12)


class Case(Base):
    """One service-recovery case: one survey's respondent, worked by an agency's staff."""

    __tablename__ = "cases"
    __table_args__ = (
        # The inbox's lists: an agency's cases by status and due time, its newest first.
        sa.Index("ix_cases_agency_id_status_due_at", "agency_id", "status", "due_at"),
        sa.Index("ix_cases_agency_id_opened_at", "agency_id", "opened_at"),
        sa.Index("ix_cases_agency_id_assignee_id_status", "agency_id", "assignee_id", "status"),
        # The escalation sweep: open cases past due, across agencies.
        sa.Index(
            "ix_cases_open_due_at",
            "due_at",
            postgresql_where=sa.text(CASE_OPEN),
            sqlite_where=sa.text(CASE_OPEN),
        ),
        sa.Index(
            "ix_cases_reply_due_at",
            "reply_due_at",
            postgresql_where=sa.text(REPLY_WAITING),
            sqlite_where=sa.text(REPLY_WAITING),
        ),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_case_id)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    survey_id: Mapped[str] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), unique=True
    )
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(16))
    language: Mapped[str] = mapped_column(sa.String(16))
    # The survey's ``office`` context value, copied: the inbox filters and the figures
    # group by it.
    office: Mapped[str | None] = mapped_column(sa.String(200))
    priority: Mapped[str] = mapped_column(sa.String(8), default="normal")
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    # The agency's code for how it was resolved (the flow's ``cases.resolutions``).
    resolution: Mapped[str | None] = mapped_column(sa.String(64))
    team: Mapped[str | None] = mapped_column(sa.String(64))
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_members.id", ondelete="SET NULL")
    )
    # The alert rule that opened it; None when staff opened it from a response.
    rule: Mapped[str | None] = mapped_column(sa.String(64))
    opened_by: Mapped[str] = mapped_column(sa.String(340))
    # Whether the respondent said staff may contact them (the flow's ``cases.consent``).
    contact_consent: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    # The first thing staff did (assigned, a status, a note, a reply): time to first action.
    first_action_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # When the escalation for the current due time went out; reopening clears it.
    escalated_at: Mapped[datetime | None]
    # The latest reply sent to the respondent: their next text within a while lands here.
    replied_at: Mapped[datetime | None]
    # When a reply waiting to go out (quiet hours, pacing, a retry) is next tried; NULL
    # when none waits (``ix_cases_reply_due_at``, what the sweeper reads).
    reply_due_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.status}>"


class CaseEvent(Base):
    """One entry of a case's history. ``actor`` is ``staff:<email>``, ``key:<prefix>``,
    ``rule:<name>`` or ``respondent``."""

    __tablename__ = "case_events"
    __table_args__ = (sa.Index("ix_case_events_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(340))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # What changed, in short: "new -> in_progress", a resolution code, an assignee.
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    # A note's words, a reply's text or the respondent's answer.
    body: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )


class CaseLink(Base):
    """Two related cases of one agency; stored once each way."""

    __tablename__ = "case_links"

    case_id: Mapped[str] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    linked_id: Mapped[str] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseDigest(Base):
    """A team's daily digest of due cases, sent once per team and day."""

    __tablename__ = "case_digests"
    __table_args__ = (sa.UniqueConstraint("agency_id", "team", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    team: Mapped[str] = mapped_column(sa.String(64))
    day: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class LowScore(Base):
    """A completed survey of a flow with case rules that has a low score
    (:func:`gateway.cases.figures.is_low`), recorded when it completes; ``has_case`` once a
    case is opened for it. What the share of low scores with a case counts."""

    __tablename__ = "case_low_scores"
    __table_args__ = (
        sa.Index(
            "ix_case_low_scores_agency_id_created_at",
            "agency_id",
            "created_at",
            postgresql_include=["flow_id", "has_case"],
        ),
    )

    survey_id: Mapped[str] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    # The survey's creation time, as every figure of the results selects surveys by it.
    created_at: Mapped[datetime]
    has_case: Mapped[bool] = mapped_column(default=False)
