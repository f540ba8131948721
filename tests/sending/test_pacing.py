"""Send pacing: two workers sharing one sender never exceed its rate together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from gateway.flows.segments import sms_segments
from gateway.sending.pacing import Bucket
from gateway.store.db import db_of
from tests.conftest import REDIS_TEST_URL
from tests.sms.support import FLOWS, PUBLIC_BASE_URL, Gateway, make_gateway
from tests.support.twilio_double import TwilioDouble
from tests.support.workers import empty_tables, wait_for, workers

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

ACCOUNT = "AC" + "7" * 32
RATE = 4.0  # segments a second
SURVEYS = 16
JITTER = 0.75  # seconds between a grant and the double's stamp, on a loaded machine


@pytest.fixture
def redis(queue_prefix: str) -> Iterator[Redis]:
    connection = Redis.from_url(REDIS_TEST_URL)
    yield connection
    for key in connection.scan_iter(f"*{queue_prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble()
    yield server
    server.close()


def worker_env(url: str, prefix: str, double: TwilioDouble, rate: float) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_TEST_URL,
        "QUEUE_PREFIX": prefix,
        "FLOWS_DIR": str(FLOWS),
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "auth-token",
        "TWILIO_PHONE_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": double.url,
        "SMS_SEGMENTS_PER_SECOND": str(rate),
        "GATEWAY_ENV": "test",
    }


@pytest.fixture
def agency_gateway(
    migrated_postgres_url: str, queue_prefix: str, redis: Redis
) -> Iterator[Gateway]:
    gw = make_gateway(migrated_postgres_url, redis_url=REDIS_TEST_URL, queue_prefix=queue_prefix)
    yield gw
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()
    empty_tables(migrated_postgres_url)


def test_two_workers_together_stay_within_the_senders_segment_rate(
    agency_gateway: Gateway,
    migrated_postgres_url: str,
    queue_prefix: str,
    double: TwilioDouble,
    tmp_path: Path,
) -> None:
    numbers = [f"+1202555{n:04d}" for n in range(SURVEYS)]
    for to in numbers:
        agency_gateway.trigger(to=to)
    env = worker_env(migrated_postgres_url, queue_prefix, double, RATE)
    with workers(env, 2, tmp_path):
        wait_for(lambda: len(double.delivered()) >= SURVEYS, 60, f"{SURVEYS} texts")

    sent = double.delivered()
    assert sorted(r.to for r in sent) == numbers  # each respondent texted once
    # In any stretch of time, no more segments than the rate allows plus one second's burst
    # (the bucket's capacity). The double stamps arrival, not the bucket's grant: a text
    # granted early may arrive late, so stretches are widened by that jitter.
    for first in range(len(sent)):
        for last in range(first, len(sent)):
            segments = sum(sms_segments(r.body).segments for r in sent[first : last + 1])
            elapsed = sent[last].at - sent[first].at
            assert segments <= RATE * (elapsed + JITTER) + RATE, (first, last, segments, elapsed)
    total = sum(sms_segments(r.body).segments for r in sent)
    assert sent[-1].at - sent[0].at >= (total - RATE) / RATE - 0.2


def test_a_bucket_refuses_what_it_does_not_hold_and_says_how_long_to_wait(
    redis: Redis, queue_prefix: str
) -> None:
    bucket = Bucket(redis, f"{queue_prefix}bucket", rate=2.0)
    assert bucket.take(2) == 0.0
    wait = bucket.take(1)
    assert 0.4 < wait <= 0.5


def test_a_text_longer_than_the_burst_waits_for_a_full_bucket_instead_of_forever(
    redis: Redis, queue_prefix: str
) -> None:
    bucket = Bucket(redis, f"{queue_prefix}bucket", rate=1.0)
    assert bucket.take(3) == 0.0  # capped at the capacity: a 3-segment text on 1/s
    assert 0.9 < bucket.take(3) <= 1.0
