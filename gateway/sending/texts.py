"""Sending one survey's texts: each claimed once, sent, and recorded sent, in order.

A send closes its database session before calling the provider. Only a retryable
:class:`~channels.base.DeliveryError` is retried: the send returns an rq
:class:`~rq.Retry` with backoff (:func:`gateway.services.queue.send_retry`). A retry
never texts the same prompt twice: each prompt is a ``Message`` row, claimed once before
it is sent and marked sent after (:mod:`gateway.sending.claims`). A text whose worker
died holding it is taken over after ``SEND_CLAIM_TIMEOUT`` and sent only if Twilio's
Messages list does not show it sent. A text over the sender's rate goes back to pending,
and the send is queued again for when the sender's bucket has refilled
(:mod:`gateway.sending.pacing`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from channels.base import DeliveryError, SendResult, SmsSender
from channels.sms import SentLookup
from config.settings import Settings
from gateway.agencies import routes
from gateway.sending import claims as send_claims
from gateway.sending import due as reach_due
from gateway.sending import outlets, pacing
from gateway.services import queue
from gateway.sms import early_statuses
from gateway.store.db import db_of
from gateway.store.models import utcnow

log = logging.getLogger(__name__)

#: Allowance for the provider's clock when asking what it sent since a claim.
CLOCK_SLACK = timedelta(minutes=1)
STATUS_CALLBACK_PATH = "/twilio/sms/status"


def status_callback_url(settings: Settings) -> str | None:
    """Where Twilio reports delivery; only known with a public URL."""
    if not settings.public_base_url:
        return None
    return settings.public_base_url + STATUS_CALLBACK_PATH


def sender_of(settings: Settings) -> str | None:
    """What the deployment's texts go out from: the Messaging Service, else the number."""
    return routes.deployment_sms_sender(settings)


def claim_timeout(settings: Settings) -> timedelta:
    """How long a claimed text may stay unsent before its worker is taken for dead."""
    return timedelta(seconds=settings.send_claim_timeout)


def find_sent(sender: SmsSender, claim: send_claims.Claim) -> SendResult | None:
    """The provider's record of a taken-over text, or None when it did not go out."""
    assert claim.stale_since is not None
    if not isinstance(sender, SentLookup):
        raise DeliveryError("no-lookup", "this sender cannot say what it sent", retryable=False)
    return sender.find_sent(claim.to, claim.body, since=claim.stale_since - CLOCK_SLACK)


def claim_next(session: Session, survey_id: str, settings: Settings) -> send_claims.Claim | None:
    """Claim the survey's next text; none left: drop the rest if the survey has closed."""
    now = utcnow()
    claim = send_claims.claim_next(
        session, survey_id, now=now, stale_before=now - claim_timeout(settings)
    )
    if claim is None:
        send_claims.drop_unsent_of_closed(session, survey_id)
    return claim


def send_pending(app: Flask, survey_id: str) -> queue.JobResult:
    """Send the survey's pending texts in order, each exactly once."""
    with db_of(app).session() as session:
        claim = claim_next(session, survey_id, app.extensions["settings"])
    return send_claimed(app, survey_id, claim)


def send_claimed(app: Flask, survey_id: str, claim: send_claims.Claim | None) -> queue.JobResult:
    """Send the claimed text, then the survey's next ones. Recording a text sent and
    claiming the next take one transaction."""
    settings: Settings = app.extensions["settings"]
    if claim is None:
        return None
    callback = status_callback_url(settings)
    database = db_of(app)
    with database.session() as session:
        outlet = outlets.outlet_of(app, session, survey_id)
    sender, pacing_sender = outlet.provider, outlet.pacing_sender
    while claim is not None:
        found = None
        if claim.stale_since is not None:  # its worker died mid-send: did the text go out?
            try:
                found = find_sent(sender, claim)
            except DeliveryError as exc:
                log.warning("survey %s: cannot ask whether a text went out: %s", survey_id, exc)
                with database.session() as session:
                    send_claims.keep_stale(session, claim.message_id, claim.stale_since)
                if exc.retryable:
                    return queue.send_retry()
                raise
        if found is None:
            wait = pacing.sms_wait(app, pacing_sender, claim.body)
            if wait > 0:  # over the sender's rate: hand the text back, come back when due
                with database.session() as session:
                    send_claims.release(session, claim.message_id)
                queue.enqueue_in(app, wait, queue.SEND_JOB, survey_id)
                return None
            try:
                found = sender.send(claim.to, claim.body, status_callback=callback)
            except DeliveryError as exc:
                if _record_failure(app, survey_id, claim.message_id, exc):
                    return queue.send_retry()
                raise
        with database.session() as session:
            now = utcnow()
            send_claims.mark_sent(
                session, survey_id, claim.message_id, sid=found.sid, status=found.status, now=now
            )
            # A status Twilio reported before this step, applied as if it came after it
            # (a resend is claimed just below, as the callback's send job would).
            early = early_statuses.apply_recorded(
                session, [found.sid], now=now, max_attempts=queue.MAX_SEND_ATTEMPTS
            )
            claim = claim_next(session, survey_id, settings)
        for status in early:
            if status.start_survey_id is not None:  # undeliverable: the call fallback
                _start_fallback(app, status.start_survey_id)
    return None


def _start_fallback(app: Flask, survey_id: str) -> None:
    try:
        queue.enqueue_start(app, survey_id, None)
    except RedisError:  # committed as queued: the sweeper starts it
        log.warning("survey %s: call fallback not queued (Redis unavailable)", survey_id)


def _record_failure(app: Flask, survey_id: str, message_id: int, exc: DeliveryError) -> bool:
    """Record a failed send; True when it is to be retried."""
    with db_of(app).session() as session:
        retry = send_claims.record_failure(
            session,
            survey_id,
            message_id,
            exc,
            max_attempts=queue.MAX_SEND_ATTEMPTS,
            now=utcnow(),
        )
        switched = not retry and reach_due.switched_to_call(session, survey_id)
    if switched:  # the number cannot take texts: the flow's call fallback starts now
        queue.enqueue_start(app, survey_id, None)
    return retry
