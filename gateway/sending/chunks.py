"""Starting and sending a chunk of SMS surveys at once: a few statements for the whole
chunk and the requests to the provider in flight together.

A chunk (up to :data:`CHUNK` surveys) goes through three steps:

1. One transaction starts the chunk's surveys that are due (the engine's opening step,
   the opt-out check and the outbound rows: :func:`gateway.sending.starters.begin_due`,
   as for one survey) and claims every text the chunk has to send in one statement
   (:func:`gateway.sending.claims.claim_many`). A survey outside the respondent's window is
   put off in the same transaction (:func:`gateway.sending.quiet_hours.hold`).
2. The claimed texts are sent by a small pool of threads sharing the provider's client
   (one pooled HTTP session): a survey's texts one after another in order, different
   surveys at once. Each text takes its pacing tokens right before it is sent; once the
   sender's bucket is short, the rest of the chunk is not sent now but handed back.
3. One transaction records the outcome: the texts sent, in one statement; those not sent
   put back to ``pending``; a failed text recorded as the single send records it.

The guarantees are the single send's: a text is claimed (committed) before it is sent and
sent once; a text whose worker died holding it is taken over after
``SEND_CLAIM_TIMEOUT`` and sent only if the provider's Messages list does not show it; a
survey closed by STOP before its part's sends begin is not texted (the claim reads only
open surveys, and they are read once more right before the sends).
The caller (:mod:`gateway.sending.batch_starts`) enqueues what the outcome asks for: retries with
backoff, the deferred texts once the bucket has refilled, the surveys held to later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from channels.base import DeliveryError, SmsSender
from channels.twilio.client import CONNECTIONS
from config.settings import Settings
from gateway.sending import claims as send_claims
from gateway.sending import due as reach_due
from gateway.sending import outlets, pacing, quiet_hours, starters, texts
from gateway.services import queue
from gateway.sms import early_statuses
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys import links

log = logging.getLogger(__name__)

#: Surveys started and claimed in one transaction.
CHUNK = 100
#: Requests to the provider in flight at once, per worker process: one for each
#: connection the Twilio client keeps open. Against Twilio's API (about 0.1 to 0.2 s a
#: request) that is some 100 texts a second per worker, above what pacing allows.
SEND_THREADS = CONNECTIONS


@dataclass
class _SurveySends:
    """What happened to one survey's claimed texts."""

    sent: list[send_claims.Sent] = field(default_factory=list)
    #: Claimed but not sent (pacing, or an earlier text of the survey failed): put back.
    unsent: list[send_claims.Claim] = field(default_factory=list)
    failure: tuple[send_claims.Claim, DeliveryError] | None = None
    #: A taken-over text the provider could not be asked about.
    unknown: tuple[send_claims.Claim, DeliveryError] | None = None
    wait: float = 0.0
    #: Not sent for an unexpected error (logged).
    error: bool = False


@dataclass
class ChunkOutcome:
    """What a chunk did, and what its caller is to enqueue."""

    sent: int = 0
    #: Surveys with a text to try again after a retryable failure.
    retry: list[str] = field(default_factory=list)
    #: Surveys whose text failed for good (recorded on the survey).
    failed: list[str] = field(default_factory=list)
    #: Surveys the text could not reach, now voice surveys to start (the flow's fallback).
    switched: list[str] = field(default_factory=list)
    #: Surveys with texts put back because the sender's rate was reached, and for how long.
    deferred: list[str] = field(default_factory=list)
    wait: float = 0.0
    #: Surveys put off by quiet hours, with the time they are to start.
    held: list[tuple[str, datetime]] = field(default_factory=list)
    #: Surveys not started or not sent for an unexpected error (logged).
    errors: int = 0

    def add(self, other: ChunkOutcome) -> None:
        self.sent += other.sent
        self.retry += other.retry
        self.failed += other.failed
        self.switched += other.switched
        self.deferred += other.deferred
        self.wait = max(self.wait, other.wait)
        self.held += other.held
        self.errors += other.errors


def start_sms(app: Flask, survey_ids: Sequence[str]) -> ChunkOutcome:
    """Start the SMS surveys that are due and send their opening texts, :data:`CHUNK` at
    a time: a part's texts are sent (on another thread) while the next part is started,
    so the provider's answers and the database's overlap."""
    outcome = ChunkOutcome()
    in_flight: tuple[Future[ChunkOutcome], int] | None = None
    for start in range(0, len(survey_ids), CHUNK):
        part = survey_ids[start : start + CHUNK]
        try:
            held, claims = begin_part(app, part)
        except Exception:
            log.exception("%d SMS surveys: start failed", len(part))
            outcome.errors += len(part)
            continue
        outcome.held += held
        if in_flight is not None:
            _collect(outcome, *in_flight)
        in_flight = _chunk_thread_of(app).submit(send_claimed, app, claims), len(part)
    if in_flight is not None:
        _collect(outcome, *in_flight)
    return outcome


def _collect(outcome: ChunkOutcome, sending: Future[ChunkOutcome], size: int) -> None:
    try:
        outcome.add(sending.result())
    except Exception:  # its texts stay claimed: taken over once their claims time out
        log.exception("%d SMS surveys: sending failed", size)
        outcome.errors += size


def begin_part(
    app: Flask, survey_ids: Sequence[str]
) -> tuple[list[tuple[str, datetime]], list[send_claims.Claim]]:
    """Start up to :data:`CHUNK` surveys in one transaction and claim their texts (the
    first half of a chunk, before the sends); the surveys quiet hours put off, and the
    claims."""
    settings: Settings = app.extensions["settings"]
    held: list[tuple[str, datetime]] = []
    now = utcnow()
    with db_of(app).session() as session:
        surveys = session.scalars(
            sa.select(Survey)
            .where(Survey.id.in_(survey_ids), Survey.channel == "sms")
            .order_by(Survey.id)  # the same lock order in every chunk
            .with_for_update()
        ).all()
        link = links.survey_link_of(app)
        chosen: dict[tuple[int, str | None], str | None] = {}  # each agency's sender, once
        with session.no_autoflush:
            for survey in surveys:
                later = quiet_hours.hold(survey, now) if settings.quiet_hours else None
                if later is not None:  # outside the respondent's window: start it then
                    held.append((survey.id, later))
                    continue
                # An early survey (clock skew) is left for the sweeper to start when due.
                starters.begin_due(
                    session, survey, settings, now=now, survey_link=link, flush=False, chosen=chosen
                )
        session.flush()  # every survey's row and texts in a few statements
        holding = {survey_id for survey_id, _ in held}
        claims = _claim(session, [i for i in survey_ids if i not in holding], settings)
    return held, claims


def send_pending(app: Flask, survey_ids: Sequence[str]) -> ChunkOutcome:
    """Send the surveys' texts waiting to go out (after pacing deferred them)."""
    outcome = ChunkOutcome()
    for start in range(0, len(survey_ids), CHUNK):
        with db_of(app).session() as session:
            claims = _claim(session, survey_ids[start : start + CHUNK], app.extensions["settings"])
        outcome.add(send_claimed(app, claims))
    return outcome


def _claim(
    session: Session, survey_ids: Sequence[str], settings: Settings
) -> list[send_claims.Claim]:
    now = utcnow()
    send_claims.drop_unsent_of_closed_many(session, survey_ids)
    return send_claims.claim_many(
        session, survey_ids, now=now, stale_before=now - texts.claim_timeout(settings)
    )


def send_claimed(app: Flask, claims: Sequence[send_claims.Claim]) -> ChunkOutcome:
    """Send claimed texts concurrently, a survey's texts in order, and record the outcome.

    Right before the sends, one statement checks that each survey is still open: a
    respondent who said STOP since the claim (a part waits while the one before it is
    sent) gets nothing, and the texts are dropped."""
    with db_of(app).session() as session:
        open_now = send_claims.still_open(session, {claim.survey_id for claim in claims})
        send_claims.drop_claimed(
            session, [c.message_id for c in claims if c.survey_id not in open_now]
        )
        by_outlet = outlets.outlets_of(app, session, open_now)
    by_survey: dict[str, list[send_claims.Claim]] = {}
    for claim in claims:
        if claim.survey_id in open_now:
            by_survey.setdefault(claim.survey_id, []).append(claim)
    settings: Settings = app.extensions["settings"]
    callback = texts.status_callback_url(settings)
    over_rate = threading.Event()

    def send(survey_claims: list[send_claims.Claim]) -> _SurveySends:
        outlet = by_outlet[survey_claims[0].survey_id]
        return _send_in_order(
            app, outlet.provider, callback, outlet.pacing_sender, survey_claims, over_rate
        )

    results = list(_pool_of(app).map(send, by_survey.values()))
    return _record(app, list(by_survey), results)


def _send_in_order(
    app: Flask,
    sender: SmsSender,
    callback: str | None,
    pacing_sender: str | None,
    survey_claims: list[send_claims.Claim],
    over_rate: threading.Event,
) -> _SurveySends:
    """Send one survey's claimed texts in order; stop at the first that cannot go now."""
    done = _SurveySends()
    for n, claim in enumerate(survey_claims):
        found = None
        if claim.stale_since is not None:  # its worker died mid-send: did the text go out?
            try:
                found = texts.find_sent(sender, claim)
            except DeliveryError as exc:
                done.unknown = (claim, exc)
                done.unsent = survey_claims[n + 1 :]
                return done
        if found is None:
            # Once the sender's bucket is short, the chunk's other texts wait for it too.
            try:
                wait = (
                    -1.0 if over_rate.is_set() else pacing.sms_wait(app, pacing_sender, claim.body)
                )
            except RedisError:  # no pacing without Redis: not sent; the sweeper restarts it
                log.warning(
                    "survey %s: text not sent: Redis unavailable for pacing", claim.survey_id
                )
                done.unsent, done.error = survey_claims[n:], True
                return done
            if wait != 0.0:
                over_rate.set()
                done.wait = max(wait, 0.0)
                done.unsent = survey_claims[n:]
                return done
            try:
                found = sender.send(claim.to, claim.body, status_callback=callback)
            except DeliveryError as exc:
                done.failure = (claim, exc)
                done.unsent = survey_claims[n + 1 :]
                return done
        done.sent.append(send_claims.Sent(claim, found.sid, found.status))
    return done


def _record(app: Flask, survey_ids: list[str], results: list[_SurveySends]) -> ChunkOutcome:
    """Record what the sends did in one transaction; what to enqueue next."""
    outcome = ChunkOutcome()
    now = utcnow()
    with db_of(app).session() as session:
        sent = [s for result in results for s in result.sent]
        send_claims.mark_sent_many(session, sent, now=now)
        outcome.sent = len(sent)
        send_claims.release_many(
            session, [c.message_id for result in results for c in result.unsent]
        )
        for survey_id, result in zip(survey_ids, results, strict=True):
            if result.unknown is not None:
                claim, exc = result.unknown
                log.warning("survey %s: cannot ask whether a text went out: %s", survey_id, exc)
                assert claim.stale_since is not None
                send_claims.keep_stale(session, claim.message_id, claim.stale_since)
                (outcome.retry if exc.retryable else outcome.failed).append(survey_id)
            elif result.failure is not None:
                claim, exc = result.failure
                retried = send_claims.record_failure(
                    session,
                    survey_id,
                    claim.message_id,
                    exc,
                    max_attempts=queue.MAX_SEND_ATTEMPTS,
                    now=now,
                )
                if retried:
                    outcome.retry.append(survey_id)
                elif reach_due.switched_to_call(session, survey_id):
                    outcome.switched.append(survey_id)
                else:
                    outcome.failed.append(survey_id)
            elif result.error:
                outcome.errors += 1
            elif result.unsent:
                outcome.deferred.append(survey_id)
                outcome.wait = max(outcome.wait, result.wait)
        # Statuses Twilio reported before this step, applied as if they came after it.
        early = early_statuses.apply_recorded(
            session, [s.sid for s in sent], now=now, max_attempts=queue.MAX_SEND_ATTEMPTS
        )
    for status in early:
        if status.resend_survey_id and status.resend_survey_id not in outcome.retry:
            outcome.retry.append(status.resend_survey_id)
        if status.start_survey_id:
            outcome.switched.append(status.start_survey_id)
    return outcome


_pool_lock = threading.Lock()


def _executor_of(app: Flask, name: str, threads: int) -> ThreadPoolExecutor:
    """The app's threads of this name, started once and kept for the life of the process."""
    with _pool_lock:
        pool: ThreadPoolExecutor | None = app.extensions.get(name)
        if pool is None:
            pool = ThreadPoolExecutor(threads, thread_name_prefix=f"gateway-{name}")
            app.extensions[name] = pool
    return pool


def _pool_of(app: Flask) -> ThreadPoolExecutor:
    """The threads that make the requests to the provider."""
    return _executor_of(app, "send-pool", SEND_THREADS)


def _chunk_thread_of(app: Flask) -> ThreadPoolExecutor:
    """The thread that sends one part and records it while the next part is started."""
    return _executor_of(app, "send-chunk", 1)
