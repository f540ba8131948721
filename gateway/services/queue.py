"""The job queue: the Redis connection, the rq queues, and enqueueing jobs by name.

With ``REDIS_URL`` set, jobs go through rq queues (named in :func:`queue_name`, under
``QUEUE_PREFIX``), a start in the future is scheduled with rq's ``enqueue_at``, and
``gateway worker`` runs them with rq's scheduler. Without Redis they run inside the web
process: a job that is due runs at once (the caller has committed what it works on), a
later start waits for the in-process sweeper, which the app names here
(:func:`leave_later_starts_to`).

Jobs are named, never imported: each name below is the dotted path of an entry point in
:mod:`gateway.jobs`, which rq resolves when a worker runs the job and :func:`run_inline`
resolves the same way in the web process. So the code that queues work does not import
the module that runs it, and the entry points may import any of it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue, Retry
from rq.utils import import_attribute

from channels.base import DeliveryError
from config.settings import Settings
from gateway.store.models import utcnow

log = logging.getLogger(__name__)

#: The queues, by purpose; their Redis names carry ``settings.queue_prefix``.
QUEUES = ("send",)

#: The jobs, by the dotted names rq runs them under.
START_JOB = "gateway.jobs.start_job"
SEND_JOB = "gateway.jobs.send_job"
SEND_EMAIL_JOB = "gateway.jobs.send_email_job"
DELIVER_JOB = "gateway.jobs.deliver_job"
START_CHUNK_JOB = "gateway.jobs.start_chunk"
SEND_CHUNK_JOB = "gateway.jobs.send_chunk"
CASE_REPLY_JOB = "gateway.jobs.case_reply_job"
#: The rq job class workers run jobs with: it also runs jobs queued under older names.
JOB_CLASS = "gateway.jobs.AliasedJob"

#: Seconds a survey's start or send job may run.
JOB_TIMEOUT = 120
#: A text is tried this many times before its survey is marked failed.
MAX_SEND_ATTEMPTS = 5
#: Seconds before each retry of a retryable delivery failure.
RETRY_INTERVALS = [30, 120, 600, 1800]

#: What a job returns: a :class:`~rq.Retry` asks for another run later.
JobResult = Retry | None

_LATER_STARTS = "gateway.later_starts"


def queue_name(settings: Settings, purpose: str = "send") -> str:
    """The Redis name of the queue for ``purpose``."""
    if purpose not in QUEUES:
        raise ValueError(f"unknown queue {purpose!r}; queues are {', '.join(QUEUES)}")
    return f"{settings.queue_prefix}gateway-{purpose}"


def redis_of(app: Flask) -> Redis:
    """The app's Redis connection, made once (``REDIS_URL`` must be set)."""
    settings: Settings = app.extensions["settings"]
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: jobs run inside the web process")
    connection: Redis | None = app.extensions.get("redis")
    if connection is None:
        connection = app.extensions.setdefault("redis", Redis.from_url(settings.redis_url))
    return connection


def queue_of(app: Flask, purpose: str = "send") -> Queue:
    """The rq queue for ``purpose`` on the app's Redis."""
    return Queue(queue_name(app.extensions["settings"], purpose), connection=redis_of(app))


def send_retry() -> Retry:
    """The retries of a text's send job after a retryable failure, with backoff."""
    return Retry(max=MAX_SEND_ATTEMPTS, interval=RETRY_INTERVALS)


def unproxied(app: Flask) -> Flask:
    """The app itself when given ``current_app``: timer threads have no app context."""
    real: Flask = getattr(app, "_get_current_object", lambda: app)()
    return real


def in_process(app: Flask) -> bool:
    """Whether jobs run inside this process (no ``REDIS_URL``)."""
    settings: Settings = app.extensions["settings"]
    return not settings.redis_url


# -- enqueueing -------------------------------------------------------------------------


def enqueue(app: Flask, job: str, *args: Any, timeout: int = JOB_TIMEOUT) -> None:
    """Run the job ``job`` (a name above) on ``args``: queued with Redis, else at once here
    (:func:`run_inline`)."""
    app = unproxied(app)
    if in_process(app):
        run_inline(app, job, *args)
    else:
        queue_of(app).enqueue(job, *args, job_timeout=timeout)


def enqueue_in(
    app: Flask,
    seconds: float,
    job: str,
    *args: Any,
    timeout: int = JOB_TIMEOUT,
    retry: Retry | None = None,
) -> None:
    """Queue the job to run ``seconds`` from now (rq's scheduler; Redis only)."""
    queue_of(unproxied(app)).enqueue_in(
        timedelta(seconds=seconds), job, *args, job_timeout=timeout, retry=retry
    )


def enqueue_start(app: Flask, survey_id: str, send_at: datetime | None) -> None:
    """Start a committed survey now, or at ``send_at``."""
    app = unproxied(app)
    due = send_at is None or send_at <= utcnow()
    if not in_process(app):
        queue = queue_of(app)
        if due:
            queue.enqueue(START_JOB, survey_id, job_timeout=JOB_TIMEOUT)
        else:
            assert send_at is not None
            queue.enqueue_at(send_at, START_JOB, survey_id, job_timeout=JOB_TIMEOUT)
    elif due:
        run_inline(app, START_JOB, survey_id)
    else:
        leave_to_sweeper(app)


def enqueue_send(app: Flask, survey_id: str) -> None:
    """Send the survey's pending texts (after a status callback put one back)."""
    enqueue(app, SEND_JOB, survey_id)


def run_inline(app: Flask, job: str, *args: Any) -> None:
    """Run the job in this process, in the app's context; a retry runs later on a timer
    thread. A delivery failure that is not retried ends here (the job recorded it)."""
    function: Callable[..., JobResult] = import_attribute(job)
    with app.app_context():
        try:
            result = function(*args)
        except DeliveryError as exc:
            log.warning("%s%r: delivery failed for good: %s", job, args, exc)
            return
    if isinstance(result, Retry):
        delay = result.intervals[0] if result.intervals else 0
        timer = threading.Timer(delay, run_inline, (app, job, *args))
        timer.daemon = True
        timer.start()


# -- later starts without Redis ---------------------------------------------------------


def leave_later_starts_to(app: Flask, ensure_sweeper: Callable[[Flask], None]) -> None:
    """Name what makes sure the in-process sweeper runs, which starts surveys when due."""
    app.extensions[_LATER_STARTS] = ensure_sweeper


def leave_to_sweeper(app: Flask) -> None:
    """Leave a start to the in-process sweeper (started here when it is not running)."""
    ensure_sweeper: Callable[[Flask], None] | None = app.extensions.get(_LATER_STARTS)
    if ensure_sweeper is not None:
        ensure_sweeper(app)
