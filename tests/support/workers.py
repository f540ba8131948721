"""Real `gateway worker` subprocesses for tests, with the environment a deployment sets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from gateway.store.db import make_engine
from gateway.store.models import Base
from tests.conftest import ROOT

GATEWAY = Path(sys.executable).parent / "gateway"


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def workers(
    env: dict[str, str], count: int, log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` workers, stopped (SIGTERM, then SIGKILL) when the block ends."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    started: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for n in range(count):
            log = (log_dir / f"worker-{n}.log").open("wb")
            logs.append(log)
            started.append(
                subprocess.Popen([str(GATEWAY), "worker"], cwd=ROOT, env=full_env, stderr=log)
            )
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def empty_tables(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
