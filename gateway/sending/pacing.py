"""Send pacing: per-sender rate limits shared by every worker, through Redis.

A carrier accepts so many SMS segments a second from one number (1 for a US long code,
more for a toll-free number or a short code), and Twilio so many calls a second from one
account. Each limit is a token bucket kept in Redis and updated by one Lua script, so
every worker on every host draws from the same bucket, timed by Redis's own clock.

A send job asks the bucket before each text (:func:`sms_wait`, costing the text's
segments). When the bucket is short, the job does not wait holding its worker: the text
goes back to pending and the job is enqueued again for when the bucket will have
refilled (:func:`gateway.sending.texts.send_claimed`). Short waits (under :data:`MAX_INLINE_WAIT`)
are slept through.
Without Redis (jobs inside the web process) there is nothing to share and no pacing.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from redis import Redis

from config.settings import Settings
from gateway.flows.segments import sms_segments
from gateway.services import queue

#: Waits this short are slept through: re-enqueueing would cost more than the wait.
MAX_INLINE_WAIT = 0.25

# KEYS[1]: the bucket. ARGV: rate (tokens a second), capacity, cost.
# Returns 0 when the tokens were taken, else the seconds until they will be there.
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class Bucket:
    """A token bucket in Redis: ``rate`` tokens a second, holding at most ``capacity``."""

    def __init__(self, redis: Redis, key: str, rate: float, capacity: float | None = None):
        if rate <= 0:
            raise ValueError(f"a rate must be positive, not {rate}")
        self.key = key
        self.rate = rate
        self.capacity = max(capacity if capacity is not None else rate, 1.0)
        self._script = redis.register_script(TOKEN_BUCKET)

    def take(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens: 0.0 when taken, else seconds to wait (nothing taken).

        A cost above the capacity (a long text on a slow number) is taken once the bucket
        is full, so that it waits its turn instead of forever.
        """
        cost = min(cost, self.capacity)
        wait: Any = self._script(keys=[self.key], args=[self.rate, self.capacity, cost])
        return float(wait)


def _redis(app: Flask) -> Redis | None:
    settings: Settings = app.extensions["settings"]
    if not settings.redis_url:
        return None
    return queue.redis_of(app)


def bucket_key(settings: Settings, kind: str, sender: str) -> str:
    return f"{settings.queue_prefix}gateway-pace:{kind}:{sender}"


def sms_wait(app: Flask, sender: str | None, body: str) -> float:
    """Seconds before ``sender`` may send ``body`` (0.0: go ahead, the segments are taken)."""
    redis = _redis(app)
    settings: Settings = app.extensions["settings"]
    if redis is None or settings.sms_segments_per_second <= 0:
        return 0.0
    key = bucket_key(settings, "sms", sender or "default")
    segments = max(sms_segments(body).segments, 1)
    return _take(Bucket(redis, key, settings.sms_segments_per_second), segments)


def call_wait(app: Flask, sender: str | None) -> float:
    """Seconds before another call may be placed from ``sender`` (0.0: go ahead)."""
    redis = _redis(app)
    settings: Settings = app.extensions["settings"]
    if redis is None or settings.calls_per_second <= 0:
        return 0.0
    key = bucket_key(settings, "calls", sender or "default")
    return _take(Bucket(redis, key, settings.calls_per_second), 1)


def _take(bucket: Bucket, cost: float) -> float:
    wait = bucket.take(cost)
    while 0 < wait <= MAX_INLINE_WAIT:
        time.sleep(wait)
        wait = bucket.take(cost)
    return wait
