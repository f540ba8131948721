"""The background jobs: the functions rq runs, by the names they are queued under.

Each job takes ids, runs the domain function for them in the app's context (``gateway
worker`` builds the app once; without Redis the web process runs them the same way,
:func:`gateway.services.queue.run_inline`), and lets exceptions propagate to rq. A job
that returns an rq :class:`~rq.Retry` is run again after the backoff it names.

Code that queues a job names it (:mod:`gateway.services.queue`) and never imports this
module. Jobs queued by an earlier release under other names still run: the worker's job
class (:class:`AliasedJob`) looks those names up in :data:`OLD_NAMES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from rq.job import Job

from gateway.alerts import delivery
from gateway.cases import replies
from gateway.sending import batch_starts, due, starters, texts
from gateway.services import queue


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def start_job(survey_id: str) -> queue.JobResult:
    """Begin a survey on its channel: its opening text, email or call."""
    return starters.start_survey(_app(), survey_id)


def send_job(survey_id: str) -> queue.JobResult:
    """Send the survey's pending texts in order, each exactly once."""
    return texts.send_pending(_app(), survey_id)


def send_email_job(step_key: str) -> queue.JobResult:
    """Send a reminder or fallback email recorded as pending."""
    return due.send_email(_app(), step_key)


def deliver_job(delivery_id: str) -> queue.JobResult:
    """Try one alert or event delivery once."""
    return delivery.deliver(_app(), int(delivery_id))


def case_reply_job(case_id: str) -> None:
    """Send a case's waiting replies to its respondent."""
    replies.send_waiting(_app(), case_id)


def start_chunk(survey_ids: list[str]) -> None:
    """Start a chunk of a batch's surveys."""
    batch_starts.start_chunk(_app(), survey_ids)


def send_chunk(survey_ids: list[str]) -> None:
    """Send a chunk's texts that pacing put back."""
    batch_starts.send_chunk(_app(), survey_ids)


#: Every job, by the name it is queued under.
JOBS: dict[str, Callable[..., Any]] = {
    queue.START_JOB: start_job,
    queue.SEND_JOB: send_job,
    queue.SEND_EMAIL_JOB: send_email_job,
    queue.DELIVER_JOB: deliver_job,
    queue.START_CHUNK_JOB: start_chunk,
    queue.SEND_CHUNK_JOB: send_chunk,
    queue.CASE_REPLY_JOB: case_reply_job,
}

#: The names jobs were queued under by earlier releases, kept for one release so that
#: the jobs (and retries, and starts scheduled for later) already in Redis at an upgrade
#: still run.
OLD_NAMES: dict[str, Callable[..., Any]] = {
    "gateway.alert_delivery.deliver_job": deliver_job,
    "gateway.alerts.delivery.deliver_job": deliver_job,
    "gateway.batch_jobs.start_chunk": start_chunk,
    "gateway.batch_jobs.send_chunk": send_chunk,
    "gateway.sending.batch_starts.start_chunk": start_chunk,
    "gateway.sending.batch_starts.send_chunk": send_chunk,
    "gateway.reach.due.send_email_job": send_email_job,
    "gateway.sending.due.send_email_job": send_email_job,
}


class AliasedJob(Job):
    """An rq job that also runs under the names in :data:`OLD_NAMES`
    (:data:`gateway.services.queue.JOB_CLASS`, the class workers run jobs with)."""

    @property
    def func(self) -> Callable[..., Any] | None:
        old = OLD_NAMES.get(self.func_name or "")
        if old is not None:
            return old
        return super().func
