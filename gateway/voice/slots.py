"""Concurrent-call slots: at most ``MAX_CONCURRENT_CALLS`` survey calls in progress per
sender, shared by every worker through Redis.

A sender's slots are a sorted set in Redis: one member per call in progress (the survey
it surveys), scored with the moment its lease runs out. A start job takes a slot before
it asks Twilio to place a call (:func:`take`); the call's final status callback
(``/twilio/voice/status``: completed, busy, no-answer, failed, canceled) gives it back
(:func:`release_after_status`), and so does a call Twilio would not place. A callback
that never comes (lost, or the gateway was down) cannot keep a slot for ever: a lease runs
out after ``CALL_SLOT_LEASE`` seconds (default 30 minutes, longer than a survey call), and
an expired lease is swept by the next :func:`take`. Both are one Lua script each, timed by
Redis's own clock, so workers on different hosts agree.

A start that finds no free slot does not wait holding its worker: the job is enqueued
again :data:`WAIT` seconds later (:func:`gateway.sending.starters.start_voice`); the
survey stays ``queued`` and is never dropped. Without Redis, or with
``MAX_CONCURRENT_CALLS`` 0, calls are not limited.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask
from redis import Redis

from config.settings import Settings
from gateway.store.db import db_of
from gateway.store.models import Message

log = logging.getLogger(__name__)

#: Seconds before a start that found every slot taken tries again.
WAIT = 10.0
#: Call statuses after which the call holds no line.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

# KEYS[1]: the sender's slots. ARGV: holder, limit, lease (seconds).
# Returns 1 when the holder has a slot (taken now, or held already: its lease renewed).
TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lease = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000) + 1000)
  return 1
end
return 0
"""

# KEYS[1]: the sender's slots. Returns the number of slots held, expired leases left out.
HELD = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


class CallSlots:
    """A sender's call slots in Redis: at most ``limit`` held at once, each for at most
    ``lease`` seconds unless given back sooner."""

    def __init__(self, redis: Redis, key: str, limit: int, lease: float) -> None:
        if limit < 1:
            raise ValueError(f"a call limit must be 1 or more, not {limit}")
        if lease <= 0:
            raise ValueError(f"a slot's lease must be positive, not {lease}")
        self.redis = redis
        self.key = key
        self.limit = limit
        self.lease = lease
        self._take = redis.register_script(TAKE)
        self._held = redis.register_script(HELD)

    def take(self, holder: str) -> bool:
        """Take a slot for ``holder`` (True), or find them all taken (False)."""
        taken: Any = self._take(keys=[self.key], args=[holder, self.limit, self.lease])
        return bool(int(taken))

    def release(self, holder: str) -> bool:
        """Give back ``holder``'s slot; False when it held none (already given back)."""
        return bool(self.redis.zrem(self.key, holder))

    def held(self) -> int:
        count: Any = self._held(keys=[self.key])
        return int(count)


def slots_key(settings: Settings, sender: str | None) -> str:
    return f"{settings.queue_prefix}gateway-call-slots:{sender or 'default'}"


def slots_of(app: Flask) -> CallSlots | None:
    """The app's sender's call slots; None when calls are not limited."""
    settings: Settings = app.extensions["settings"]
    if not settings.redis_url or settings.max_concurrent_calls <= 0:
        return None
    redis: Redis = app.extensions.setdefault("redis", Redis.from_url(settings.redis_url))
    return CallSlots(
        redis,
        slots_key(settings, settings.twilio_phone_number),
        settings.max_concurrent_calls,
        settings.call_slot_lease,
    )


def take(app: Flask, survey_id: str) -> bool:
    """Take a slot for the survey's call; True also when calls are not limited."""
    slots = slots_of(app)
    return slots is None or slots.take(survey_id)


def release(app: Flask, survey_id: str) -> None:
    """Give back the survey's slot (its call ended, or was never placed)."""
    slots = slots_of(app)
    if slots is not None:
        slots.release(survey_id)


def release_after_status(app: Flask, call_sid: str, status: str) -> None:
    """After a call's status callback: give its slot back when the call has ended."""
    slots = slots_of(app)
    if slots is None or status not in FINAL_STATUSES or not call_sid:
        return
    with db_of(app).session() as session:
        survey_id = session.scalar(
            sa.select(Message.survey_id).where(
                Message.provider_sid == call_sid, Message.direction == "outbound"
            )
        )
    if survey_id is not None and slots.release(survey_id):
        log.info("survey %s: call %s ended (%s); its slot is free", survey_id, call_sid, status)
