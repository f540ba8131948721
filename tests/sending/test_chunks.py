"""A batch's SMS surveys started and texted a chunk at a time (gateway.sending.chunks), with
the single send's guarantees: each text once, STOP respected, failures kept to their own
survey, retries, quiet hours."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import sqlalchemy as sa
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from gateway.flows.segments import sms_segments
from gateway.sending import batch_starts as batch_jobs
from gateway.sending import chunks as send_batches
from gateway.sending import claims as send_claims
from gateway.sending import quiet_hours, starters, sweeper, texts
from gateway.sending.worker import run_worker
from gateway.services import queue as job_queue
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from tests.conftest import REDIS_TEST_URL
from tests.reach.contact_plan import FLOW as REACH_FLOW
from tests.reach.contact_plan import reach_gateway
from tests.sms.support import FLOWS, PUBLIC_BASE_URL, Gateway, make_gateway
from tests.support.queued import ACCOUNT, MESSAGES_URL, created, twilio_error
from tests.support.twilio_double import TwilioDouble
from tests.support.workers import empty_tables, wait_for, workers

NUMBERS = [f"+1202555{n:04d}" for n in range(7)]


def batch(gateway: Gateway, numbers: list[str], flow: str = "clinic-visit") -> list[str]:
    response = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": [{"flow": flow, "channel": "sms", "to": to} for to in numbers]},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.get_json()["accepted"] == len(numbers), response.get_json()
    return [s.id for s in sorted(gateway.rows(Survey), key=lambda s: s.contact)]


def recipient(request: Any) -> str:
    body = request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else str(body))["To"][0]


def twilio_answering(
    twilio_api: responses.RequestsMock, answers: dict[str, list[tuple[int, dict[str, Any]]]]
) -> list[str]:
    """Twilio's Messages API answering each number in turn from ``answers`` (201 when none
    is left); the numbers it was asked to text, in order."""
    asked: list[str] = []
    sids = iter(range(10**6))

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        to = recipient(request)
        asked.append(to)
        queue = answers.get(to) or []
        status, payload = queue.pop(0) if queue else (201, created())
        if status == 201:
            payload = {**payload, "sid": f"SM{next(sids):032d}"}
        return status, {"Content-Type": "application/json"}, json.dumps(payload)

    twilio_api.add_callback(responses.POST, MESSAGES_URL, callback=answer)
    return asked


def test_a_chunk_texts_each_survey_once_and_records_every_text_sent(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    asked = twilio_answering(twilio_api, {})
    survey_ids = batch(queued_gateway, NUMBERS)

    run_worker(queued_gateway.app, burst=True)

    assert sorted(asked) == NUMBERS
    texts = queued_gateway.messages(Message.direction == "outbound")
    assert len(texts) == len(NUMBERS)
    assert {m.status for m in texts} == {"queued"}
    assert len({m.provider_sid for m in texts}) == len(NUMBERS)
    assert {s.status for s in queued_gateway.rows(Survey)} == {"sent"}

    with queued_gateway.app.app_context():  # the chunk run again (its worker was lost)
        batch_jobs.start_chunk(queued_gateway.app, survey_ids)
    assert sorted(asked) == NUMBERS


def test_a_number_that_said_stop_before_its_chunk_ran_is_not_texted(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    asked = twilio_answering(twilio_api, {})
    batch(queued_gateway, NUMBERS[:3])
    queued_gateway.text("STOP", from_=NUMBERS[1])

    run_worker(queued_gateway.app, burst=True)

    assert sorted(asked) == [NUMBERS[0], NUMBERS[2]]
    statuses = {s.contact: s.status for s in queued_gateway.rows(Survey)}
    assert statuses == {NUMBERS[0]: "sent", NUMBERS[1]: "opted_out", NUMBERS[2]: "sent"}


def test_a_number_that_says_stop_after_its_text_was_claimed_is_not_texted(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    asked = twilio_answering(twilio_api, {})
    survey_ids = batch(queued_gateway, NUMBERS[:2])
    app = queued_gateway.app
    _held, claims = send_batches.begin_part(app, survey_ids)  # claimed, not yet sent
    queued_gateway.text("STOP", from_=NUMBERS[0])

    with app.app_context():
        outcome = send_batches.send_claimed(app, claims)

    assert asked == [NUMBERS[1]] and outcome.sent == 1
    claimed = queued_gateway.messages(Message.id.in_([c.message_id for c in claims]))
    assert {m.to_addr: m.status for m in claimed} == {NUMBERS[0]: "dropped", NUMBERS[1]: "queued"}


def test_a_failure_in_a_chunk_stays_with_its_survey_and_only_a_retryable_one_is_retried(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    flaky, landline = NUMBERS[1], NUMBERS[4]
    asked = twilio_answering(
        twilio_api,
        {flaky: [(400, twilio_error(30003))], landline: [(400, twilio_error(30006))]},
    )
    batch(queued_gateway, NUMBERS)

    run_worker(queued_gateway.app, burst=True)

    assert Counter(asked) == {**dict.fromkeys(NUMBERS, 1), flaky: 2}
    surveys = {s.contact: s for s in queued_gateway.rows(Survey)}
    assert surveys[landline].status == "failed"
    assert surveys[landline].failure_reason == "error 30006: landline or unreachable carrier"
    assert {n: s.status for n, s in surveys.items() if n != landline} == dict.fromkeys(
        set(NUMBERS) - {landline}, "sent"
    )
    (retried,) = queued_gateway.outbound(surveys[flaky].id)
    assert (retried.status, retried.attempts) == ("queued", 2)


def test_texts_over_the_senders_rate_are_put_back_and_sent_by_a_later_job(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = twilio_answering(twilio_api, {})
    survey_ids = batch(queued_gateway, NUMBERS[:5])
    grants = iter([0.0, 0.0, 30.0])  # the bucket holds two texts' segments
    monkeypatch.setattr(send_batches.pacing, "sms_wait", lambda *_: next(grants, 30.0))
    app = queued_gateway.app

    with app.app_context():
        outcome = send_batches.start_sms(app, survey_ids)

    assert len(asked) == outcome.sent == 2
    assert sorted(outcome.deferred) == sorted(set(survey_ids) - set(_texted(app)))
    assert outcome.wait == 30.0
    statuses = Counter(m.status for m in queued_gateway.messages(Message.direction == "outbound"))
    assert statuses == {"queued": 2, "pending": 3}  # handed back, unclaimed

    monkeypatch.setattr(send_batches.pacing, "sms_wait", lambda *_: 0.0)  # the bucket refilled
    with app.app_context():
        batch_jobs.send_chunk(app, outcome.deferred)
    assert sorted(asked) == NUMBERS[:5]


def test_texts_are_put_back_unsent_when_redis_cannot_pace_them(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = twilio_answering(twilio_api, {})
    survey_ids = batch(queued_gateway, NUMBERS[:3])

    def redis_down(*_args: object) -> float:
        raise RedisError("connection refused")

    monkeypatch.setattr(send_batches.pacing, "sms_wait", redis_down)
    with queued_gateway.app.app_context():
        outcome = send_batches.start_sms(queued_gateway.app, survey_ids)

    assert asked == [] and outcome.errors == 3  # the job fails; the sweeper restarts them
    texts = queued_gateway.messages(Message.direction == "outbound")
    assert [(m.status, m.attempts) for m in texts] == [("pending", 0)] * 3


def test_a_chunks_text_a_number_cannot_take_falls_back_to_a_call(
    database_url: str, twilio_api: responses.RequestsMock
) -> None:
    gateway = reach_gateway(
        database_url,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
    )
    landline = NUMBERS[1]
    asked = twilio_answering(twilio_api, {landline: [(400, twilio_error(21614))]})
    calls = twilio_api.post(
        MESSAGES_URL.replace("Messages", "Calls"),
        json={"sid": "CA" + "c" * 32, "status": "queued"},
        status=201,
    )

    batch(gateway, NUMBERS[:3], flow=REACH_FLOW)  # started in-process, as one chunk

    assert sorted(asked) == NUMBERS[:3] and calls.call_count == 1
    surveys = {s.contact: s for s in gateway.rows(Survey)}
    assert (surveys[landline].channel, surveys[landline].status) == ("voice", "sent")
    assert {surveys[n].status for n in (NUMBERS[0], NUMBERS[2])} == {"sent"}
    db_of(gateway.app).dispose()


def _texted(app: Flask) -> list[str]:
    with db_of(app).session() as session:
        return list(
            session.scalars(sa.select(Message.survey_id).where(Message.provider_sid.is_not(None)))
        )


def test_a_text_a_dead_worker_held_is_recorded_from_twilios_list_not_sent_again(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    asked = twilio_answering(twilio_api, {})
    survey_ids = batch(queued_gateway, NUMBERS[:2])
    app = queued_gateway.app
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    send_batches.begin_part(app, survey_ids)  # started and claimed, then the worker died
    with db_of(app).session() as session:
        session.execute(sa.update(Message).values(updated_at=long_ago))
    (held,) = queued_gateway.outbound(survey_ids[0])
    assert held.status == "claimed"
    went_out = {"sid": "SM" + "7" * 32, "to": NUMBERS[0], "body": held.body, "status": "sent"}

    def messages_list(request: Any) -> tuple[int, dict[str, str], str]:
        to = parse_qs(urlsplit(request.url).query)["To"][0]
        page = {"messages": [went_out] if to == NUMBERS[0] else [], "next_page_uri": None}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    twilio_api.add_callback(responses.GET, MESSAGES_URL, callback=messages_list)

    with app.app_context():
        outcome = send_batches.send_pending(app, survey_ids)

    assert outcome.sent == 2
    assert asked == [NUMBERS[1]]  # the first had gone out before the worker died
    (found,) = queued_gateway.outbound(survey_ids[0])
    assert (found.status, found.provider_sid) == ("sent", "SM" + "7" * 32)


def test_a_chunk_holds_a_number_in_its_night_and_texts_one_in_its_day(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = Path(__file__).resolve().parents[1] / "support" / "flows"
    gateway = make_gateway(database_url, flows_dir=flows, quiet_hours=True)
    now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in Washington, 05:00 in Honolulu
    for module in (quiet_hours, job_queue, starters, texts, sweeper, send_batches):
        monkeypatch.setattr(module, "utcnow", lambda: now)
    washington, honolulu = "+12025550140", "+18085550140"

    batch(gateway, [washington, honolulu], flow="follow-up")  # started in-process

    surveys = {s.contact: s for s in gateway.rows(Survey)}
    assert surveys[washington].status == "sent"
    assert (surveys[honolulu].status, surveys[honolulu].send_at) == (
        "scheduled",
        datetime(2026, 11, 25, 18, 0, tzinfo=UTC),  # 08:00 in Honolulu
    )
    assert [m.to_addr for m in gateway.messages(Message.direction == "outbound")] == [washington]
    db_of(gateway.app).dispose()


def test_claiming_a_chunk_skips_texts_another_worker_holds(queued_gateway: Gateway) -> None:
    survey_ids = batch(queued_gateway, NUMBERS[:3])
    app = queued_gateway.app
    with app.app_context():
        _held, first = send_batches.begin_part(app, survey_ids)
    now = datetime.now(UTC)
    with db_of(app).session() as session:
        again = send_claims.claim_many(
            session, survey_ids, now=now, stale_before=now - timedelta(minutes=5)
        )
    assert len(first) == 3 and again == []


RATE = 4.0  # segments a second
JITTER = 0.75  # seconds between a grant and the double's stamp, on a loaded machine


@pytest.fixture
def postgres_gateway(
    migrated_postgres_url: str, queue_prefix: str, redis: Redis
) -> Iterator[Gateway]:
    gw = make_gateway(migrated_postgres_url, redis_url=REDIS_TEST_URL, queue_prefix=queue_prefix)
    yield gw
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()
    empty_tables(migrated_postgres_url)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_sending_chunks_together_stay_within_the_senders_rate(
    postgres_gateway: Gateway, migrated_postgres_url: str, queue_prefix: str, tmp_path: Path
) -> None:
    numbers = [f"+1202555{n:04d}" for n in range(16)]
    batch(postgres_gateway, numbers)
    double = TwilioDouble()
    env = {
        "DATABASE_URL": migrated_postgres_url,
        "REDIS_URL": REDIS_TEST_URL,
        "QUEUE_PREFIX": queue_prefix,
        "FLOWS_DIR": str(FLOWS),
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": "AC" + "4" * 32,
        "TWILIO_AUTH_TOKEN": "auth-token",
        "TWILIO_PHONE_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": double.url,
        "SMS_SEGMENTS_PER_SECOND": str(RATE),
        "GATEWAY_ENV": "test",
    }
    try:
        with workers(env, 2, tmp_path):
            wait_for(lambda: len(double.delivered()) >= len(numbers), 60, "every text")
        sent = double.delivered()
    finally:
        double.close()

    assert sorted(r.to for r in sent) == numbers  # each respondent texted once
    for first in range(len(sent)):  # no stretch holds more than the rate and one burst
        for last in range(first, len(sent)):
            segments = sum(sms_segments(r.body).segments for r in sent[first : last + 1])
            elapsed = sent[last].at - sent[first].at
            assert segments <= RATE * (elapsed + JITTER) + RATE, (first, last, segments)
