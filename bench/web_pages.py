"""Web survey page benchmark: the survey page's response time at 50 concurrent respondents,
gunicorn on PostgreSQL, against a baseline checkout measured in the same run.

For each tree (this checkout and, with ``--baseline``, another one with its own ``.venv``,
for example a ``git worktree`` of an earlier commit), a throwaway PostgreSQL database,
``--respondents`` anonymous web surveys opened through the public entry (``/f/<flow>``) by
that tree's own code, and gunicorn under that tree's ``config/gunicorn.conf.py``, behind
one trusted proxy hop (``TRUSTED_PROXY_HOPS=1``), as on cloud.gov, and with Redis, as
deployed: the rate limits are counted there, and the sweeper runs beside the rq worker
(not started here: the pages queue nothing), not in the web process. Each survey page is
visited once (which starts the survey), then ``wrk`` GETs the pages round and round over
``--concurrency`` connections with a browser's request headers (bench/pages.lua), each
respondent from an address of its own (``X-Forwarded-For``), so the per-address limit on
public pages applies per respondent as in production. There are more respondents than
connections, so no two requests in flight are for the same survey. With ``--think-ms``,
each of ``--concurrency`` respondents reads each page for a while before asking for the
next (a Python client, see :func:`paced`). Runs alternate between the trees; the summary
is the median of the runs, and the ratio is this tree's figure over the baseline's.

    .venv/bin/python bench/web_pages.py [--baseline /tmp/old] [--runs 3] [--seconds 10]
        [--think-ms 5000]

What a first visit transfers in a browser (and how fast it shows on a slow phone network)
is bench/web_first_visit.py. Needs wrk, PostgreSQL (TEST_POSTGRES_URL, default
postgres@127.0.0.1:5432/test) and Redis (TEST_REDIS_URL, default 127.0.0.1:6379/0; keys
under a prefix of the run's own, deleted afterwards); loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402

LUA = ROOT / "bench" / "pages.lua"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FLOW = "office-visit"

#: Run by each tree's own Python: opens surveys through the public entry and prints the
#: path of each survey page (the entry's redirect). The limits per address are lifted.
OPEN_SURVEYS = """
import sys
from urllib.parse import urlsplit
from gateway.app import create_app
app = create_app(None, {"TESTING": True, "WEB_ENTRY_LIMIT": 10**9, "PUBLIC_RATE_LIMIT": 10**9})
client = app.test_client()
for _ in range(int(sys.argv[1])):
    response = client.get("/f/FLOW?location=bench")
    assert response.status_code == 303, response.status_code
    print(urlsplit(response.headers["Location"]).path)
""".replace("FLOW", FLOW)


@dataclass(frozen=True)
class Tree:
    """A checkout to measure: its root, and its name in the report."""

    name: str
    root: Path

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"


def deployed_env(database_url: str, tree: Tree, prefix: str) -> dict[str, str]:
    """The environment of ``tree``'s gateway: bench/loadgen.py's, with Redis (its keys
    under ``prefix``) and one trusted proxy hop."""
    return loadgen.gateway_env(
        database_url,
        tree.root / "flows",
        REDIS_URL=REDIS_URL,
        QUEUE_PREFIX=prefix,
        TRUSTED_PROXY_HOPS="1",
    )


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run's own; its keys are deleted afterwards."""
    prefix = f"bench-{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def address(number: int) -> str:
    """Respondent ``number``'s address (10.0.0.0/8)."""
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


def open_surveys(tree: Tree, env: dict[str, str], count: int) -> list[str]:
    """``count`` survey page paths, opened by ``tree``'s code against its database."""
    output = subprocess.run(
        [str(tree.python), "-c", OPEN_SURVEYS, str(count)],
        cwd=tree.root,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    return [line for line in output.splitlines() if line.startswith("/")]


@contextmanager
def gunicorn(tree: Tree, env: dict[str, str], log: Path, workers: int | None) -> Iterator[str]:
    """``tree``'s gateway under gunicorn and its own config/gunicorn.conf.py, on loopback
    (``workers`` overrides the config's count); yields its URL."""
    port = loadgen.free_port()
    command = [str(tree.root / ".venv/bin/gunicorn"), "--config", "config/gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60"]
    if workers is not None:
        command += ["--workers", str(workers)]
    output = log.open("ab")
    process = subprocess.Popen(
        [*command, "gateway.app:create_app()"],
        cwd=tree.root,
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
                urllib.request.urlopen(url + "/healthz", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{tree.name}: gunicorn did not start; see {log}") from None
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


#: The request headers of a browser asking for a page (as bench/pages.lua sends them).
BROWSER = {
    "X-Forwarded-Proto": "https",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
}


def visit_each(url: str, paths: list[str]) -> int:
    """GET every page once (the first visit starts its survey); the HTML's size in bytes
    as sent to a browser (compressed if the server compresses)."""
    size = 0
    for number, path in enumerate(paths, start=1):
        headers = {"Accept-Encoding": "gzip, br", "X-Forwarded-For": address(number)}
        request = urllib.request.Request(url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200, (path, response.status)
            size = len(response.read())
    return size


def wrk(url: str, paths_file: Path, connections: int, seconds: int) -> loadgen.Run:
    """One bounded wrk run of bench/pages.lua: each connection sends its next request as
    soon as the last is answered."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    host = urlsplit(url).netloc
    command = ["wrk", "--threads", "1", "--connections", str(connections)]
    command += ["--duration", f"{seconds}s", "--timeout", "10s", "--script", str(LUA)]
    command += [url, "--", str(paths_file), host]
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=seconds + 60
    ).stdout
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return loadgen.Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["status_errors"] + data["socket_errors"] + data["timeouts"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def paced(url: str, paths: list[str], respondents: int, seconds: int, think_ms: int) -> loadgen.Run:
    """``respondents`` threads, each a respondent reading every page for between half and
    one and a half times ``think_ms`` before asking for the next, the first page at a
    random moment of the first pause (respondents do not all arrive at once, as wrk's
    connections would). A Python client is enough at these rates."""
    host, port = urlsplit(url).netloc.split(":")
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    started = time.monotonic()

    def respondent(number: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        time.sleep(random.uniform(0, think_ms / 1000))
        page = number
        while time.monotonic() - started < seconds:
            headers = {**BROWSER, "X-Forwarded-For": address(page % len(paths) + 1)}
            for attempt in (1, 2):
                sent = time.perf_counter()
                try:
                    connection.request("GET", paths[page % len(paths)], headers=headers)
                    response = connection.getresponse()
                    response.read()
                    break
                except (http.client.RemoteDisconnected, ConnectionError):
                    # The server closed the connection idle past its keep-alive time: a
                    # browser opens another and asks again.
                    connection.close()
                    if attempt == 2:
                        raise
            elapsed = time.perf_counter() - sent
            with lock:
                latencies.append(elapsed)
                errors += response.status != 200
            page += respondents
            time.sleep(random.uniform(0.5, 1.5) * think_ms / 1000)
        connection.close()

    threads = [threading.Thread(target=respondent, args=(n,)) for n in range(respondents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    quantiles = statistics.quantiles(latencies, n=100)
    return loadgen.Run(
        requests=len(latencies),
        seconds=time.monotonic() - started,
        errors=errors,
        p50_ms=quantiles[49] * 1000,
        p99_ms=quantiles[98] * 1000,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout with its own .venv")
    parser.add_argument("--concurrency", type=int, default=50)
    # Enough that each respondent stays under the public pages' 300 requests a minute.
    parser.add_argument("--respondents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, help="default: config/gunicorn.conf.py's")
    parser.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="each respondent's pause between pages, on average (a Python client); "
        "0: none, wrk sends the next request as soon as the last is answered",
    )
    args = parser.parse_args()
    trees = [Tree("current", ROOT)]
    if args.baseline is not None:
        trees.insert(0, Tree("baseline", args.baseline.resolve()))
    runs: dict[str, list[loadgen.Run]] = {tree.name: [] for tree in trees}
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(loadgen.scratch_dir()))
        servers: dict[str, tuple[str, Path, list[str]]] = {}
        for tree in trees:
            database = stack.enter_context(loadgen.throwaway_database())
            env = deployed_env(database, tree, stack.enter_context(redis_prefix()))
            paths = open_surveys(tree, env, args.respondents)
            paths_file = scratch / f"{tree.name}.paths"
            lines = [f"{path}\t{address(n)}\n" for n, path in enumerate(paths, start=1)]
            paths_file.write_text("".join(lines), encoding="utf-8")
            log = scratch / f"{tree.name}.log"
            url = stack.enter_context(gunicorn(tree, env, log, args.workers))
            html = visit_each(url, paths)
            print(f"{tree.name} ({tree.root}): {len(paths)} surveys, page HTML {html} B sent")
            servers[tree.name] = (url, paths_file, paths)
        for number in range(1, args.runs + 1):
            for tree in trees:
                url, paths_file, paths = servers[tree.name]
                if args.think_ms:
                    run = paced(url, paths, args.concurrency, args.seconds, args.think_ms)
                else:
                    run = wrk(url, paths_file, args.concurrency, args.seconds)
                runs[tree.name].append(run)
                print(loadgen.row(f"{tree.name} {number}", run), flush=True)
                if run.errors:
                    raise SystemExit(f"{tree.name}: {run.errors} requests failed or were refused")
    pause = f"{args.think_ms} ms between pages" if args.think_ms else "no pause between pages"
    print(
        f"\nsurvey page GET, {args.concurrency} concurrent respondents ({pause}), PostgreSQL, "
        f"gunicorn (config/gunicorn.conf.py), medians of {args.runs} runs of {args.seconds} s:"
    )
    medians = {name: loadgen.median_of(tree_runs) for name, tree_runs in runs.items()}
    for name, summary in medians.items():
        print(loadgen.row(name, summary))
    if "baseline" in medians:
        base, current = medians["baseline"], medians["current"]
        print(
            f"  current / baseline: req/s {current.rps / base.rps:.2f}, "
            f"median {current.p50_ms / base.p50_ms:.2f}, p99 {current.p99_ms / base.p99_ms:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
