"""MAX_CONCURRENT_CALLS: survey calls in progress per sender, limited through Redis for
every worker, a slot given back by the call's final status callback or when its lease
runs out; a call that finds no slot waits in the queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from channels.base import DeliveryError
from channels.voice import SimulatedCalls
from gateway.sending.worker import run_worker
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.voice import slots as call_slots
from gateway.voice.slots import CallSlots
from tests.conftest import REDIS_TEST_URL
from tests.sms.support import FLOWS, PUBLIC_BASE_URL, Gateway, make_gateway
from tests.support.twilio_double import TwilioDouble
from tests.support.workers import empty_tables, wait_for, workers

pytestmark = pytest.mark.redis

NUMBERS = [f"+1202555{n:04d}" for n in range(5)]
LIMIT = 2


def test_slots_are_taken_up_to_the_limit_and_a_released_one_is_taken_again(
    redis: Redis, queue_prefix: str
) -> None:
    slots = CallSlots(redis, f"{queue_prefix}slots", limit=2, lease=60)
    assert slots.take("a") and slots.take("b")
    assert not slots.take("c")
    assert slots.take("a")  # a holder asking again keeps its slot
    assert slots.release("a") and not slots.release("a")
    assert slots.take("c") and slots.held() == 2


def test_a_slot_whose_callback_never_came_is_free_once_its_lease_runs_out(
    redis: Redis, queue_prefix: str
) -> None:
    slots = CallSlots(redis, f"{queue_prefix}slots", limit=1, lease=0.3)
    assert slots.take("lost-callback")
    assert not slots.take("next")
    time.sleep(0.4)
    assert slots.take("next")


def test_a_limit_below_one_or_a_lease_of_nothing_is_refused(redis: Redis) -> None:
    with pytest.raises(ValueError, match="1 or more"):
        CallSlots(redis, "slots", limit=0, lease=60)
    with pytest.raises(ValueError, match="positive"):
        CallSlots(redis, "slots", limit=1, lease=0)


@pytest.fixture
def voice_gateway(database_url: str, queue_prefix: str, redis: Redis) -> Iterator[Gateway]:
    gw = make_gateway(
        database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
        max_concurrent_calls=LIMIT,
        calls_per_second=0,  # pacing has its own tests
    )
    yield gw
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()


def call_ended(gateway: Gateway, call_sid: str, status: str = "completed") -> None:
    response = gateway.post_signed(
        "/twilio/voice/status",
        {"CallSid": call_sid, "CallStatus": status, "AccountSid": "AC" + "0" * 32},
    )
    assert response.status_code == 204


def test_calls_over_the_limit_wait_queued_and_one_is_placed_when_a_call_ends(
    voice_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_slots, "WAIT", 0.05)
    for to in NUMBERS[:4]:
        voice_gateway.trigger(to=to, channel="voice")
    placer = providers_of(voice_gateway.app).calls
    assert isinstance(placer, SimulatedCalls)

    run_worker(voice_gateway.app, burst=True)
    assert len(placer.placed) == LIMIT
    statuses = sorted(s.status for s in voice_gateway.rows(Survey))
    assert statuses == ["queued", "queued", "sent", "sent"]  # waiting, not dropped

    call_ended(voice_gateway, placer.placed[0].sid, "no-answer")
    time.sleep(0.1)
    run_worker(voice_gateway.app, burst=True)  # the waiting starts come round again
    assert len(placer.placed) == LIMIT + 1
    assert placer.placed[-1].to not in {call.to for call in placer.placed[:LIMIT]}


def test_a_call_twilio_would_not_place_gives_its_slot_back(
    voice_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    placer = providers_of(voice_gateway.app).calls
    assert isinstance(placer, SimulatedCalls)
    voice_gateway.trigger(to=NUMBERS[0], channel="voice")
    voice_gateway.trigger(to=NUMBERS[1], channel="voice")
    with voice_gateway.app.app_context():
        slots = call_slots.slots_of(voice_gateway.app)
    assert slots is not None
    slots.take("a call placed elsewhere")  # one line left

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise DeliveryError("21217", "not a valid number", retryable=False)

    monkeypatch.setattr(placer, "place", refuse)
    run_worker(voice_gateway.app, burst=True)
    assert sorted(s.status for s in voice_gateway.rows(Survey)) == ["failed", "failed"]
    assert slots.held() == 1  # only the call placed elsewhere


# -- two real workers ----------------------------------------------------------------------

ACCOUNT = "AC" + "6" * 32


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble()
    yield server
    server.close()


@pytest.fixture
def shared_gateway(
    migrated_postgres_url: str, queue_prefix: str, redis: Redis
) -> Iterator[Gateway]:
    gw = make_gateway(  # hears the status callbacks; the workers place the calls
        migrated_postgres_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
        twilio_phone_number="+12025550100",
        max_concurrent_calls=LIMIT,
    )
    yield gw
    gw.app.extensions["redis"].close()
    db_of(gw.app).dispose()
    empty_tables(migrated_postgres_url)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_together_never_have_more_calls_in_progress_than_the_limit(
    shared_gateway: Gateway,
    migrated_postgres_url: str,
    queue_prefix: str,
    double: TwilioDouble,
    tmp_path: Path,
) -> None:
    for to in NUMBERS:
        shared_gateway.trigger(to=to, channel="voice")
    env = {
        "DATABASE_URL": migrated_postgres_url,
        "REDIS_URL": REDIS_TEST_URL,
        "QUEUE_PREFIX": queue_prefix,
        "FLOWS_DIR": str(FLOWS),
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "auth-token",
        "TWILIO_PHONE_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": double.url,
        "CALLS_PER_SECOND": "0",
        "MAX_CONCURRENT_CALLS": str(LIMIT),
        "GATEWAY_ENV": "test",
    }
    with workers(env, 2, tmp_path):
        for ended in range(3):  # a call ends, and only then is one more placed
            placed = LIMIT + ended
            wait_for(lambda: len(double.received) >= placed, 30, f"call {placed}")  # noqa: B023
            time.sleep(1.5)  # the waiting starts try again meanwhile
            assert len(double.received) == placed
            call_ended(shared_gateway, double.received[ended].sid)

        wait_for(lambda: len(double.received) == len(NUMBERS), 30, "the last call")
    assert sorted(r.to for r in double.received) == NUMBERS  # each respondent called once
