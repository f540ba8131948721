"""Profile: the CPU time each webhook request costs inside one process, without a server.

Builds the gateway (``create_app()`` from the same environment the load benchmarks give
gunicorn) against a throwaway PostgreSQL database, prepares the conversations, then replays
signed posts straight through the WSGI callable, one at a time, timing them with the
process's CPU clock (``time.process_time``: time spent waiting for PostgreSQL is not
counted). bench/bare_app.py is timed the same way on the same posts. Under ``--profile``
the measured requests also run under cProfile and the costliest functions are printed.

    .venv/bin/python bench/profile_webhooks.py [--respondents 300] [--calls 200]
        [--profile] [--top 40] [--sort tottime|cumulative] [--only sms|voice]

Phases: ``sms`` (every respondent answers six questions, round-robin, as in
bench/sms_inbound.py; then as many others with the quick path off, the general path's
cost, and the CPU the PostgreSQL server spent on each), ``voice-answer`` (new calls
arrive) and ``voice-steps`` (those calls go on, as in bench/voice_steps.py). Needs
PostgreSQL (TEST_POSTGRES_URL) on this machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen, sms_inbound, voice_steps  # noqa: E402
from bench.bare_app import create_bare_app  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.store.db import db_of  # noqa: E402
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402

Post = tuple[str, dict[str, str]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_of(target: str, form: Mapping[str, str], signature: str) -> dict[str, Any]:
    """The WSGI environ gunicorn would build for a signed form post to ``target``."""
    path, _, query = target.partition("?")
    body = urlencode(form).encode()
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": target,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_X_TWILIO_SIGNATURE": signature,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def signed_environs(posts: Iterable[Post]) -> list[dict[str, Any]]:
    validator = RequestValidator(DEVELOPMENT_AUTH_TOKEN)
    return [
        environ_of(target, form, validator.compute_signature(loadgen.PUBLIC + target, form))
        for target, form in posts
    ]


def call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, bytes]:
    """Serve one request; its status line and body."""
    status: list[str] = []

    def start_response(line: str, _headers: Any, _exc_info: Any = None) -> Callable[..., Any]:
        status.append(line)
        return lambda _data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return status[0], body


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Log lines are formatted and written as under gunicorn, to /dev/null."""
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            yield
        finally:
            sys.stderr = saved


def measure(
    name: str, app: WsgiApp, environs: list[dict[str, Any]], profiler: cProfile.Profile | None
) -> list[tuple[str, bytes]]:
    """Replay ``environs`` in order; print CPU ms per request (mean and median: the median
    is steadier when other processes share the cores) and wall ms per request."""
    results = []
    each: list[float] = []
    clock = time.process_time
    with quiet_stderr():
        wall = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for environ in environs:
            started = clock()
            results.append(call(app, environ))
            each.append(clock() - started)
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - wall
    statuses = sorted({line for line, _body in results})
    print(
        f"  {name:14} {len(environs):5d} requests  CPU mean {statistics.fmean(each) * 1000:6.2f} "
        f"median {statistics.median(each) * 1000:6.2f} ms/req  "
        f"wall {wall * 1000 / len(environs):6.2f} ms/req  statuses {statuses}"
    )
    return results


def gateway_app(env: Mapping[str, str]) -> Any:
    os.environ.update(env)
    return create_app()


def profile_sms(args: argparse.Namespace, database_url: str, bare: WsgiApp) -> None:
    env = loadgen.gateway_env(database_url, ROOT / "bench/flows", LOG_FORMAT=args.log_format)
    os.environ.update(env)
    template = sms_inbound.seed_template(database_url)
    engine = sa.create_engine(database_url)
    warm = sms_inbound.clone_surveys(engine, template, "901", 20)
    numbers = sms_inbound.clone_surveys(engine, template, "902", args.respondents)
    others = sms_inbound.clone_surveys(engine, template, "903", args.respondents)
    engine.dispose()
    app = gateway_app(env)
    measure("sms warm-up", app, signed_environs(sms_inbound.replies(warm)), None)
    posts = sms_inbound.replies(numbers)
    print("SMS replies (bench/flows/bench-survey.yaml, six answers per respondent):")
    server = sms_inbound.backend_seconds(database_url)
    report(args, "gateway", app, signed_environs(posts))
    server = sms_inbound.backend_seconds(database_url) - server
    print(f"  {'':14} PostgreSQL CPU {server * 1000 / len(posts):6.2f} ms/req (its processes)")
    # The same replies with the quick path off: what the general (ORM) path costs.
    with mock.patch("gateway.sms.webhooks.quick_reply", return_value=None):
        general = sms_inbound.replies(others)
        server = sms_inbound.backend_seconds(database_url)
        measure("general path", app, signed_environs(general), None)
        server = sms_inbound.backend_seconds(database_url) - server
    print(f"  {'':14} PostgreSQL CPU {server * 1000 / len(general):6.2f} ms/req (its processes)")
    measure("bare warm-up", bare, signed_environs(posts[:50]), None)
    report(args, "bare", bare, signed_environs(posts))
    db_of(app).dispose()


SURVEY_IN_TWIML = re.compile(rb"survey=(sv_[A-Za-z0-9_-]+)")


def profile_voice(args: argparse.Namespace, database_url: str, bare: WsgiApp) -> None:
    env = loadgen.gateway_env(database_url, ROOT / "flows", LOG_FORMAT=args.log_format)
    posts, t_sid, t_caller, t_survey = voice_steps.template_call(env)
    answer, steps = posts[0], posts[1:]
    app = gateway_app(env)

    def new_calls(count: int) -> list[tuple[str, str]]:
        return [
            ("CA" + secrets.token_hex(16), f"+1{secrets.randbelow(8 * 10**9) + 2 * 10**9}")
            for _ in range(count)
        ]

    def answered(calls: list[tuple[str, str]], name: str, profile: bool) -> list[Post]:
        environs = signed_environs(
            voice_steps.substitute(answer, {t_sid: sid, t_caller: caller}) for sid, caller in calls
        )
        results = (
            report(args, name, app, environs) if profile else measure(name, app, environs, None)
        )
        surveys = []
        for _line, body in results:
            found = SURVEY_IN_TWIML.search(body)
            if found is None:
                raise SystemExit(f"a call was not answered with a step: {body[:300]!r}")
            surveys.append(found.group(1).decode())
        return [
            voice_steps.substitute(step, {t_sid: sid, t_caller: caller, t_survey: survey})
            for step in steps
            for (sid, caller), survey in zip(calls, surveys, strict=True)
        ]

    warm_steps = answered(new_calls(20), "answer warm-up", False)
    measure("steps warm-up", app, signed_environs(warm_steps), None)
    print(
        "Voice webhooks (flows/call-center-post-call.yaml): "
        + ", ".join(urlsplit(p).path for p, _f in steps)
    )
    step_posts = answered(new_calls(args.calls), "voice-answer", True)
    report(args, "voice-steps", app, signed_environs(step_posts))
    measure("bare warm-up", bare, signed_environs(step_posts[:50]), None)
    report(args, "bare", bare, signed_environs(step_posts))
    db_of(app).dispose()


def report(
    args: argparse.Namespace, name: str, app: WsgiApp, environs: list[dict[str, Any]]
) -> list[tuple[str, bytes]]:
    # Timed by the CPU clock: time spent waiting for PostgreSQL is not a cost here.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    results = measure(name, app, environs, profiler)
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        calls = stats.total_calls  # type: ignore[attr-defined]
        print(f"  {name}: {calls / len(environs):.0f} Python function calls per request")
        stats.sort_stats(args.sort).print_stats(args.filter or "", args.top)
        print(out.getvalue())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=300, help="six replies each")
    parser.add_argument("--calls", type=int, default=200, help="voice calls (six steps each)")
    parser.add_argument("--profile", action="store_true", help="print cProfile statistics")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--filter", default=None, help="only functions whose path matches")
    parser.add_argument("--only", choices=["sms", "voice"], default=None)
    parser.add_argument("--log-format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    bare = create_bare_app()
    with loadgen.throwaway_database() as database_url:
        if args.only in (None, "sms"):
            profile_sms(args, database_url, bare)
        if args.only in (None, "voice"):
            profile_voice(args, database_url, bare)


if __name__ == "__main__":
    main()
