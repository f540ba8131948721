"""Web survey page benchmark: server time at 50 concurrent clients, and page weight.

Starts gunicorn on 127.0.0.1 (SQLite in a temporary directory, simulated delivery), opens
anonymous surveys through the public entry, then has 50 threads fetch survey pages for a
bounded number of requests and reports p50/p95/p99 of the response time seen on loopback.
Page weight is the bytes of the HTML plus the CSS, fonts and images a browser loads for it.

Run: .venv/bin/python bench/web_pages.py [--requests 2000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a browser fetches for a survey page besides the HTML (fonts used by the pages).
ASSETS = [
    "/static/uswds/css/uswds.min.css",
    "/web/survey.css",
    "/static/uswds/img/us_flag_small.png",
    "/static/uswds/fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2",
    "/static/uswds/fonts/source-sans-pro/sourcesanspro-bold-webfont.woff2",
    "/static/uswds/fonts/merriweather/Latin-Merriweather-Regular.woff2",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def open_survey(base: str) -> str:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{base}/f/office-visit?location=bench", timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code == 303:
            return base + exc.headers["Location"]
        raise
    raise RuntimeError("the public entry did not redirect")


def fetch(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        size = len(response.read())
    return time.perf_counter() - start, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-secret",
        "PUBLIC_BASE_URL": base,
        "FLOWS_DIR": str(ROOT / "flows"),
    }
    env.pop("REDIS_URL", None)
    # Migrate once before the workers start, so they do not race through it.
    subprocess.run(
        [sys.executable, "-c", "from gateway.app import create_app; create_app()"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
            "gateway.app:create_app()",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        surveys = [open_survey(base) for _ in range(20)]
        html_size = fetch(surveys[0])[1]
        asset_bytes = {path: fetch(base + path)[1] for path in ASSETS}
        urls = [surveys[i % len(surveys)] for i in range(args.requests)]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            timings = [t for t, _ in pool.map(fetch, urls)]
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(
        f"survey page GET, {args.requests} requests, {args.concurrency} concurrent, "
        f"gunicorn {args.workers} workers x 4 threads, loopback"
    )
    print(
        f"  p50 {q[49] * 1000:.1f} ms  p95 {q[94] * 1000:.1f} ms  p99 {q[98] * 1000:.1f} ms  "
        f"({args.requests / elapsed:.0f} req/s)"
    )
    total = html_size + sum(asset_bytes.values())
    print(f"page weight: HTML {html_size} B + assets {sum(asset_bytes.values())} B = {total} B")
    for path, size in asset_bytes.items():
        print(f"  {size:>8} B  {re.sub(r'^/static/', '', path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
