"""A batch on Redis: one job per chunk of surveys, each survey texted once by the worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from gateway.sending import batch_starts as batch_jobs
from gateway.sending.worker import run_worker
from gateway.services.queue import queue_of
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from tests.conftest import REDIS_TEST_URL
from tests.sms.support import Gateway, make_gateway

pytestmark = pytest.mark.redis


@pytest.fixture
def queued_gateway(database_url: str, queue_prefix: str) -> Iterator[Gateway]:
    gw = make_gateway(
        database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
        sms_segments_per_second=0,  # unpaced: pacing has its own tests
    )
    yield gw
    connection = Redis.from_url(REDIS_TEST_URL)
    for key in connection.scan_iter(f"*{queue_prefix}*"):
        connection.delete(key)
    connection.close()
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()


def test_a_batch_is_queued_in_chunks_and_each_survey_is_texted_once(
    queued_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_jobs, "CHUNK", 4)
    rows = [{"flow": "clinic-visit", "channel": "sms", "to": f"+1202555{i:04d}"} for i in range(10)]
    response = queued_gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": rows},
        headers={"Authorization": f"Bearer {queued_gateway.api_key}"},
    )
    assert response.get_json()["accepted"] == 10
    assert queue_of(queued_gateway.app).count == 3  # 4 + 4 + 2
    assert {s.status for s in queued_gateway.rows(Survey)} == {"queued"}

    run_worker(queued_gateway.app, burst=True)

    assert {s.status for s in queued_gateway.rows(Survey)} == {"sent"}
    texted = [m.to_addr for m in queued_gateway.messages(Message.direction == "outbound")]
    assert sorted(texted) == [r["to"] for r in rows]
