"""Erasing respondents' contact addresses a set number of days after their survey closes.

A survey closes when it reaches a final status (completed, expired, opted out, failed,
cancelled: superseded or fatigue), recorded in ``closed_at`` (a survey closed by
something that did not record it is given its last change as its closing, first:
:func:`record_missing_closings`). ``CONTACT_RETENTION_DAYS`` after that, its contact is
set to NULL and ``contact_erased_at`` recorded, and the addresses of its messages (and
of its contact attempts) are cleared, and so are its comments' unredacted texts (kept
sealed only when the flow keeps originals). The answers, message bodies and ``contact_hash``
stay: results still count the survey, and the fatigue rule and opt-outs still recognise
the contact. An inbound text that matched no survey is erased the same number of days after it came.

Both the worker's sweep (a batch per round) and ``gateway privacy erase`` run
:func:`erase_due`; ``--dry-run`` runs :func:`count_due`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.attempt_models import ContactAttempt
from gateway.store.comment_models import CommentReading
from gateway.store.models import FINAL_STATUSES, Message, Survey

#: Surveys (and unmatched messages) erased per call: one sweep round's share.
ERASE_BATCH: Final = 500


@dataclass
class Erased:
    """How many surveys' contacts and how many messages' addresses were (or would be)
    erased."""

    surveys: int = 0
    messages: int = 0

    def __iadd__(self, other: Erased) -> Erased:
        self.surveys += other.surveys
        self.messages += other.messages
        return self


def _closed_before(cutoff: datetime) -> list[Any]:
    # The same terms as ix_surveys_contact_kept_closed_at's predicate, so it is used; and
    # whatever set closed_at, an open survey's contact is never erased.
    return [
        Survey.contact.is_not(None),
        Survey.closed_at.is_not(None),
        Survey.closed_at <= cutoff,
        Survey.status.in_(FINAL_STATUSES),
    ]


def _closing_unrecorded() -> list[Any]:
    # The same terms as ix_surveys_closing_unrecorded's predicate, so it is used.
    return [Survey.closed_at.is_(None), Survey.status.in_(FINAL_STATUSES)]


def record_missing_closings(session: Session) -> int:
    """Give each closed survey without a closing time (closed by the release before
    ``closed_at`` existed, during a rolling deploy, or by a hand-written UPDATE) its last
    change as its closing, which is never earlier than the real one; how many."""
    result = session.execute(
        sa.update(Survey)
        .where(*_closing_unrecorded())
        .values(closed_at=Survey.updated_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _unmatched_before(cutoff: datetime) -> list[Any]:
    return [
        Message.survey_id.is_(None),
        Message.from_addr.is_not(None),
        Message.created_at <= cutoff,
    ]


def count_due(session: Session, *, now: datetime, days: int) -> Erased:
    """What :func:`erase_due` would erase, without erasing it (0 days: nothing)."""
    if days <= 0:
        return Erased()
    cutoff = now - timedelta(days=days)
    closed = sa.or_(
        sa.and_(*_closed_before(cutoff)),
        sa.and_(*_closing_unrecorded(), Survey.contact.is_not(None), Survey.updated_at <= cutoff),
    )
    surveys = sa.select(Survey.id).where(closed)
    survey_messages = sa.select(sa.func.count(Message.id)).where(
        Message.survey_id.in_(surveys),
        sa.or_(Message.from_addr.is_not(None), Message.to_addr.is_not(None)),
    )
    unmatched = sa.select(sa.func.count(Message.id)).where(*_unmatched_before(cutoff))
    return Erased(
        surveys=session.scalar(sa.select(sa.func.count()).select_from(surveys.subquery())) or 0,
        messages=(session.scalar(survey_messages) or 0) + (session.scalar(unmatched) or 0),
    )


def erase_due(session: Session, *, now: datetime, days: int, limit: int = ERASE_BATCH) -> Erased:
    """Erase the contacts of up to ``limit`` surveys closed ``days`` ago or more, and the
    addresses of up to ``limit`` unmatched inbound texts as old (0 days: nothing).
    Not committed; call again until it erases nothing to finish a backlog."""
    if days <= 0:
        return Erased()
    cutoff = now - timedelta(days=days)
    record_missing_closings(session)
    ids = list(
        session.scalars(
            sa.select(Survey.id)
            .where(*_closed_before(cutoff))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    erased = Erased(surveys=len(ids))
    if ids:
        session.execute(
            sa.update(Survey)
            .where(Survey.id.in_(ids))
            .values(contact=None, contact_erased_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        erased.messages += _clear_messages(session, Message.survey_id.in_(ids))
        session.execute(
            sa.update(ContactAttempt)
            .where(ContactAttempt.survey_id.in_(ids), ContactAttempt.to_addr.is_not(None))
            .values(to_addr=None)
            .execution_options(synchronize_session=False)
        )
        # A comment's unredacted text, kept sealed when the flow says so, goes with it.
        session.execute(
            sa.update(CommentReading)
            .where(CommentReading.survey_id.in_(ids), CommentReading.original.is_not(None))
            .values(original=None)
            .execution_options(synchronize_session=False)
        )
    unmatched = list(
        session.scalars(sa.select(Message.id).where(*_unmatched_before(cutoff)).limit(limit))
    )
    if unmatched:
        erased.messages += _clear_messages(session, Message.id.in_(unmatched))
    return erased


def _clear_messages(session: Session, which: Any) -> int:
    result = session.execute(
        sa.update(Message)
        .where(which, sa.or_(Message.from_addr.is_not(None), Message.to_addr.is_not(None)))
        .values(from_addr=None, to_addr=None, contact_hash=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def erase_all_due(session: Session, *, now: datetime, days: int) -> Erased:
    """Erase everything due, a batch at a time (committing each batch)."""
    total = Erased()
    while True:
        erased = erase_due(session, now=now, days=days)
        session.commit()
        if not (erased.surveys or erased.messages):
            return total
        total += erased
