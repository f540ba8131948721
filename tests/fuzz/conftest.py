"""The fuzz targets run against the production setup: PostgreSQL (where a NUL cannot be
stored) and jobs through rq on real Redis, with Twilio's API accepting everything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from redis import Redis

from gateway.services import queue
from gateway.store.db import db_of, make_engine
from gateway.store.models import Base
from tests.conftest import REDIS_TEST_URL
from tests.fuzz.support import HOOKS, Tally, answer_every_twilio_request, tally_for
from tests.sms.support import GATEWAY_NUMBER, Gateway, make_gateway
from tests.support.queued import ACCOUNT


@pytest.fixture
def database_url(migrated_postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied after each target."""
    yield migrated_postgres_url
    engine = make_engine(migrated_postgres_url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def gateway(
    database_url: str,
    queue_prefix: str,
    redis: Redis,
    twilio_api: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Gateway]:
    """A gateway on PostgreSQL whose jobs go through rq on Redis, sending through a Twilio
    API that accepts every text and call, unpaced (pacing has its own tests), so that every
    job due is run by one pass of the worker."""
    monkeypatch.setattr(queue, "RETRY_INTERVALS", [0])
    answer_every_twilio_request(twilio_api)
    gw = make_gateway(
        database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="auth-token",
        twilio_phone_number=GATEWAY_NUMBER,
        sms_segments_per_second=0,
        calls_per_second=0,
        outbound_allowlist=(HOOKS + ":443",),
    )
    # Rate limits have their own tests; here they would answer 429 to most of a long run.
    gw.app.config.update(API_RATE_LIMIT=10**9, PUBLIC_RATE_LIMIT=10**9)
    yield gw
    if "redis" in gw.app.extensions:
        gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """The cases this target tries, written to .cache/fuzz/<test name>.json."""
    yield from tally_for(request.node.name.removeprefix("test_"))
