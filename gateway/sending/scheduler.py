"""rq's scheduler run as a thread of the worker process, not as a forked child.

rq forks its scheduler into a process of its own, which outlives a worker killed with
SIGKILL (a lost host, an out-of-memory kill) and goes on holding the queues' scheduler
lock with nothing to supervise it. Run in a thread, the scheduler dies with its worker:
the lock it held expires (its time to live is the scheduler's interval and a minute) and
another worker's scheduler takes the queues over. A worker stopped in order releases the
lock at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from redis import Redis
from rq import Queue
from rq.scheduler import RQScheduler

log = logging.getLogger(__name__)


class SchedulerThread(threading.Thread):
    """Moves the queues' due scheduled jobs (``send_at``, retries) onto their queues, once
    per ``interval`` seconds (whole seconds: Redis expiries are), while this worker holds
    their scheduler lock."""

    def __init__(self, queues: Sequence[Queue], connection: Redis, interval: int = 1) -> None:
        super().__init__(name="rq-scheduler", daemon=True)
        self.scheduler = RQScheduler(
            list(queues),
            connection=connection,
            interval=interval,
            logging_level=logging.getLogger("rq.scheduler").getEffectiveLevel(),
        )
        self._stopping = threading.Event()

    def run(self) -> None:
        scheduler = self.scheduler
        try:
            while not self._stopping.is_set():
                try:
                    if scheduler.pid == 0:
                        scheduler.register_birth()
                    if scheduler.should_reacquire_locks:
                        scheduler.acquire_locks()
                    scheduler.heartbeat()
                    scheduler.enqueue_scheduled_jobs()
                except Exception:  # a Redis outage: try again on the next tick
                    log.exception("the scheduler tick failed; trying again")
                self._stopping.wait(scheduler.interval)
        finally:
            try:
                scheduler.release_locks()
                scheduler.register_death()
            except Exception:  # Redis gone: the lock expires by itself
                log.warning("the scheduler could not release its lock; it will expire")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current tick and release the lock."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)
