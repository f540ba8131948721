"""Claiming outbound texts for sending and recording them sent, in as few statements as
the guarantees allow.

An outbound text (a :class:`~gateway.store.models.Message` row, unique by ``step_key``)
goes ``pending`` → ``claimed`` → the provider's status. A claim is taken once: the row is
read under ``FOR UPDATE SKIP LOCKED`` and updated only if it is still as read, so two
workers never hold the same text. ``updated_at`` of a claimed row is the time of its claim.

A claim older than the claim timeout (``SEND_CLAIM_TIMEOUT``) belongs to a worker that
died mid-send: it may be claimed again, and :class:`Claim.stale_since` tells the sender to
ask the provider whether the text went out before sending it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway import conversation
from gateway.store.models import OPEN_STATUSES, Message, Survey


@dataclass(frozen=True)
class Claim:
    message_id: int
    to: str
    body: str
    #: For a text taken over from a dead worker: when that worker claimed it.
    stale_since: datetime | None = None


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive times; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def claim_next(
    session: Session, survey_id: str, *, now: datetime, stale_before: datetime
) -> Claim | None:
    """Claim the survey's next text to send: a pending one, or one whose claim is older
    than ``stale_before``. None when there is none, or the survey has closed."""
    while True:
        row = session.execute(
            sa.select(
                Message.id,
                Message.status,
                Message.updated_at,
                sa.func.coalesce(Message.to_addr, Survey.contact),
                Message.body,
            )
            .join(Survey, Survey.id == Message.survey_id)
            .where(
                Message.survey_id == survey_id,
                Message.direction == "outbound",
                Survey.status.in_(OPEN_STATUSES),
                sa.or_(
                    Message.status == conversation.PENDING,
                    sa.and_(
                        Message.status == conversation.CLAIMED,
                        Message.updated_at < stale_before,
                    ),
                ),
            )
            .order_by(Message.id)
            .limit(1)
            .with_for_update(of=Message, skip_locked=True)
        ).first()
        if row is None:
            return None
        message_id, was, claimed_at, to, body = row
        taken = session.execute(
            sa.update(Message)
            .where(
                Message.id == message_id,
                Message.status == was,
                Message.updated_at == claimed_at,
            )
            .values(status=conversation.CLAIMED, attempts=Message.attempts + 1, updated_at=now)
        )
        if getattr(taken, "rowcount", 0) == 1:
            stale = _aware(claimed_at) if was == conversation.CLAIMED else None
            return Claim(message_id, to, body, stale)


def drop_unsent_of_closed(session: Session, survey_id: str) -> None:
    """Drop the pending texts of a survey that closed before they went out."""
    session.execute(
        sa.update(Message)
        .where(
            Message.survey_id == survey_id,
            Message.direction == "outbound",
            Message.status == conversation.PENDING,
            ~sa.select(Survey.id)
            .where(Survey.id == survey_id, Survey.status.in_(OPEN_STATUSES))
            .exists(),
        )
        .values(status=conversation.DROPPED)
    )


def mark_sent(
    session: Session, survey_id: str, message_id: int, *, sid: str, status: str, now: datetime
) -> None:
    """The provider accepted the text as ``sid``: record it, and start the survey's wait
    for replies if this was its first text."""
    session.execute(
        sa.update(Message)
        .where(Message.id == message_id)
        .values(status=status, provider_sid=sid, error_code=None, updated_at=now)
    )
    session.execute(
        sa.update(Survey)
        .where(Survey.id == survey_id, Survey.status.in_(conversation.NOT_YET_STARTED))
        .values(status="sent", sent_at=now, updated_at=now)
    )
    conversation.note_unflushed_sends(session, "sms", status, 1)


def release(session: Session, message_id: int) -> None:
    """Put a claimed, unsent text back, as if it had not been claimed."""
    session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.status == conversation.CLAIMED)
        .values(status=conversation.PENDING, attempts=Message.attempts - 1)
    )


def keep_stale(session: Session, message_id: int, claimed_at: datetime) -> None:
    """Give a taken-over text its old claim time back: whether it went out is still
    unknown, so the next attempt must ask the provider again."""
    session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.status == conversation.CLAIMED)
        .values(updated_at=claimed_at, attempts=Message.attempts - 1)
    )


def surveys_with_stale_claims(
    session: Session, stale_before: datetime, limit: int = 200
) -> list[str]:
    """Surveys holding a text claimed before ``stale_before`` and never marked sent."""
    return list(
        session.scalars(
            sa.select(Message.survey_id)
            .where(
                Message.direction == "outbound",
                Message.status == conversation.CLAIMED,
                Message.updated_at < stale_before,
                Message.survey_id.is_not(None),
            )
            .group_by(Message.survey_id)
            .limit(limit)
        )
    )
