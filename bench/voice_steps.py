"""Voice webhook steps per second and p99 latency under gunicorn (2 sync workers) against
PostgreSQL, at 50 and 200 concurrent calls, as a ratio to a bare Flask endpoint
(bench/bare_app.py) measured in the same run. Loopback only; bounded in count and time.

    .venv/bin/python bench/voice_steps.py [--runs 3] [--calls-per-level 200]

Needs PostgreSQL (TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1/test):
a throwaway database is created, migrated and dropped.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.store.db import upgrade  # noqa: E402
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402
from tests.voice.call_simulator import CallSimulator, SimulatedCall  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
FLOW_URL = "/twilio/voice?flow=call-center-post-call&language=en&agent=Maria&queue=benefits"
LEVELS = (50, 200)
DEADLINE_SECONDS = 120  # per measurement


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(app_spec: str, port: int, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            GUNICORN,
            "-w",
            "2",
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--timeout",
            "30",
            app_spec,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app_spec} did not start on port {port}")


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0


def transport(recorder: Recorder, session: requests.Session):  # type: ignore[no-untyped-def]
    def post(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, str]:
        started = time.perf_counter()
        response = session.post(url, data=dict(form), headers=dict(headers), timeout=30)
        elapsed = time.perf_counter() - started
        with recorder.lock:
            recorder.latencies.append(elapsed)
            if response.status_code not in (200, 204):
                recorder.errors += 1
        return response.status_code, response.text

    return post


def one_call(phone: CallSimulator) -> None:
    """A whole call: dial, three keypad answers, a recording, the hang-up callback."""
    call: SimulatedCall = phone.dial(FLOW_URL)
    call.press("2").press("3").press("4")
    call.record("https://api.twilio.com/Recordings/RE0", 5)


def bare_call(phone: CallSimulator) -> None:
    """The same number of signed posts (six) to the bare endpoint."""
    for n in range(6):
        phone.post(phone.url(f"/twilio/voice/step{n}"), {"CallSid": "CA0", "Digits": "2"})


def measure(base_url: str, concurrency: int, calls: int, bare: bool) -> tuple[float, float, int]:
    """(steps per second, p99 seconds, errors) for ``calls`` calls, ``concurrency`` at once."""
    recorder = Recorder()
    remaining = iter(range(calls))
    take = threading.Lock()
    deadline = time.monotonic() + DEADLINE_SECONDS

    def worker() -> None:
        session = requests.Session()
        phone = CallSimulator(
            transport(recorder, session), auth_token=DEVELOPMENT_AUTH_TOKEN, base_url=base_url
        )
        while time.monotonic() < deadline:
            with take:
                if next(remaining, None) is None:
                    return
            try:
                (bare_call if bare else one_call)(phone)
            except Exception:
                with recorder.lock:
                    recorder.errors += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies = sorted(recorder.latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    return len(latencies) / wall, p99, recorder.errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls-per-level", type=int, default=200)
    args = parser.parse_args()

    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    gateway_port, bare_port = free_port(), free_port()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(database_url)
        env = {
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{gateway_port}",
            "FLOWS_DIR": str(ROOT / "flows"),
            "SECRET_KEY": "bench",
            "TWILIO_AUTH_TOKEN": "",
            "REDIS_URL": "",
        }
        servers.append(start_server("gateway:create_app()", gateway_port, env))
        servers.append(start_server("bench.bare_app:create_bare_app()", bare_port, {}))
        print(
            f"gunicorn, 2 sync workers, PostgreSQL; {args.calls_per_level} calls per level "
            f"(6 webhooks each), median of {args.runs} runs"
        )
        for level in LEVELS:
            gw_rates, gw_p99s, bare_rates, bare_p99s, errors = [], [], [], [], 0
            for _ in range(args.runs):
                rate, p99, err = measure(
                    f"http://127.0.0.1:{gateway_port}", level, args.calls_per_level, bare=False
                )
                gw_rates.append(rate)
                gw_p99s.append(p99)
                errors += err
                rate, p99, err = measure(
                    f"http://127.0.0.1:{bare_port}", level, args.calls_per_level, bare=True
                )
                bare_rates.append(rate)
                bare_p99s.append(p99)
                errors += err
            gw, bare = statistics.median(gw_rates), statistics.median(bare_rates)
            gw_p99, bare_p99 = statistics.median(gw_p99s), statistics.median(bare_p99s)
            print(
                f"{level:>4} concurrent calls: voice {gw:7.0f} steps/s, p99 {gw_p99 * 1000:6.0f} ms"
                f" | bare {bare:7.0f} req/s, p99 {bare_p99 * 1000:6.0f} ms"
                f" | ratio {gw / bare:.2f} throughput, {gw_p99 / bare_p99:.1f}x p99"
                f" | errors {errors}"
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
