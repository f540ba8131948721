"""Carrying out due reminders and fallbacks, from the sweeper.

Scheduled attempts are rows (:class:`~gateway.store.attempt_models.ContactAttempt`)
committed with their ``due_at``; every sweep (:func:`gateway.sending.sweeper.sweep`) takes the due
ones under ``FOR UPDATE SKIP LOCKED``, checks that the respondent may still be contacted
(no STOP or unsubscribe, no answer, not completed, expired or superseded), puts off any
that falls outside the contact window, and records the message to send. Texts then go
through the send job (claimed once, paced); emails through :func:`send_email`. A
Redis outage only delays them: the rows wait, committed, for the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy.orm import Session

from channels.base import DeliveryError
from config.settings import Settings
from gateway.email import invitation
from gateway.engine.types import SessionState
from gateway.flows.model import Flow
from gateway.reach import attempts, fallback, reminders, windows
from gateway.reach.reminders import EMAIL_PENDING
from gateway.services import queue
from gateway.services.providers import providers_of
from gateway.store.attempt_models import ContactAttempt
from gateway.store.db import db_of
from gateway.store.models import FINAL_STATUSES, OPEN_STATUSES, Message, Survey, utcnow
from gateway.surveys import lifecycle, links, messages, opt_outs

log = logging.getLogger(__name__)

#: Attempts carried out per sweep, at most.
BATCH = 200
MAX_EMAIL_ATTEMPTS = 5
#: A made attempt whose message is unsent this long after is enqueued again; one older
#: than the lookback (by due time) is left alone.
STRANDED = timedelta(minutes=10)
STRANDED_LOOKBACK = timedelta(days=2)
RETRY_INTERVALS = [30, 120, 600, 1800]


@dataclass
class DueResult:
    made: list[str] = field(default_factory=list)  # step keys
    suppressed: int = 0
    deferred: int = 0
    texts: list[str] = field(default_factory=list)  # surveys with a text to send
    emails: list[str] = field(default_factory=list)  # step keys of emails to send


def contact_delay(
    app: Flask, flow: Flow, contact: str, channel: str, now: datetime
) -> datetime | None:
    """When the respondent may next be contacted on ``channel`` (the flow's window, as
    for every send: :func:`gateway.reach.windows.next_contact_time`); None: now."""
    settings: Settings = app.extensions["settings"]
    if not settings.quiet_hours:
        return None
    return windows.next_contact_time(flow, contact, channel, now)


def why_not(
    session: Session, survey: Survey | None, row: ContactAttempt, now: datetime
) -> str | None:
    """Why the attempt must not be made now (None: it may)."""
    if survey is None:
        return "the survey is gone"
    if survey.status == "opted_out" or opt_outs.is_hash_opted_out(
        session, survey.contact_hash, survey.agency_id
    ):
        return "opted out"
    if survey.status == "completed":
        return "completed"
    if survey.status == "started" or survey.first_answered_at is not None:
        return "answered"
    if survey.status == "cancelled":
        return survey.failure_reason or "cancelled"
    if survey.status == "expired" or lifecycle.is_past_expiry(survey, now):
        return "expired"
    if survey.status != "sent":
        return survey.status
    if row.kind == "reminder" and row.channel != survey.channel:
        return f"the survey moved to {survey.channel}"
    return None


def run_due(app: Flask, now: datetime | None = None) -> DueResult:
    """Settle started first contacts and carry out the due attempts; then enqueue sends."""
    now = now or utcnow()
    settings: Settings = app.extensions["settings"]
    outcome = DueResult()
    with db_of(app).session() as session:
        attempts.resolve_started(session, now)
        outcome.suppressed += _give_up_closed(session, now)
        _stranded(session, now, outcome)
        due = session.scalars(
            sa.select(ContactAttempt)
            .where(ContactAttempt.outcome == "scheduled", ContactAttempt.due_at <= now)
            .order_by(ContactAttempt.due_at, ContactAttempt.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        overtaking = _overtaking(due)
        for row in due:
            overtaken = overtaking.get(row.id)
            if overtaken is not None:  # held back (a closed window) until a later one came due
                attempts.finish(row, "suppressed", now, f"overtaken by {overtaken}")
                outcome.suppressed += 1
                continue
            survey = session.get(Survey, row.survey_id, with_for_update=True)
            why = why_not(session, survey, row, now)
            if why is not None or survey is None:
                attempts.finish(row, "suppressed", now, why)
                outcome.suppressed += 1
                continue
            flow = lifecycle.survey_flow(survey)
            contact = row.to_addr or survey.contact
            later = contact_delay(app, flow, contact, row.channel, now)
            if later is not None:
                row.due_at = later
                outcome.deferred += 1
                continue
            if row.kind == "reminder":
                reminders.record(session, survey, row, flow, settings.email_from, now)
            else:
                key = fallback.switch_to_email(session, survey, row, flow, settings.email_from, now)
                if key is None:
                    outcome.suppressed += 1
                    continue
            outcome.made.append(row.step_key)
            if row.channel == "sms":
                outcome.texts.append(survey.id)
            else:
                outcome.emails.append(row.step_key)
    _enqueue(app, outcome)
    return outcome


def _overtaking(due: Sequence[ContactAttempt]) -> dict[int, str]:
    """Due reminders that a later attempt due at the same sweep makes pointless (a later
    reminder, or a fallback), by id: only the latest contact is made."""
    latest: dict[str, ContactAttempt] = {}
    for row in due:
        best = latest.get(row.survey_id)
        if best is None or (row.kind == "fallback", row.number) > (
            best.kind == "fallback",
            best.number,
        ):
            latest[row.survey_id] = row
    result = {}
    for row in due:
        last = latest[row.survey_id]
        if row.kind == "reminder" and row is not last:
            result[row.id] = (
                f"{last.kind} {last.number}" if last.kind == "reminder" else "the fallback"
            )
    return result


def _give_up_closed(session: Session, now: datetime) -> int:
    """Suppress the attempts still to be made of surveys that have closed (completed,
    expired, opted out, cancelled or failed), so none waits for a survey that is over."""
    rows = session.execute(
        sa.select(ContactAttempt, Survey)
        .join(Survey, Survey.id == ContactAttempt.survey_id)
        .where(
            ContactAttempt.outcome.in_(("planned", "scheduled")),
            Survey.status.in_(FINAL_STATUSES),
        )
        .limit(BATCH)
        .with_for_update(of=ContactAttempt, skip_locked=True)
    ).all()
    for row, survey in rows:
        attempts.finish(row, "suppressed", now, why_not(session, survey, row, now))
    return len(rows)


def _stranded(session: Session, now: datetime, outcome: DueResult) -> None:
    """Attempts made but whose message is still unsent after :data:`STRANDED` (Redis was
    down when its send was enqueued, or a worker lost the job): enqueue their sends
    again. A send job takes each message once, so a second job sends nothing twice."""
    rows = session.execute(
        sa.select(ContactAttempt.survey_id, ContactAttempt.step_key, ContactAttempt.channel)
        .join(Message, Message.step_key == ContactAttempt.step_key)
        .where(
            ContactAttempt.outcome == "sent",
            ContactAttempt.due_at >= now - STRANDED_LOOKBACK,
            ContactAttempt.attempted_at <= now - STRANDED,
            Message.status.in_((messages.PENDING, EMAIL_PENDING)),
        )
        .limit(BATCH)
    ).all()
    for survey_id, key, channel in rows:
        if channel == "sms":
            outcome.texts.append(survey_id)
        else:
            outcome.emails.append(key)


def _enqueue(app: Flask, outcome: DueResult) -> None:
    """Hand the recorded messages to the send jobs. Redis being down loses nothing: the
    messages are committed, and a later sweep finds them stranded (:func:`_stranded`)."""
    try:
        for survey_id in dict.fromkeys(outcome.texts):
            queue.enqueue_send(app, survey_id)
        for key in dict.fromkeys(outcome.emails):
            queue.enqueue(app, queue.SEND_EMAIL_JOB, key)
    except RedisError:
        log.warning("reminder or fallback sends not queued (Redis unavailable); retried later")


def send_email(app: Flask, step_key: str) -> Retry | None:
    """Send a reminder or fallback email recorded as pending (once; retried on a
    retryable failure). The email is the survey's invitation, at its current question."""
    settings: Settings = app.extensions["settings"]
    database = db_of(app)
    with database.session() as session:
        message = session.scalars(
            sa.select(Message).where(Message.step_key == step_key).with_for_update()
        ).first()
        if message is None or message.status != EMAIL_PENDING:
            return None
        survey = session.get(Survey, message.survey_id)
        if survey is None or survey.status not in OPEN_STATUSES or not message.to_addr:
            message.status = messages.DROPPED
            return None
        flow = lifecycle.survey_flow(survey)
        email = invitation.compose_invitation(
            flow,
            survey,
            SessionState.from_dict(survey.state),
            links.links_of(app),
            links.base_url(settings),
            survey.agency.name,
            to=message.to_addr,
        )
        if ":reminder-" in step_key:
            email = replace(email, subject=reminders.email_subject(flow, survey))
        message.body = email.text
        message.status = messages.CLAIMED
        message.attempts = (message.attempts or 0) + 1
        tries = message.attempts
        message_id = message.id
    try:
        result = providers_of(app).email.send(email)
    except DeliveryError as exc:
        with database.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            message.error_code = exc.code[:32]
            if exc.retryable and tries < MAX_EMAIL_ATTEMPTS:
                message.status = EMAIL_PENDING
                return Retry(max=MAX_EMAIL_ATTEMPTS, interval=RETRY_INTERVALS)
            message.status = "failed"
            row = session.scalars(
                sa.select(ContactAttempt).where(ContactAttempt.step_key == step_key)
            ).first()
            if row is not None:
                attempts.finish(row, "failed", utcnow(), f"error {exc.code}")
        log.warning("email %s failed for good (%s)", step_key, exc.code)
        return None
    with database.session() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.status = result.status
        message.provider_sid = result.sid
        message.error_code = None
    return None


def settle_start(app: Flask, survey_id: str, now: datetime | None = None) -> None:
    """After a start job: record how the survey's first contact went (and plan what
    follows it). A failure here never fails the start; the sweeper settles it later."""
    try:
        with db_of(app).session() as session:
            survey = session.get(Survey, survey_id)
            if survey is not None:
                attempts.resolve(session, survey, now or utcnow())
    except Exception:
        log.exception("survey %s: contact attempts not settled; the sweeper retries", survey_id)


def switched_to_call(session: Session, survey_id: str) -> bool:
    """Whether a failed first text just made the survey a voice survey to start."""
    survey = session.get(Survey, survey_id)
    return survey is not None and survey.channel == "voice" and survey.status == "queued"
