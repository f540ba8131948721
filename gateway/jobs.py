"""Background jobs: sending surveys' texts, retries, scheduled starts and expiry.

With ``REDIS_URL`` set, jobs go through rq queues (named in :func:`queue_name`, under
``QUEUE_PREFIX``), a start in the future is scheduled with rq's ``enqueue_at``, and
``gateway worker`` runs them with rq's scheduler. Without Redis they run inside the web
process: a start that is due runs at once (the caller has committed the survey), a later
one waits for the in-process :class:`Sweeper`.

The sweeper is the mechanism both modes share: every ``SWEEP_SECONDS`` it starts due
``scheduled`` surveys, restarts ``queued`` ones that were committed but never ran (a crash
between commit and enqueue), expires surveys past ``expires_at``, and makes the due
reminders and fallbacks (:mod:`gateway.sending.due`). ``gateway worker`` runs one beside the
rq worker. Each round also erases the contacts whose retention is over
(:mod:`gateway.privacy.erasure`).

Jobs take ids, reload what they need inside the app context (``gateway worker`` builds
the app once), close their database session before calling the provider, and let
exceptions propagate to rq. Only a retryable :class:`DeliveryError` is retried: the job
returns an rq :class:`~rq.Retry` with backoff. A retry never texts the same prompt twice:
each prompt is a ``Message`` row, claimed once before it is sent and marked sent after
(:mod:`gateway.sending.claims`). A text whose worker died holding it is taken over after
``SEND_CLAIM_TIMEOUT`` and sent only if Twilio's Messages list does not show it sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, SimpleWorker
from sqlalchemy.orm import Session

from channels.base import DeliveryError, SendResult, SmsSender
from channels.sms import SentLookup, SimulatedSms, TwilioSms
from config.settings import Settings
from gateway.alerts import delivery as alert_delivery
from gateway.email import invitation
from gateway.privacy import erasure
from gateway.sending import claims as send_claims
from gateway.sending import due as reach_due
from gateway.sending import pacing, quiet_hours
from gateway.sms import early_statuses
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys import conversation
from gateway.voice import slots as call_slots
from gateway.voice.outbound import start_outbound_call

log = logging.getLogger(__name__)

#: The queues, by purpose; their Redis names carry ``settings.queue_prefix``.
QUEUES = ("send",)
#: A text is tried this many times before its survey is marked failed.
MAX_SEND_ATTEMPTS = 5
#: Seconds before each retry of a retryable delivery failure.
RETRY_INTERVALS = [30, 120, 600, 1800]
#: How often the sweeper runs, and how long a ``queued`` survey may wait for its job.
SWEEP_SECONDS = 30.0
STALE_QUEUED = timedelta(minutes=2)
#: Allowance for the provider's clock when asking what it sent since a claim.
CLOCK_SLACK = timedelta(minutes=1)
STATUS_CALLBACK_PATH = "/twilio/sms/status"

JobResult = Retry | None


def queue_name(settings: Settings, purpose: str = "send") -> str:
    if purpose not in QUEUES:
        raise ValueError(f"unknown queue {purpose!r}; queues are {', '.join(QUEUES)}")
    return f"{settings.queue_prefix}gateway-{purpose}"


def redis_of(app: Flask) -> Redis:
    """The app's Redis connection (``REDIS_URL`` must be set)."""
    settings: Settings = app.extensions["settings"]
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: jobs run inside the web process")
    connection: Redis = app.extensions.setdefault("redis", Redis.from_url(settings.redis_url))
    return connection


def queue_of(app: Flask, purpose: str = "send") -> Queue:
    return Queue(queue_name(app.extensions["settings"], purpose), connection=redis_of(app))


def sms_sender_of(app: Flask) -> SmsSender:
    """Twilio when its credentials are set, otherwise simulated delivery (built once)."""
    sender: SmsSender | None = app.extensions.get("sms_sender")
    if sender is None:
        settings: Settings = app.extensions["settings"]
        if settings.twilio_configured:
            sender = TwilioSms(
                settings.twilio_account_sid or "",
                settings.twilio_auth_token or "",
                from_number=settings.twilio_phone_number,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                api_base_url=settings.twilio_api_base_url,
            )
        else:
            sender = SimulatedSms()
        app.extensions["sms_sender"] = sender
    return sender


def status_callback_url(settings: Settings) -> str | None:
    """Where Twilio reports delivery; only known with a public URL."""
    if not settings.public_base_url:
        return None
    return settings.public_base_url + STATUS_CALLBACK_PATH


# -- enqueueing -------------------------------------------------------------------------


def _unproxied(app: Flask) -> Flask:
    """The app itself when given ``current_app``: timer threads have no app context."""
    real: Flask = getattr(app, "_get_current_object", lambda: app)()
    return real


def enqueue_start(app: Flask, survey_id: str, send_at: datetime | None) -> None:
    """Start a committed survey now, or at ``send_at``."""
    app = _unproxied(app)
    settings: Settings = app.extensions["settings"]
    due = send_at is None or send_at <= utcnow()
    if settings.redis_url:
        queue = queue_of(app)
        if due:
            queue.enqueue(start_job, survey_id, job_timeout=120)
        else:
            assert send_at is not None
            queue.enqueue_at(send_at, start_job, survey_id, job_timeout=120)
    elif due:
        run_inline(app, start_job, survey_id)
    else:
        ensure_sweeper(app)


def enqueue_send(app: Flask, survey_id: str) -> None:
    """Send the survey's pending texts (after a status callback put one back)."""
    app = _unproxied(app)
    settings: Settings = app.extensions["settings"]
    if settings.redis_url:
        queue_of(app).enqueue(send_job, survey_id, job_timeout=120)
    else:
        run_inline(app, send_job, survey_id)


def run_inline(app: Flask, job: Callable[[str], JobResult], survey_id: str) -> None:
    """Run a job in this process; a retry runs later on a timer thread."""
    with app.app_context():
        try:
            result = job(survey_id)
        except DeliveryError as exc:
            log.warning("survey %s: delivery failed for good: %s", survey_id, exc)
            return
    if isinstance(result, Retry):
        delay = result.intervals[0] if result.intervals else 0
        timer = threading.Timer(delay, run_inline, (app, job, survey_id))
        timer.daemon = True
        timer.start()


# -- the jobs ---------------------------------------------------------------------------


def start_job(survey_id: str) -> JobResult:
    """Begin a survey on its channel and send its opening text."""
    app = _unproxied(current_app)
    with db_of(app).session() as session:
        channel = session.scalar(sa.select(Survey.channel).where(Survey.id == survey_id))
    if channel is None:
        raise LookupError(f"survey {survey_id} does not exist")
    later = quiet_hours.hold_if_quiet(app, survey_id)
    if later is not None:  # outside the respondent's hours: start at the next window
        enqueue_start(app, survey_id, later)
        return None
    starter = STARTERS.get(channel)
    if starter is None:
        raise LookupError(f"no background start for {channel} surveys (survey {survey_id})")
    result = starter(survey_id)
    reach_due.settle_start(app, survey_id)  # record the first contact, plan what follows
    return result


def start_sms(survey_id: str) -> JobResult:
    app = _unproxied(current_app)
    settings: Settings = app.extensions["settings"]
    now = utcnow()
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id, with_for_update=True)
        if survey is None:
            raise LookupError(f"survey {survey_id} does not exist")
        not_begun = (survey.state or {}).get("phase", "new") == "new"
        if survey.status in conversation.NOT_YET_STARTED and not_begun:
            if survey.send_at is not None and survey.send_at > now:
                return None  # early (clock skew): the sweeper starts it when due
            survey.sender = settings.twilio_messaging_service_sid or settings.twilio_phone_number
            # begin() flushes once when it records the text: one UPDATE of the survey,
            # not one before each of its queries.
            with session.no_autoflush:
                conversation.begin(
                    session,
                    survey,
                    conversation.survey_flow(survey),
                    now=now,
                    max_reprompts=settings.max_reprompts,
                    survey_link=invitation.survey_link_of(app),
                )
        claim = _claim_next(session, survey_id, settings)  # in the start's transaction
    return _send_claimed(app, survey_id, claim)


def send_job(survey_id: str) -> JobResult:
    """Send the survey's pending texts in order, each exactly once."""
    app = _unproxied(current_app)
    with db_of(app).session() as session:
        claim = _claim_next(session, survey_id, app.extensions["settings"])
    return _send_claimed(app, survey_id, claim)


def _claim_next(session: Session, survey_id: str, settings: Settings) -> send_claims.Claim | None:
    """Claim the survey's next text; none left: drop the rest if the survey has closed."""
    now = utcnow()
    claim = send_claims.claim_next(
        session, survey_id, now=now, stale_before=now - claim_timeout(settings)
    )
    if claim is None:
        send_claims.drop_unsent_of_closed(session, survey_id)
    return claim


def _send_claimed(app: Flask, survey_id: str, claim: send_claims.Claim | None) -> JobResult:
    """Send the claimed text, then the survey's next ones. Recording a text sent and
    claiming the next take one transaction."""
    settings: Settings = app.extensions["settings"]
    sender = sms_sender_of(app)
    callback = status_callback_url(settings)
    pacing_sender = settings.twilio_messaging_service_sid or settings.twilio_phone_number
    database = db_of(app)
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
                    return Retry(max=MAX_SEND_ATTEMPTS, interval=RETRY_INTERVALS)
                raise
        if found is None:
            wait = pacing.sms_wait(app, pacing_sender, claim.body)
            if wait > 0:  # over the sender's rate: hand the text back, come back when due
                with database.session() as session:
                    send_claims.release(session, claim.message_id)
                queue_of(app).enqueue_in(
                    timedelta(seconds=wait), send_job, survey_id, job_timeout=120
                )
                return None
            try:
                found = sender.send(claim.to, claim.body, status_callback=callback)
            except DeliveryError as exc:
                if _record_failure(app, survey_id, claim.message_id, exc):
                    return Retry(max=MAX_SEND_ATTEMPTS, interval=RETRY_INTERVALS)
                raise
        with database.session() as session:
            now = utcnow()
            send_claims.mark_sent(
                session, survey_id, claim.message_id, sid=found.sid, status=found.status, now=now
            )
            # A status Twilio reported before this step, applied as if it came after it
            # (a resend is claimed just below, as the callback's send job would).
            early = early_statuses.apply_recorded(
                session, [found.sid], now=now, max_attempts=MAX_SEND_ATTEMPTS
            )
            claim = _claim_next(session, survey_id, settings)
        for status in early:
            if status.start_survey_id is not None:  # undeliverable: the call fallback
                _start_fallback(app, status.start_survey_id)
    return None


def _start_fallback(app: Flask, survey_id: str) -> None:
    try:
        enqueue_start(app, survey_id, None)
    except RedisError:  # committed as queued: the sweeper starts it
        log.warning("survey %s: call fallback not queued (Redis unavailable)", survey_id)


def claim_timeout(settings: Settings) -> timedelta:
    """How long a claimed text may stay unsent before its worker is taken for dead."""
    return timedelta(seconds=settings.send_claim_timeout)


def find_sent(sender: SmsSender, claim: send_claims.Claim) -> SendResult | None:
    """The provider's record of a taken-over text, or None when it did not go out."""
    assert claim.stale_since is not None
    if not isinstance(sender, SentLookup):
        raise DeliveryError("no-lookup", "this sender cannot say what it sent", retryable=False)
    return sender.find_sent(claim.to, claim.body, since=claim.stale_since - CLOCK_SLACK)


def _record_failure(app: Flask, survey_id: str, message_id: int, exc: DeliveryError) -> bool:
    """Record a failed send; True when it is to be retried."""
    with db_of(app).session() as session:
        retry = send_claims.record_failure(
            session, survey_id, message_id, exc, max_attempts=MAX_SEND_ATTEMPTS, now=utcnow()
        )
        switched = not retry and reach_due.switched_to_call(session, survey_id)
    if switched:  # the number cannot take texts: the flow's call fallback starts now
        enqueue_start(app, survey_id, None)
    return retry


def start_email(survey_id: str) -> JobResult:
    """Begin an email survey and send its email (retried only when a retry can help)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if invitation.send_invitation(app, survey_id, max_attempts=MAX_SEND_ATTEMPTS):
        return Retry(max=MAX_SEND_ATTEMPTS, interval=RETRY_INTERVALS)
    return None


#: How each channel's survey starts in the background.
def start_voice(survey_id: str) -> JobResult:
    """Place a voice survey's call; a new attempt the call retry policy allows is enqueued."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["settings"]
    if not call_slots.take(app, survey_id):  # every line busy: try again shortly
        _wait_in_queue(app, survey_id, call_slots.WAIT)
        return None
    wait = pacing.call_wait(app, settings.twilio_phone_number)
    if wait > 0:  # over the calls-per-second limit: place it when the bucket allows
        call_slots.release(app, survey_id)
        queue_of(app).enqueue_in(timedelta(seconds=wait), start_job, survey_id, job_timeout=120)
        return None
    try:
        retry = start_outbound_call(app, survey_id)
    finally:
        if not _call_in_progress(app, survey_id):  # not placed: the slot is not needed
            call_slots.release(app, survey_id)
    if retry is not None:
        enqueue_start(app, retry.survey_id, retry.send_at)
    return None


def _wait_in_queue(app: Flask, survey_id: str, seconds: float) -> None:
    """Start the survey later; it stays ``queued``, fresh, so the sweeper leaves it be."""
    with db_of(app).session() as session:
        session.execute(
            sa.update(Survey)
            .where(Survey.id == survey_id, Survey.status == "queued")
            .values(queued_at=utcnow())
        )
    queue_of(app).enqueue_in(timedelta(seconds=seconds), start_job, survey_id, job_timeout=120)


def _call_in_progress(app: Flask, survey_id: str) -> bool:
    with db_of(app).session() as session:
        status = session.scalar(sa.select(Survey.status).where(Survey.id == survey_id))
    return status == "sent"


STARTERS: dict[str, Callable[[str], JobResult]] = {
    "sms": start_sms,
    "voice": start_voice,
    "email": start_email,
}


# -- the sweeper ------------------------------------------------------------------------


@dataclass
class SweepResult:
    started: list[str] = field(default_factory=list)
    expired: int = 0
    #: Surveys whose text a dead worker held, handed to a send job again.
    resent: list[str] = field(default_factory=list)
    #: Surveys whose contact was erased, their retention over (gateway.privacy.erasure).
    erased: int = 0
    #: Alert and event deliveries whose job was lost, queued again (gateway.alerts.delivery).
    redelivered: list[int] = field(default_factory=list)
    #: Delivery statuses kept for a text never recorded sent, deleted after a day.
    early_statuses_deleted: int = 0


def sweep(
    app: Flask, now: datetime | None = None, *, scheduled_grace: timedelta | None = None
) -> SweepResult:
    """Start due and stranded surveys, resend texts held by dead workers (after asking
    the provider whether they went out), and expire overdue ones.

    ``scheduled_grace``: how long past ``send_at`` a ``scheduled`` survey is left to rq's
    scheduler before the sweeper starts it itself (none without Redis).
    """
    settings: Settings = app.extensions["settings"]
    now = now or utcnow()
    if scheduled_grace is None:
        scheduled_grace = STALE_QUEUED if settings.redis_url else timedelta(0)
    outcome = SweepResult()
    with db_of(app).session() as session:
        due = session.scalars(
            sa.select(Survey)
            .where(
                sa.or_(
                    sa.and_(Survey.status == "scheduled", Survey.send_at <= now - scheduled_grace),
                    sa.and_(Survey.status == "queued", Survey.queued_at <= now - STALE_QUEUED),
                ),
                Survey.channel.in_(list(STARTERS)),
            )
            .order_by(Survey.send_at)
            .limit(200)
            .with_for_update(skip_locked=True)
        ).all()
        for survey in due:
            survey.status = "queued"
            survey.queued_at = now
            outcome.started.append(survey.id)
        outcome.expired = conversation.expire_due(
            session, now=now, max_reprompts=settings.max_reprompts
        )
        outcome.resent = send_claims.surveys_with_stale_claims(
            session, now - claim_timeout(settings)
        )
        outcome.erased = erasure.erase_due(
            session, now=now, days=settings.contact_retention_days
        ).surveys
        outcome.early_statuses_deleted = early_statuses.delete_unmatched(
            session, before=now - early_statuses.KEEP
        )
    for survey_id in outcome.started:
        enqueue_start(app, survey_id, None)
    for survey_id in outcome.resent:  # a worker died holding a text: reconcile, then send
        enqueue_send(app, survey_id)
    reach_due.run_due(app, now)  # due reminders and fallbacks (gateway.reach)
    outcome.redelivered = alert_delivery.requeue_overdue(app, now)
    return outcome


class Sweeper(threading.Thread):
    """Runs :func:`sweep` every ``interval`` seconds until stopped."""

    def __init__(self, app: Flask, interval: float = SWEEP_SECONDS) -> None:
        super().__init__(name="gateway-sweeper", daemon=True)
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                sweep(self.app)
            except Exception:  # a failed sweep is retried next round
                log.exception("sweep failed")

    def stop(self) -> None:
        self.stopped.set()


_sweeper_lock = threading.Lock()


def ensure_sweeper(app: Flask) -> None:
    """Start the in-process sweeper once per app (not under tests: they call sweep)."""
    if app.testing or app.extensions["settings"].redis_url:
        return
    with _sweeper_lock:
        if "sweeper" not in app.extensions:
            sweeper = Sweeper(app)
            app.extensions["sweeper"] = sweeper
            sweeper.start()


def init_app(app: Flask) -> None:
    """Without Redis, start the sweeper with the first request the app serves."""
    app.before_request(lambda: ensure_sweeper(app))


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """Work the queues with rq's scheduler, inside the app's context, with a sweeper."""
    settings: Settings = app.extensions["settings"]
    connection = redis_of(app)
    queues = [Queue(queue_name(settings, purpose), connection=connection) for purpose in QUEUES]
    with app.app_context():
        sweep(app)
        worker = SimpleWorker(queues, connection=connection)
        if burst:
            worker.work(burst=True, with_scheduler=True)
            return
        sweeper = Sweeper(app)
        sweeper.start()
        try:
            worker.work(with_scheduler=True)
        finally:
            sweeper.stop()
