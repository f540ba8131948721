"""Claiming outbound texts for sending and recording them sent, in as few statements as
the guarantees allow.

An outbound text (a :class:`~gateway.store.models.Message` row, unique by ``step_key``)
goes ``pending`` → ``claimed`` → the provider's status. A claim is taken once: the row is
read under ``FOR UPDATE SKIP LOCKED`` and updated only if it is still as read, so two
workers never hold the same text. ``updated_at`` of a claimed row is the time of its claim.

A claim older than the claim timeout (``SEND_CLAIM_TIMEOUT``) belongs to a worker that
died mid-send: it may be claimed again, and :class:`Claim.stale_since` tells the sender to
ask the provider whether the text went out before sending it again.

A chunk of surveys is claimed, recorded sent and put back with the ``*_many`` functions:
one statement for the whole chunk instead of one per text, with the same guarantees.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import DeliveryError
from gateway.reach import fallback
from gateway.sms import early_statuses
from gateway.store.models import OPEN_STATUSES, Message, Survey
from gateway.surveys import delivery_statuses, messages, open_surveys, opt_outs

log = logging.getLogger(__name__)

_MESSAGES = cast(sa.Table, Message.__table__)


@dataclass(frozen=True)
class Claim:
    message_id: int
    to: str
    body: str
    #: For a text taken over from a dead worker: when that worker claimed it.
    stale_since: datetime | None = None
    survey_id: str = ""


@dataclass(frozen=True)
class Sent:
    """A claimed text the provider accepted as ``sid``."""

    claim: Claim
    sid: str
    status: str


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive times; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _claimable(stale_before: datetime) -> list[Any]:
    """An outbound text of an open survey that is pending, or claimed before
    ``stale_before`` by a worker that never finished it (the query joins Survey)."""
    return [
        Message.direction == "outbound",
        Survey.status.in_(OPEN_STATUSES),
        sa.or_(
            Message.status == messages.PENDING,
            sa.and_(Message.status == messages.CLAIMED, Message.updated_at < stale_before),
        ),
    ]


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
            .where(Message.survey_id == survey_id, *_claimable(stale_before))
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
            .values(status=messages.CLAIMED, attempts=Message.attempts + 1, updated_at=now)
        )
        if getattr(taken, "rowcount", 0) == 1:
            stale = _aware(claimed_at) if was == messages.CLAIMED else None
            return Claim(message_id, to, body, stale)


def drop_unsent_of_closed(session: Session, survey_id: str) -> None:
    """Drop the pending texts of a survey that closed before they went out."""
    session.execute(
        sa.update(Message)
        .where(
            Message.survey_id == survey_id,
            Message.direction == "outbound",
            Message.status == messages.PENDING,
            ~sa.select(Survey.id)
            .where(Survey.id == survey_id, Survey.status.in_(OPEN_STATUSES))
            .exists(),
        )
        .values(status=messages.DROPPED)
    )


def mark_sent(
    session: Session, survey_id: str, message_id: int, *, sid: str, status: str, now: datetime
) -> None:
    """The provider accepted the text as ``sid``: record it, and start the survey's wait
    for replies if this was its first text. The sid is locked first; a status that came
    before is applied by the caller before commit (:mod:`gateway.sms.early_statuses`)."""
    early_statuses.lock_sids(session, [sid])
    session.execute(
        sa.update(Message)
        .where(Message.id == message_id)
        .values(status=status, provider_sid=sid, error_code=None, updated_at=now)
    )
    session.execute(
        sa.update(Survey)
        .where(Survey.id == survey_id, Survey.status.in_(open_surveys.NOT_YET_STARTED))
        .values(status="sent", sent_at=now, updated_at=now)
    )
    messages.note_unflushed_sends(session, "sms", status, 1)


def release(session: Session, message_id: int) -> None:
    """Put a claimed, unsent text back, as if it had not been claimed."""
    session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.status == messages.CLAIMED)
        .values(status=messages.PENDING, attempts=Message.attempts - 1)
    )


def keep_stale(session: Session, message_id: int, claimed_at: datetime) -> None:
    """Give a taken-over text its old claim time back: whether it went out is still
    unknown, so the next attempt must ask the provider again."""
    session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.status == messages.CLAIMED)
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
                Message.status == messages.CLAIMED,
                Message.updated_at < stale_before,
                Message.survey_id.is_not(None),
            )
            .group_by(Message.survey_id)
            .limit(limit)
        )
    )


# -- a chunk of surveys at once ----------------------------------------------------------


def claim_many(
    session: Session, survey_ids: Collection[str], *, now: datetime, stale_before: datetime
) -> list[Claim]:
    """Claim every text to send of the surveys ``survey_ids`` (pending ones, and those
    whose claim is older than ``stale_before``), in ``id`` order: two statements for the
    chunk. Texts another worker holds are skipped; so are closed surveys' texts."""
    if not survey_ids:
        return []
    rows = session.execute(
        sa.select(
            Message.id,
            Message.survey_id,
            Message.status,
            Message.updated_at,
            Message.to_addr,
            Survey.contact,
            Message.body,
        )
        .join(Survey, Survey.id == Message.survey_id)
        .where(Message.survey_id.in_(list(survey_ids)), *_claimable(stale_before))
        .order_by(Message.id)
        .with_for_update(of=Message, skip_locked=True)
    ).all()
    if not rows:
        return []
    # Taken only if still as read: SQLite has no row locks, so another worker may have
    # claimed a row between the two statements.
    taken = set(
        session.scalars(
            sa.update(Message)
            .where(
                Message.id.in_([row[0] for row in rows]),
                sa.or_(
                    Message.status == messages.PENDING,
                    sa.and_(
                        Message.status == messages.CLAIMED,
                        Message.updated_at < stale_before,
                    ),
                ),
            )
            .values(status=messages.CLAIMED, attempts=Message.attempts + 1, updated_at=now)
            .returning(Message.id)
        )
    )
    return [
        Claim(
            message_id,
            to_addr or contact,
            body,
            _aware(claimed_at) if was == messages.CLAIMED else None,
            str(survey_id),  # never None: joined to its survey
        )
        for message_id, survey_id, was, claimed_at, to_addr, contact, body in rows
        if message_id in taken
    ]


def drop_unsent_of_closed_many(session: Session, survey_ids: Collection[str]) -> None:
    """Drop the pending texts of those of ``survey_ids`` that closed before they went out."""
    if not survey_ids:
        return
    session.execute(
        sa.update(Message)
        .where(
            Message.survey_id.in_(list(survey_ids)),
            Message.direction == "outbound",
            Message.status == messages.PENDING,
            Message.survey_id.in_(
                sa.select(Survey.id).where(
                    Survey.id.in_(list(survey_ids)), Survey.status.not_in(OPEN_STATUSES)
                )
            ),
        )
        .values(status=messages.DROPPED)
    )


_MARK_SENT = (
    sa.update(_MESSAGES)
    .where(_MESSAGES.c.id == sa.bindparam("message_id"))
    .values(
        status=sa.bindparam("new_status"),
        provider_sid=sa.bindparam("sid"),
        error_code=None,
        updated_at=sa.bindparam("now"),
    )
)


def mark_sent_many(session: Session, sent: Iterable[Sent], *, now: datetime) -> None:
    """Record the texts the provider accepted (one executemany), and start their surveys'
    wait for replies. The sids are locked first; statuses that came before are applied by
    the caller before commit (:mod:`gateway.sms.early_statuses`)."""
    sent = list(sent)
    if not sent:
        return
    early_statuses.lock_sids(session, [s.sid for s in sent])
    session.connection().execute(
        _MARK_SENT,
        [
            {"message_id": s.claim.message_id, "new_status": s.status, "sid": s.sid, "now": now}
            for s in sent
        ],
    )
    session.execute(
        sa.update(Survey)
        .where(
            Survey.id.in_(sorted({s.claim.survey_id for s in sent})),
            Survey.status.in_(open_surveys.NOT_YET_STARTED),
        )
        .values(status="sent", sent_at=now, updated_at=now)
    )
    for status, count in Counter(s.status for s in sent).items():
        messages.note_unflushed_sends(session, "sms", status, count)


def still_open(session: Session, survey_ids: Collection[str]) -> set[str]:
    """Those of ``survey_ids`` still open: not closed by STOP (or anything else) since
    their texts were claimed."""
    if not survey_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Survey.id).where(
                Survey.id.in_(list(survey_ids)), Survey.status.in_(OPEN_STATUSES)
            )
        )
    )


def drop_claimed(session: Session, message_ids: Collection[int]) -> None:
    """Drop claimed texts whose survey closed before they went out."""
    if not message_ids:
        return
    session.execute(
        sa.update(Message)
        .where(Message.id.in_(list(message_ids)), Message.status == messages.CLAIMED)
        .values(status=messages.DROPPED)
    )


def release_many(session: Session, message_ids: Collection[int]) -> None:
    """Put claimed, unsent texts back, as if they had not been claimed."""
    if not message_ids:
        return
    session.execute(
        sa.update(Message)
        .where(Message.id.in_(list(message_ids)), Message.status == messages.CLAIMED)
        .values(status=messages.PENDING, attempts=Message.attempts - 1)
    )


def record_failure(
    session: Session,
    survey_id: str,
    message_id: int,
    exc: DeliveryError,
    *,
    max_attempts: int,
    now: datetime,
) -> bool:
    """Record a failed send; True when it is to be retried (the text is pending again).

    A permanent failure fails the text and, before any reply, the survey with the reason;
    an opted-out recipient (error 21610) is recorded as opted out.
    """
    message = session.get(Message, message_id)
    survey = session.get(Survey, survey_id, with_for_update=True)
    assert message is not None and survey is not None
    message.error_code = exc.code
    if exc.retryable and message.attempts < max_attempts:
        message.status = messages.PENDING
        log.info("survey %s: retryable failure %s, will retry", survey_id, exc.code)
        return True
    message.status = "failed"
    if exc.opted_out:
        opt_outs.opt_out(session, survey.contact, keyword=f"error {exc.code}", now=now)
    elif survey.status in (*open_surveys.NOT_YET_STARTED, "sent"):
        if exc.code in fallback.UNDELIVERABLE_CODES and fallback.switch_to_call(
            session, survey, exc.code, now
        ):
            return False  # a voice survey now, to be started (gateway.sending.starters)
        delivery_statuses.fail(survey, exc.code)
    return False
