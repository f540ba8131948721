"""Signed links and the public entry's rate limiter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from gateway.http.fixed_window import MemoryRateLimiter, RedisRateLimiter
from gateway.surveys.links import LinkError, LinkSigner
from tests.conftest import REDIS_TEST_URL

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_a_link_names_its_survey_and_answer() -> None:
    signer = LinkSigner("secret")
    token = signer.make("answer", "sv_1", NOW + timedelta(hours=1), question_id="q", value="5")
    link = signer.read("answer", token, NOW)
    assert (link.survey_id, link.question_id, link.value) == ("sv_1", "q", "5")


def test_a_link_made_for_one_purpose_is_refused_for_another() -> None:
    signer = LinkSigner("secret")
    token = signer.make("unsubscribe", "sv_1", None)
    with pytest.raises(LinkError) as caught:
        signer.read("survey", token, NOW)
    assert caught.value.reason == "invalid"


def test_a_link_signed_with_another_key_is_refused() -> None:
    token = LinkSigner("other").make("survey", "sv_1", None)
    with pytest.raises(LinkError):
        LinkSigner("secret").read("survey", token, NOW)


def test_a_link_is_refused_once_its_survey_expires() -> None:
    signer = LinkSigner("secret")
    token = signer.make("survey", "sv_1", NOW)
    with pytest.raises(LinkError) as caught:
        signer.read("survey", token, NOW)
    assert caught.value.reason == "expired"


def test_an_unsubscribe_link_outlives_its_survey() -> None:
    signer = LinkSigner("secret")
    token = signer.make("unsubscribe", "sv_1", NOW)
    assert signer.read("unsubscribe", token, NOW + timedelta(days=30)).survey_id == "sv_1"


def test_the_memory_limiter_refuses_past_the_limit_until_the_window_ends() -> None:
    clock = [1000.0]
    limiter = MemoryRateLimiter(2, 60, clock=lambda: clock[0])
    assert [limiter.hit("a"), limiter.hit("a")] == [None, None]
    assert limiter.hit("a") == 20  # the window 960..1020 ends in 20 s
    assert limiter.hit("b") is None
    clock[0] = 1021.0
    assert limiter.hit("a") is None


@pytest.mark.redis
def test_the_redis_limiter_is_shared_by_every_instance(queue_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    first = RedisRateLimiter(client, 2, 60, prefix=queue_prefix)
    second = RedisRateLimiter(client, 2, 60, prefix=queue_prefix)
    try:
        assert first.hit("ip") is None
        assert second.hit("ip") is None
        retry = first.hit("ip")
        assert retry is not None and 1 <= retry <= 60
    finally:
        for key in client.scan_iter(f"{queue_prefix}*"):
            client.delete(key)
        client.close()
