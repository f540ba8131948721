"""Survey calls the gateway places: the call itself, answering machines, and retries.

A trigger with ``"channel": "voice"`` leads here through the start job
(:func:`start_outbound_call`). Each attempt is an outbound :class:`Message` with
``step_key`` ``"{survey id}:call-{n}"`` (so a retried job never dials twice for the same
attempt) and, once Twilio accepted it, the CallSid as ``provider_sid``.

Retry policy (:data:`RETRY_POLICY`): a call that is busy, not answered or fails to connect
is placed again, up to two more times, an hour apart; after the last attempt the survey is
``failed`` with the reason. A call answered by a machine or a fax is hung up at once and
the survey is ``failed`` ("answering machine"), without a retry: a respondent who screens
calls is not called again and again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from channels.base import DeliveryError
from channels.twilio.errors import PERMANENT_CALL_ERRORS
from channels.twilio.twiml import render_goodbye
from config.settings import Settings
from gateway.agencies import routes
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.models import Message, Survey, utcnow
from gateway.surveys import lifecycle
from gateway.voice import calls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often an unanswered survey call is placed again, and how long apart."""

    retries: int = 2
    delay: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more, got {self.retries}")
        if self.delay <= timedelta(0):
            raise ValueError(f"delay must be positive, got {self.delay}")


RETRY_POLICY = RetryPolicy()

#: Final call statuses after which the call is placed again (per the policy).
UNREACHED: dict[str, str] = {
    "busy": "the line was busy",
    "no-answer": "nobody answered",
    "failed": "the call could not be connected",
    "canceled": "the call was canceled",
}
#: ``AnsweredBy`` values that mean nobody to survey.
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)
ANSWERING_MACHINE = "answering machine"
#: Statuses of a survey waiting for its call to be placed or answered.
AWAITING_CALL = ("scheduled", "queued", "sent")


def _settings(app: Flask) -> Settings:
    settings: Settings = app.extensions["settings"]
    return settings


def retry_policy_of(app: Flask) -> RetryPolicy:
    policy: RetryPolicy = app.extensions.get("voice_retry_policy", RETRY_POLICY)
    return policy


def _public_base(settings: Settings) -> str:
    if settings.public_base_url:
        return settings.public_base_url
    if settings.twilio_configured:
        raise DeliveryError(
            "config",
            "PUBLIC_BASE_URL is not set, so Twilio cannot reach the gateway's call webhooks",
            retryable=False,
        )
    return "http://127.0.0.1:5000"  # simulated calls go nowhere


def _attempts(session: Session, survey_id: str) -> int:
    count = session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.survey_id == survey_id,
            Message.direction == "outbound",
            Message.step_key.like(f"{survey_id}:call-%"),
        )
    )
    return int(count or 0)


@dataclass(frozen=True)
class Retry:
    """A survey to place a call for again at ``send_at`` (enqueue after the commit)."""

    survey_id: str
    send_at: datetime


def _unreached(
    survey: Survey, reason: str, attempts: int, policy: RetryPolicy, now: datetime
) -> Retry | None:
    """Schedule the next attempt, or fail the survey when the policy is spent."""
    if attempts <= policy.retries:
        survey.status = "scheduled"
        survey.send_at = now + policy.delay
        survey.failure_reason = f"{reason} (call {attempts}); calling again"
        return Retry(survey.id, survey.send_at)
    survey.status = "failed"
    survey.failure_reason = f"{reason} ({attempts} call{'s' if attempts > 1 else ''})"
    return None


def start_outbound_call(app: Flask, survey_id: str) -> Retry | None:
    """Place the survey's call (the start job for ``voice`` surveys).

    The attempt is recorded and committed before Twilio is called, and the session is
    closed during the call to the provider. When Twilio could not take the call and the
    policy allows another attempt, the survey is ``scheduled`` again and the returned
    :class:`Retry` says when: the caller enqueues it (it is committed already).
    """
    database = db_of(app)
    settings = _settings(app)
    with database.session() as session:
        survey = calls.lock_survey(session, survey_id)
        if survey is None or survey.status not in ("scheduled", "queued"):
            log.info("survey %s: no call placed (%s)", survey_id, survey and survey.status)
            return None
        attempt = _attempts(session, survey_id) + 1
        flow_sender = lifecycle.survey_flow(survey).sender
        sender = routes.voice_sender_for(
            session, survey.agency_id, flow_sender.voice if flow_sender else None, settings
        )
        placer = providers_of(app).calls_via(
            routes.route_for(session, survey.agency_id, sender, settings)
        )
        session.add(
            Message(
                survey_id=survey.id,
                agency_id=survey.agency_id,
                direction="outbound",
                channel=calls.CHANNEL,
                from_addr=sender,
                to_addr=survey.contact,
                body="",
                step_key=f"{survey.id}:call-{attempt}",
                status="placing",
            )
        )
        to = survey.contact
    retry: Retry | None = None
    try:
        base = _public_base(settings)
        placed = placer.place(
            to,
            url=f"{base}/twilio/voice?survey={survey_id}",
            status_callback=f"{base}/twilio/voice/status",
        )
    except DeliveryError as exc:
        log.warning("survey %s: call %d not placed: %s", survey_id, attempt, exc)
        with database.session() as session:
            survey = calls.lock_survey(session, survey_id)
            message = _attempt_row(session, survey_id, attempt)
            message.status = "failed"
            message.error_code = exc.code[:32]
            if survey is not None and survey.status in ("scheduled", "queued"):
                if exc.retryable:
                    policy = retry_policy_of(app)
                    retry = _unreached(survey, exc.message, attempt, policy, utcnow())
                else:
                    survey.status = "failed"
                    described = PERMANENT_CALL_ERRORS.get(exc.code, exc.message)
                    survey.failure_reason = f"error {exc.code}: {described}"
    else:
        now = utcnow()
        with database.session() as session:
            survey = calls.lock_survey(session, survey_id)
            message = _attempt_row(session, survey_id, attempt)
            message.provider_sid = placed.sid
            message.status = placed.status
            if survey is not None and survey.status in ("scheduled", "queued"):
                survey.status = "sent"
                survey.sent_at = now
                survey.provider_ref = placed.sid
                survey.sender = sender
        log.info("survey %s: call %d placed (%s)", survey_id, attempt, placed.sid)
    return retry


def _attempt_row(session: Session, survey_id: str, attempt: int) -> Message:
    return session.scalars(
        sa.select(Message).where(Message.step_key == f"{survey_id}:call-{attempt}")
    ).one()


def answer_outbound(
    session: Session, survey_id: str, call_sid: str, answered_by: str, settings: Settings
) -> str:
    """The survey's call was answered: start the survey, or hang up on a machine."""
    now = utcnow()
    survey = calls.lock_survey(session, survey_id)
    if survey is None or survey.channel != calls.CHANNEL:
        log.warning("answered call %s names unknown survey %s", call_sid, survey_id)
        return calls.apology()
    if survey.provider_ref == call_sid and survey.status == "started":
        latest = calls.current_step(session, survey)
        if latest is not None:  # Twilio asked again for the first document
            return calls.replay(survey, lifecycle.survey_flow(survey), latest)
    if survey.status not in AWAITING_CALL:
        log.warning(
            "call %s answered for survey %s, which is %s", call_sid, survey.id, survey.status
        )
        return calls.apology(survey.language)
    survey.provider_ref = call_sid
    if answered_by in MACHINE_ANSWERS:
        survey.status = "failed"
        survey.failure_reason = ANSWERING_MACHINE
        survey.updated_at = now
        log.info("survey %s: call %s answered by %s; hung up", survey.id, call_sid, answered_by)
        return render_goodbye([], survey.language)
    flow = lifecycle.survey_flow(survey)
    return calls.begin_call(session, survey, flow, settings, now=now)


def call_status(
    session: Session, call_sid: str, status: str, settings: Settings, policy: RetryPolicy
) -> Retry | None:
    """Apply a call status callback; a retry to enqueue once the session has committed."""
    now = utcnow()
    attempt = session.scalars(
        sa.select(Message).where(Message.provider_sid == call_sid, Message.direction == "outbound")
    ).first()
    if attempt is not None:
        attempt.status = status[:16]
        attempt.updated_at = now
    survey = calls.survey_for_call(session, call_sid)
    if survey is None:
        return None
    if status in UNREACHED and survey.status == "sent":
        return _unreached(survey, UNREACHED[status], _attempts(session, survey.id), policy, now)
    if status != "completed":
        return None
    if survey.status == "started":
        calls.hang_up(session, survey, settings, now=now)
    elif survey.status == "sent":
        survey.status = "failed"
        survey.failure_reason = "the call ended before the survey began"
        survey.updated_at = now
    return None
