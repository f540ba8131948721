"""rq's scheduler lives and dies with `gateway worker`: killed with SIGKILL, the worker
leaves no scheduler process behind holding the queues' scheduler lock; stopped in order,
it releases the lock; and the scheduler still moves due jobs onto their queues."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.scheduler import RQScheduler

from config.settings import Settings
from gateway.sending.scheduler import SchedulerThread
from gateway.services.queue import queue_name
from tests.conftest import REDIS_TEST_URL, ROOT, SHIPPED_FLOWS
from tests.sending.test_worker_shutdown import GATEWAY, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped by anyone is a zombie: dead all the same.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def scheduler_pid(connection: Redis, queue: str) -> int | None:
    """The process id of the scheduler holding ``queue``'s scheduler lock."""
    holder = connection.get(RQScheduler.get_locking_key(queue))
    if holder is None:
        return None
    pid = connection.hget(f"rq:scheduler:{holder.decode()}", "pid")
    return int(pid) if pid else None


def test_a_killed_worker_leaves_no_scheduler_holding_the_lock(
    tmp_path: Path, queue_prefix: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "REDIS_URL": REDIS_TEST_URL,
        "QUEUE_PREFIX": queue_prefix,
        "FLOWS_DIR": str(SHIPPED_FLOWS),
        "SECRET_KEY": "test-secret-key",
        "PYTHONPATH": str(ROOT),
    }
    name = queue_name(Settings(redis_url=REDIS_TEST_URL, queue_prefix=queue_prefix))
    connection = Redis.from_url(REDIS_TEST_URL)
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen([str(GATEWAY), "worker"], cwd=ROOT, env=env, stderr=stderr)
        try:
            wait_for(lambda: scheduler_pid(connection, name), 30, "the scheduler lock")
            holder = scheduler_pid(connection, name)
            assert holder is not None
            survivors = children(worker.pid)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            wait_for(lambda: not alive(holder), 5, "the lock holder to be gone")
            assert not any(alive(pid) for pid in survivors), log.read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            connection.close()
    assert holder == worker.pid  # the scheduler ran in the worker itself


def test_the_scheduler_thread_moves_due_jobs_and_releases_its_lock(queue_prefix: str) -> None:
    connection = Redis.from_url(REDIS_TEST_URL)
    queue = Queue(f"{queue_prefix}gateway-send", connection=connection)
    job = queue.enqueue_in(timedelta(seconds=1), "os.getcwd")
    scheduler = SchedulerThread([queue], connection, interval=1)
    scheduler.start()
    try:
        wait_for(lambda: job.id in queue.job_ids, 15, "the scheduled job to be queued")
        assert scheduler_pid(connection, queue.name) == os.getpid()
    finally:
        scheduler.stop()
    assert connection.get(RQScheduler.get_locking_key(queue.name)) is None
    queue.empty()
    connection.close()
