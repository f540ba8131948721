"""Starting a survey on its channel: its opening text, its email or its call.

A start (the start job, or a batch's chunk for surveys that are not SMS) first puts off a
survey outside the respondent's window (:mod:`gateway.sending.quiet_hours`), then runs
the channel's starter:

- SMS: the survey's opening step is run and its text recorded in one transaction
  (:func:`begin_due`), then sent as every text is (:mod:`gateway.sending.texts`);
  retried with backoff after a retryable failure.
- Email: the invitation (:func:`gateway.email.invitation.send_invitation`), retried
  only when a retry can help.
- Voice: the call (:func:`gateway.voice.outbound.start_outbound_call`), once a call
  slot is free and the calls-per-second bucket allows it; a new attempt the call retry
  policy allows is queued for its time.

Afterwards the survey's first contact is recorded and what follows it planned
(:func:`gateway.sending.due.settle_start`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.agencies import routes
from gateway.email import invitation
from gateway.sending import due as reach_due
from gateway.sending import pacing, quiet_hours, texts
from gateway.services import queue
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys import lifecycle, links, open_surveys
from gateway.voice import slots as call_slots
from gateway.voice.outbound import start_outbound_call

log = logging.getLogger(__name__)


def start_survey(app: Flask, survey_id: str) -> queue.JobResult:
    """Begin a survey on its channel and send its opening text, email or call."""
    with db_of(app).session() as session:
        channel = session.scalar(sa.select(Survey.channel).where(Survey.id == survey_id))
    if channel is None:
        raise LookupError(f"survey {survey_id} does not exist")
    later = quiet_hours.hold_if_quiet(app, survey_id)
    if later is not None:  # outside the respondent's hours: start at the next window
        queue.enqueue_start(app, survey_id, later)
        return None
    starter = STARTERS.get(channel)
    if starter is None:
        raise LookupError(f"no background start for {channel} surveys (survey {survey_id})")
    try:
        result = starter(app, survey_id)
    except sa.exc.DataError:
        # A value the store refuses (text it cannot hold, a number out of range) is refused
        # again on every retry: the survey fails with the reason instead of retrying forever.
        fail_unstorable(app, survey_id)
        return None
    reach_due.settle_start(app, survey_id)  # record the first contact, plan what follows
    return result


#: The failure reason of a survey whose start the store refused for one of its values.
UNSTORABLE = "could not be started: the store refused one of its values (context or contact)"


def fail_unstorable(app: Flask, survey_id: str) -> None:
    """Close a survey not yet started as failed with :data:`UNSTORABLE`; nothing else."""
    log.warning("survey %s: start refused by the store; failed, not retried", survey_id)
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id, with_for_update=True)
        if survey is not None and survey.status in open_surveys.NOT_YET_STARTED:
            survey.status = "failed"
            survey.failure_reason = UNSTORABLE


def begin_due(
    session: Session,
    survey: Survey,
    settings: Settings,
    *,
    now: datetime,
    survey_link: Callable[[Survey], str],
    flush: bool = True,
    chosen: dict[tuple[int, str | None], str | None] | None = None,
) -> bool:
    """Begin an SMS survey that has not begun yet: its opening step run and its text
    recorded (:func:`gateway.surveys.lifecycle.begin`), from its agency's sender
    (:func:`gateway.agencies.routes.sms_sender_for`; ``chosen`` keeps the choices made for
    a chunk of surveys). False when the survey is not due yet (clock skew): the sweeper
    starts it when due. A survey begun already (an earlier run of the same start) or
    closed is left as it is.

    The caller holds the survey locked in its transaction."""
    not_begun = (survey.state or {}).get("phase", "new") == "new"
    if survey.status not in open_surveys.NOT_YET_STARTED or not not_begun:
        return True
    if survey.send_at is not None and survey.send_at > now:
        return False
    flow = lifecycle.survey_flow(survey)
    # begin() flushes once when it records the text: one UPDATE of the survey, not one
    # before each of its queries.
    with session.no_autoflush:
        key = (survey.agency_id, flow.sender.sms if flow.sender else None)
        chosen = {} if chosen is None else chosen
        if key not in chosen:
            chosen[key] = routes.sms_sender_for(session, *key, settings)
        survey.sender = chosen[key]
        lifecycle.begin(
            session,
            survey,
            flow,
            now=now,
            max_reprompts=settings.max_reprompts,
            survey_link=survey_link,
            flush=flush,
        )
    return True


def start_sms(app: Flask, survey_id: str) -> queue.JobResult:
    """Begin an SMS survey and send its opening text (its pending texts, once begun)."""
    settings: Settings = app.extensions["settings"]
    now = utcnow()
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id, with_for_update=True)
        if survey is None:
            raise LookupError(f"survey {survey_id} does not exist")
        link = links.survey_link_of(app)
        if not begin_due(session, survey, settings, now=now, survey_link=link):
            return None
        claim = texts.claim_next(session, survey_id, settings)  # in the start's transaction
    return texts.send_claimed(app, survey_id, claim)


def start_email(app: Flask, survey_id: str) -> queue.JobResult:
    """Begin an email survey and send its email (retried only when a retry can help)."""
    if invitation.send_invitation(app, survey_id, max_attempts=queue.MAX_SEND_ATTEMPTS):
        return queue.send_retry()
    return None


def start_voice(app: Flask, survey_id: str) -> queue.JobResult:
    """Place a voice survey's call; a new attempt the call retry policy allows is queued."""
    settings: Settings = app.extensions["settings"]
    if not call_slots.take(app, survey_id):  # every line busy: try again shortly
        _wait_in_queue(app, survey_id, call_slots.WAIT)
        return None
    wait = pacing.call_wait(app, settings.twilio_phone_number)
    if wait > 0:  # over the calls-per-second limit: place it when the bucket allows
        call_slots.release(app, survey_id)
        queue.enqueue_in(app, wait, queue.START_JOB, survey_id)
        return None
    try:
        retry = start_outbound_call(app, survey_id)
    finally:
        if not _call_in_progress(app, survey_id):  # not placed: the slot is not needed
            call_slots.release(app, survey_id)
    if retry is not None:
        queue.enqueue_start(app, retry.survey_id, retry.send_at)
    return None


def _wait_in_queue(app: Flask, survey_id: str, seconds: float) -> None:
    """Start the survey later; it stays ``queued``, fresh, so the sweeper leaves it be."""
    with db_of(app).session() as session:
        session.execute(
            sa.update(Survey)
            .where(Survey.id == survey_id, Survey.status == "queued")
            .values(queued_at=utcnow())
        )
    queue.enqueue_in(app, seconds, queue.START_JOB, survey_id)


def _call_in_progress(app: Flask, survey_id: str) -> bool:
    with db_of(app).session() as session:
        status = session.scalar(sa.select(Survey.status).where(Survey.id == survey_id))
    return status == "sent"


#: How each channel's survey starts in the background.
STARTERS: dict[str, Callable[[Flask, str], queue.JobResult]] = {
    "sms": start_sms,
    "voice": start_voice,
    "email": start_email,
}
