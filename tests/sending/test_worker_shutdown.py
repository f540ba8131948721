"""`gateway worker` stops gracefully on SIGTERM: the job it holds runs to its end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus

from config.settings import Settings
from gateway.services.queue import queue_name
from tests.conftest import REDIS_TEST_URL, ROOT, SHIPPED_FLOWS
from tests.support.slow_jobs import slow_job

pytestmark = [pytest.mark.redis, pytest.mark.slow]

GATEWAY = Path(sys.executable).parent / "gateway"


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_told_to_stop_finishes_its_current_job_first(
    tmp_path: Path, queue_prefix: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "REDIS_URL": REDIS_TEST_URL,
        "QUEUE_PREFIX": queue_prefix,
        "FLOWS_DIR": str(SHIPPED_FLOWS),
        "SECRET_KEY": "test-secret-key",
        "PYTHONPATH": str(ROOT),  # the worker imports the test's job by its dotted path
    }
    settings = Settings(redis_url=REDIS_TEST_URL, queue_prefix=queue_prefix)
    connection = Redis.from_url(REDIS_TEST_URL)
    queue = Queue(queue_name(settings), connection=connection)
    marker = tmp_path / "marker"
    job = queue.enqueue(slow_job, str(marker), 3.0)
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen([str(GATEWAY), "worker"], cwd=ROOT, env=env, stderr=stderr)
        try:
            wait_for(lambda: marker.exists(), 30, "the job to start")
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            connection.close()

    assert worker.returncode == 0, log.read_text()
    assert marker.read_text() == "finished"
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == "done"
