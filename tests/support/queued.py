from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from redis import Redis

from gateway.services import queue
from gateway.store.db import db_of
from tests.conftest import REDIS_TEST_URL
from tests.sms.support import Gateway, make_gateway

ACCOUNT = "AC" + "5" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


@pytest.fixture
def redis(queue_prefix: str) -> Iterator[Redis]:
    connection = Redis.from_url(REDIS_TEST_URL)
    yield connection
    for key in connection.scan_iter(f"*{queue_prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def twilio_api() -> Iterator[responses.RequestsMock]:
    """Twilio's REST API at the HTTP boundary; any request not registered fails loudly."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def queued_gateway(
    database_url: str, queue_prefix: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gateway]:
    """A gateway whose jobs go through rq on real Redis, sending through Twilio's API."""
    monkeypatch.setattr(queue, "RETRY_INTERVALS", [0])
    gw = make_gateway(
        database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
        sms_segments_per_second=0,  # pacing has its own tests (tests/sending/test_pacing.py)
    )
    yield gw
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()


def created(sid_suffix: str = "6") -> dict[str, str]:
    return {"sid": "SM" + sid_suffix * 32, "status": "queued", "account_sid": ACCOUNT}


def twilio_error(code: int) -> dict[str, object]:
    return {"code": code, "message": f"error {code}", "status": 400}
