"""Redis down: a trigger is still accepted, and sent exactly once when Redis is back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.sending.sweeper import STALE_QUEUED, sweep
from gateway.sending.worker import run_worker
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from tests.faults.private_redis import PrivateRedis
from tests.sms.support import Gateway, make_gateway
from tests.support.twilio_double import TwilioDouble

pytestmark = [pytest.mark.faults, pytest.mark.redis]

ACCOUNT = "AC" + "8" * 32
TO = "+12025550177"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble()
    yield server
    server.close()


@pytest.fixture
def gateway(
    database_url: str, redis_server: PrivateRedis, double: TwilioDouble
) -> Iterator[Gateway]:
    gw = make_gateway(
        database_url,
        redis_url=redis_server.url,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
        twilio_api_base_url=double.url,
    )
    yield gw
    connection = gw.app.extensions.get("redis")
    if connection is not None:
        connection.close()
    db_of(gw.app).dispose()


def test_a_trigger_while_redis_is_down_is_accepted_and_sent_once_it_is_back(
    gateway: Gateway, redis_server: PrivateRedis, double: TwilioDouble
) -> None:
    redis_server.stop()
    accepted = gateway.trigger(to=TO)
    assert accepted["status"] == "queued"

    redis_server.start()
    gateway.app.extensions["redis"].connection_pool.disconnect()
    # The workers' sweeper finds the committed survey no job holds (past its grace).
    swept = sweep(gateway.app, now=utcnow() + STALE_QUEUED + timedelta(seconds=1))
    assert swept.started == [accepted["id"]]
    run_worker(gateway.app, burst=True)
    sweep(gateway.app, now=utcnow() + STALE_QUEUED + timedelta(seconds=1))
    run_worker(gateway.app, burst=True)

    assert [r.to for r in double.delivered()] == [TO]
    (survey,) = gateway.rows(Survey)
    assert survey.status == "sent"
