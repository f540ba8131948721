"""Starting a batch's surveys: one job per chunk of surveys, not one per survey.

A chunk job starts its SMS surveys :data:`gateway.sending.chunks.CHUNK` at a time, each
such part in one transaction with its texts sent concurrently
(:mod:`gateway.sending.chunks`), and its other surveys one after another as a single
survey's start job does (:func:`gateway.sending.starters.start_survey`). Every text is
claimed before it is sent, so a chunk run twice (a worker lost mid-chunk, the sweeper
restarting a survey the chunk had not reached) sends nothing twice. A survey whose send
is to be retried gets a job of its own, later; texts put back by pacing get one chunk
job for when the sender's bucket has refilled; a survey that fails does not stop the
rest. Surveys due later are grouped by the minute they are due in, one scheduled job per
chunk.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError
from rq import Retry

from channels.base import DeliveryError
from gateway.sending import chunks as send_batches
from gateway.sending import starters
from gateway.sending.sweeper import ensure_sweeper
from gateway.services import queue
from gateway.store.db import db_of
from gateway.store.models import Survey

log = logging.getLogger(__name__)

#: Surveys per job: about a few seconds of sends for a worker.
CHUNK = 500
CHUNK_TIMEOUT = 1800


class ChunkFailed(RuntimeError):
    """Some surveys of a chunk raised; the others were started."""


def start_chunk(app: Flask, survey_ids: list[str]) -> None:
    """Start each survey of the chunk; re-raise at the end when any of them failed."""
    with db_of(app).session() as session:
        rows = session.execute(
            sa.select(Survey.id, Survey.channel).where(Survey.id.in_(survey_ids))
        ).all()
    channels = {survey_id: channel for survey_id, channel in rows}
    sms = [survey_id for survey_id in survey_ids if channels.get(survey_id) == "sms"]
    outcome = send_batches.start_sms(app, sms)
    _follow_up(app, outcome)
    failed = outcome.errors
    for survey_id in survey_ids:
        if channels.get(survey_id) == "sms":
            continue
        try:
            result = starters.start_survey(app, survey_id)
        except DeliveryError as exc:  # recorded on the survey by the send job
            log.info("survey %s: not started: %s", survey_id, exc.code)
            continue
        except Exception:
            failed += 1
            log.exception("survey %s: start failed", survey_id)
            continue
        if isinstance(result, Retry):
            _retry_later(app, survey_id, result)
    if failed:
        raise ChunkFailed(f"{failed} of {len(survey_ids)} surveys failed to start")


def send_chunk(app: Flask, survey_ids: list[str]) -> None:
    """Send the chunk's texts that wait to go out (pacing put them back)."""
    outcome = send_batches.send_pending(app, survey_ids)
    _follow_up(app, outcome)
    if outcome.errors:
        raise ChunkFailed(f"{outcome.errors} of {len(survey_ids)} surveys failed to send")


def _follow_up(app: Flask, outcome: send_batches.ChunkOutcome) -> None:
    """Enqueue what a chunk's sends left to do: retries, deferred texts, held starts."""
    for survey_id in outcome.retry:
        _retry_later(app, survey_id, queue.send_retry())
    for survey_id in outcome.failed:
        log.info("survey %s: text failed for good", survey_id)
    for survey_id in outcome.switched:  # the number cannot take texts: call it instead
        queue.enqueue_start(app, survey_id, None)
    if outcome.deferred:  # over the sender's rate: all of them when the bucket allows
        queue.enqueue_in(
            app, outcome.wait, queue.SEND_CHUNK_JOB, outcome.deferred, timeout=CHUNK_TIMEOUT
        )
    for survey_id, later in outcome.held:
        queue.enqueue_start(app, survey_id, later)


def _retry_later(app: Flask, survey_id: str, retry: Retry) -> None:
    delay = retry.intervals[0] if retry.intervals else queue.RETRY_INTERVALS[0]
    if queue.in_process(app):
        timer = threading.Timer(delay, queue.run_inline, (app, queue.SEND_JOB, survey_id))
        timer.daemon = True
        timer.start()
    elif delay > 0:
        queue.enqueue_in(app, delay, queue.SEND_JOB, survey_id, retry=queue.send_retry())
    else:
        queue.queue_of(app).enqueue(
            queue.SEND_JOB, survey_id, job_timeout=queue.JOB_TIMEOUT, retry=queue.send_retry()
        )


def _minute_after(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0) + timedelta(minutes=1)


def enqueue_batch(app: Flask, queued: list[str], scheduled: list[tuple[str, datetime]]) -> bool:
    """Queue a committed batch's surveys; False when Redis refused (the sweeper then
    starts them: they are committed as ``queued`` and ``scheduled``)."""
    if queue.in_process(app):
        _run_in_process(app, queued)
        return True
    by_minute: dict[datetime, list[str]] = defaultdict(list)
    for survey_id, send_at in scheduled:
        by_minute[_minute_after(send_at)].append(survey_id)
    send_queue = queue.queue_of(app)
    try:
        for start in range(0, len(queued), CHUNK):
            send_queue.enqueue(
                queue.START_CHUNK_JOB, queued[start : start + CHUNK], job_timeout=CHUNK_TIMEOUT
            )
        for minute, ids in sorted(by_minute.items()):
            for start in range(0, len(ids), CHUNK):
                send_queue.enqueue_at(
                    minute,
                    queue.START_CHUNK_JOB,
                    ids[start : start + CHUNK],
                    job_timeout=CHUNK_TIMEOUT,
                )
    except RedisError:
        log.warning("batch not queued (Redis unavailable); the sweeper will start its surveys")
        return False
    return True


def _run_in_process(app: Flask, queued: list[str]) -> None:
    """Without Redis: start the due surveys here (on a thread, outside tests); the
    in-process sweeper starts the scheduled ones when due."""

    def run() -> None:
        for start in range(0, len(queued), CHUNK):
            with app.app_context():
                try:
                    start_chunk(app, queued[start : start + CHUNK])
                except ChunkFailed as exc:
                    log.warning("batch chunk: %s", exc)

    if app.testing:
        run()
        return
    ensure_sweeper(app)
    threading.Thread(target=run, name="gateway-batch", daemon=True).start()
