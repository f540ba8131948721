"""Twilio failing for a while (5xx answers, no answer at all): the text is retried with
backoff and reaches the respondent exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from gateway import jobs
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from tests.conftest import REDIS_TEST_URL
from tests.ops.twilio_double import TwilioDouble
from tests.sms.support import Gateway, make_gateway

pytestmark = [pytest.mark.faults, pytest.mark.redis]

ACCOUNT = "AC" + "9" * 32
TO = "+12025550191"


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble(hang=11.0)  # past the Twilio client's 10-second timeout
    yield server
    server.close()


@pytest.fixture
def gateway(
    database_url: str, queue_prefix: str, double: TwilioDouble, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gateway]:
    monkeypatch.setattr(jobs, "RETRY_INTERVALS", [0])  # the backoff's length is not tested here
    gw = make_gateway(
        database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
        twilio_api_base_url=double.url,
        sms_segments_per_second=0,
    )
    yield gw
    connection = Redis.from_url(REDIS_TEST_URL)
    for key in connection.scan_iter(f"*{queue_prefix}*"):
        connection.delete(key)
    connection.close()
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()


def test_server_errors_are_retried_and_the_text_arrives_once(
    gateway: Gateway, double: TwilioDouble
) -> None:
    double.failures += [500, 503]
    survey_id = gateway.trigger(to=TO)["id"]
    jobs.run_worker(gateway.app, burst=True)

    assert [r.answered for r in double.received] == [500, 503, 201]
    assert [r.to for r in double.delivered()] == [TO]
    (opening,) = gateway.messages(Message.direction == "outbound")
    assert (opening.status, opening.attempts) == ("queued", 3)
    assert gateway.rows(Survey, Survey.id == survey_id)[0].status == "sent"


@pytest.mark.slow
def test_a_send_that_times_out_is_retried_and_the_text_arrives_once(
    gateway: Gateway, double: TwilioDouble
) -> None:
    double.failures.append("timeout")
    gateway.trigger(to=TO)
    jobs.run_worker(gateway.app, burst=True)

    assert [r.to for r in double.delivered()] == [TO]
    (opening,) = gateway.messages(Message.direction == "outbound")
    assert opening.error_code is None and opening.attempts == 2


def test_the_backoff_between_attempts_grows() -> None:
    assert jobs.RETRY_INTERVALS == sorted(jobs.RETRY_INTERVALS)
    assert len(set(jobs.RETRY_INTERVALS)) == len(jobs.RETRY_INTERVALS) >= 3
