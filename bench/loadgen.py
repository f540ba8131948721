"""Shared by the webhook benchmarks: a throwaway PostgreSQL database, gunicorn servers, and
``wrk`` replaying pre-signed Twilio posts (bench/replay.lua).

The load generator is wrk (one event-loop thread in C, ``apt-get install wrk``), not Python
threads: Python clients on the same two cores capped even a bare Flask endpoint at a few
hundred requests per second, so the ratio measured the client. Every request body and its
``X-Twilio-Signature`` are computed before the run, for ``PUBLIC_BASE_URL`` + path, so wrk
only sends bytes. Loopback only; every run is bounded in time; servers and the database are
removed when the benchmark ends, also when it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: The public URL requests are signed for; the servers listen on loopback only.
PUBLIC = "https://bench.example.gov"
LUA = ROOT / "bench" / "replay.lua"


def gateway_env(database_url: str, flows_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a benchmark's gateway runs under: ``database_url``, the flows of
    ``flows_dir``, requests signed for :data:`PUBLIC`, jobs in-process, delivery
    simulated (no Twilio account); ``extra`` adds or replaces variables."""
    return {
        "DATABASE_URL": database_url,
        "FLOWS_DIR": str(flows_dir),
        "PUBLIC_BASE_URL": PUBLIC,
        "SECRET_KEY": "bench",
        "GATEWAY_ENV": "development",
        "REDIS_URL": "",
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        **extra,
    }


def deployed(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the deployed gunicorn config file (config/gunicorn.conf.py: its hooks,
    keep-alive and socket per worker); the command line's workers, bind and timeout take
    precedence over the file's."""
    return {**env, "GUNICORN_CMD_ARGS": f"--config {ROOT / 'config/gunicorn.conf.py'}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, dropped afterwards; yields its URL."""
    sys.path.insert(0, str(ROOT))
    from gateway.store.db import upgrade  # noqa: PLC0415 - the bench runs from a checkout

    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Workers:
    """How gunicorn serves an app: worker processes, their class, threads per worker."""

    count: int = 2
    worker_class: str = "sync"
    threads: int = 1

    def __str__(self) -> str:
        threads = f" x {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"{self.count} {self.worker_class} workers{threads}"


#: The issue's baseline: bench/bare_app.py on two sync workers.
BARE = Workers()


def configured_workers() -> Workers:
    """The worker settings of config/gunicorn.conf.py (the Procfile's web process)."""
    conf = runpy.run_path(str(ROOT / "config/gunicorn.conf.py"))
    return Workers(
        count=int(conf["workers"]),
        worker_class=str(conf["worker_class"]),
        threads=int(conf.get("threads", 1)),
    )


def add_worker_flags(parser: argparse.ArgumentParser) -> None:
    """``--gateway-workers/--gateway-worker-class/--gateway-threads`` (defaults: the
    gateway's own gunicorn config) and ``--bare-as-gateway``."""
    default = configured_workers()
    parser.add_argument("--gateway-workers", type=int, default=default.count)
    parser.add_argument(
        "--gateway-worker-class", choices=["sync", "gthread"], default=default.worker_class
    )
    parser.add_argument("--gateway-threads", type=int, default=default.threads)
    parser.add_argument(
        "--bare-as-gateway",
        action="store_true",
        help="also measure the bare endpoint under the gateway's worker settings",
    )


def gateway_workers(args: argparse.Namespace) -> Workers:
    return Workers(args.gateway_workers, args.gateway_worker_class, args.gateway_threads)


@contextmanager
def gunicorn(
    target: str, env: Mapping[str, str], log: Path, workers: Workers = BARE
) -> Iterator[str]:
    """``target`` served by gunicorn (``workers``) on loopback; yields its URL.

    The server's output (one line per request) goes to ``log``, not the terminal.
    """
    port = free_port()
    output = log.open("ab")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers.count),
            "--worker-class",
            workers.worker_class,
            "--threads",
            str(workers.threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break  # it answers: a 404 is an answer
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {target} did not start; see {log}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        output.close()


def write_requests(
    path: Path, posts: Iterable[tuple[str, Mapping[str, str]]], auth_token: str
) -> int:
    """Write one signed line per (path with query, form) for replay.lua; returns the count."""
    validator = RequestValidator(auth_token)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for target, form in posts:
            signature = validator.compute_signature(PUBLIC + target, dict(form))
            out.write(f"{target}\t{signature}\t{urlencode(form)}\n")
            count += 1
    return count


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def wrk(
    url: str,
    requests_file: Path,
    *,
    connections: int,
    seconds: int,
    cpu: int | None = None,
    available: int | None = None,
) -> Run:
    """One bounded wrk run replaying ``requests_file`` over ``connections`` connections.

    ``available`` (the number of lines) guards runs that must not replay a line twice.
    """
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(LUA),
        url,
        "--",
        str(requests_file),
        url.removeprefix("http://"),
    ]
    if cpu is not None:
        command = ["taskset", "--cpu-list", str(cpu), *command]
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=seconds + 60
    ).stdout
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    if available is not None and data["requests"] > available:
        raise SystemExit(
            f"wrk sent {data['requests']} requests but only {available} distinct ones were "
            "prepared: raise the number of respondents or calls"
        )
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["status_errors"] + data["socket_errors"] + data["timeouts"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


@dataclass(frozen=True)
class Summary:
    """The median of each figure over several runs, taken separately."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def median_of(runs: list[Run]) -> Summary:
    return Summary(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )


def row(name: str, run: Run | Summary) -> str:
    return (
        f"  {name:10} {run.rps:8.0f} req/s  median {run.p50_ms:7.1f} ms  "
        f"p99 {run.p99_ms:7.1f} ms  errors {run.errors}"
    )


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="gw-bench-")
