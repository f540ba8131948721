"""Jobs are queued by name: each name the queue uses is a job of gateway.jobs, and a job
queued under a name an earlier release used still runs, on real Redis with a real worker."""

from __future__ import annotations

import pytest
import responses
from redis import Redis
from rq import Queue
from rq.utils import import_attribute

from gateway import jobs
from gateway.sending.worker import run_worker
from gateway.services import queue
from gateway.store.models import Message, Survey
from tests.sending.test_chunks import NUMBERS, batch, twilio_answering
from tests.sms.support import Gateway


def test_every_job_name_is_the_job_it_names() -> None:
    names = [getattr(queue, name) for name in dir(queue) if name.endswith("_JOB")]
    assert sorted(names) == sorted(jobs.JOBS)
    for name, job in jobs.JOBS.items():
        assert import_attribute(name) is job
    assert import_attribute(queue.JOB_CLASS) is jobs.AliasedJob


def test_every_old_name_stands_for_a_job_of_today() -> None:
    for name, job in jobs.OLD_NAMES.items():
        assert name not in jobs.JOBS
        assert job in jobs.JOBS.values()


@pytest.mark.parametrize("name", list(jobs.OLD_NAMES))
def test_a_job_queued_under_an_old_name_resolves_to_its_job(
    queued_gateway: Gateway, redis: Redis, name: str
) -> None:
    queued = queue.queue_of(queued_gateway.app).enqueue(name, "an-id")

    fetched = jobs.AliasedJob.fetch(queued.id, connection=redis)

    assert fetched.func_name == name
    assert fetched.func is jobs.OLD_NAMES[name]


@pytest.mark.parametrize(
    "name", ["gateway.batch_jobs.start_chunk", "gateway.sending.batch_starts.start_chunk"]
)
def test_a_chunk_queued_under_an_old_name_before_an_upgrade_is_started_by_the_worker(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, redis: Redis, name: str
) -> None:
    asked = twilio_answering(twilio_api, {})
    survey_ids = batch(queued_gateway, NUMBERS)
    settings = queued_gateway.app.extensions["settings"]
    send = Queue(queue.queue_name(settings), connection=redis)
    send.empty()  # the batch's own chunk job, queued under today's name
    send.enqueue(name, survey_ids, job_timeout=1800)  # as the earlier release queued it

    run_worker(queued_gateway.app, burst=True)

    assert sorted(asked) == NUMBERS
    assert {s.status for s in queued_gateway.rows(Survey)} == {"sent"}
    texts = queued_gateway.messages(Message.direction == "outbound")
    assert sorted(m.to_addr for m in texts) == NUMBERS
    assert send.count == 0 and send.failed_job_registry.count == 0
