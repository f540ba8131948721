"""The sweeper: what brings committed work back to the queue, whatever became of its job.

Every ``SWEEP_SECONDS`` it starts due ``scheduled`` surveys, restarts ``queued`` ones that
were committed but never ran (a crash between commit and enqueue), hands texts held by
dead workers to a send job again, expires surveys past ``expires_at``, makes the due
reminders and fallbacks (:mod:`gateway.sending.due`) and queues again the alert and event
deliveries whose job was lost (:func:`gateway.alerts.delivery.requeue_overdue`). Each
round also erases the contacts whose retention is over (:mod:`gateway.privacy.erasure`).

Both modes run it: ``gateway worker`` beside the rq worker (:mod:`gateway.sending.worker`),
and without Redis a thread of the web process, started with the first request it serves
(:func:`init_app`), which also starts the surveys due later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from config.settings import Settings
from gateway.alerts import delivery as alert_delivery
from gateway.privacy import erasure
from gateway.sending import claims as send_claims
from gateway.sending import due as reach_due
from gateway.sending import starters, texts
from gateway.services import queue
from gateway.sms import early_statuses
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys import lifecycle

log = logging.getLogger(__name__)

#: How often the sweeper runs, and how long a ``queued`` survey may wait for its job.
SWEEP_SECONDS = 30.0
STALE_QUEUED = timedelta(minutes=2)


#: Steps of the packages above the send path, run at the end of every sweep (each
#: registered once, when the app is built: gateway.cases.setup).
SweepStep = Callable[[Flask, datetime], object]
_extra_steps: list[SweepStep] = []


def on_sweep(step: SweepStep) -> None:
    """Have ``step`` run at the end of every sweep; registering it again changes nothing."""
    if step not in _extra_steps:
        _extra_steps.append(step)


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
                Survey.channel.in_(list(starters.STARTERS)),
            )
            .order_by(Survey.send_at)
            .limit(200)
            .with_for_update(skip_locked=True)
        ).all()
        for survey in due:
            survey.status = "queued"
            survey.queued_at = now
            outcome.started.append(survey.id)
        outcome.expired = lifecycle.expire_due(
            session, now=now, max_reprompts=settings.max_reprompts
        )
        outcome.resent = send_claims.surveys_with_stale_claims(
            session, now - texts.claim_timeout(settings)
        )
        outcome.erased = erasure.erase_due(
            session, now=now, days=settings.contact_retention_days
        ).surveys
        outcome.early_statuses_deleted = early_statuses.delete_unmatched(
            session, before=now - early_statuses.KEEP
        )
    for survey_id in outcome.started:
        queue.enqueue_start(app, survey_id, None)
    for survey_id in outcome.resent:  # a worker died holding a text: reconcile, then send
        queue.enqueue_send(app, survey_id)
    reach_due.run_due(app, now)  # due reminders and fallbacks (gateway.reach)
    outcome.redelivered = alert_delivery.requeue_overdue(app, now)
    for step in tuple(_extra_steps):
        step(app, now)
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
    """Without Redis, start the sweeper with the first request the app serves, and with
    the first start left for later."""
    queue.leave_later_starts_to(app, ensure_sweeper)
    app.before_request(lambda: ensure_sweeper(app))
