"""A fixed-window rate limiter for the public survey entry (``/f/<flow>``).

Each visit there creates a survey, so one address may start only so many per window. With
``REDIS_URL`` set the counts live in Redis and every web worker shares them; without it
each process counts for itself, which is enough for a single-process deployment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def hit(self, key: str) -> int | None:
        """Count one request for ``key``: None when allowed, else seconds until the next
        window (for ``Retry-After``)."""
        ...


class MemoryRateLimiter:
    """Counts in this process's memory."""

    def __init__(
        self, limit: int, window_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs a positive limit and window")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count)

    def hit(self, key: str) -> int | None:
        now = self._clock()
        window = int(now // self.window)
        with self._lock:
            if len(self._counts) > 10_000:
                # Forget finished windows so a scan of many addresses cannot grow memory.
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._counts[key] = (window, count)
        if count > self.limit:
            return max(1, int((window + 1) * self.window - now))
        return None


class RedisRateLimiter:
    """Counts in Redis (``INCR`` on a key per window, expiring with the window)."""

    def __init__(
        self,
        client: redis.Redis,
        limit: int,
        window_seconds: int,
        prefix: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs a positive limit and window")
        self.client = client
        self.limit = limit
        self.window = window_seconds
        self.prefix = prefix
        self._clock = clock

    def hit(self, key: str) -> int | None:
        now = self._clock()
        window = int(now // self.window)
        name = f"{self.prefix}ratelimit:{key}:{window}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, self.window + 1)
        try:
            count, _ = pipe.execute()
        except redis.RedisError:
            # Redis down must not take the API down with it (triggers are still accepted
            # and committed; the sweeper queues them): count nothing until it is back.
            log.warning("rate limit not counted: Redis unavailable")
            return None
        if int(count) > self.limit:
            return max(1, int((window + 1) * self.window - now))
        return None


def rate_limiter(
    redis_url: str | None, limit: int, window_seconds: int, prefix: str = ""
) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set, else in memory."""
    if redis_url:
        return RedisRateLimiter(redis.Redis.from_url(redis_url), limit, window_seconds, prefix)
    return MemoryRateLimiter(limit, window_seconds)
