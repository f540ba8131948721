"""The gateway the Twilio fault tests drive: real Redis, and Twilio's REST API played by a
local double (each test module's ``double`` fixture says how it misbehaves)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from gateway.store.db import db_of
from tests.conftest import REDIS_TEST_URL
from tests.sms.support import Gateway, make_gateway
from tests.support.twilio_double import TwilioDouble

ACCOUNT = "AC" + "9" * 32


@pytest.fixture
def gateway(database_url: str, queue_prefix: str, double: TwilioDouble) -> Iterator[Gateway]:
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
