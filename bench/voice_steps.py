"""Benchmark: Twilio Voice webhooks served by gunicorn against PostgreSQL, at 50 and 200
concurrent calls, beside bench/bare_app.py (2 sync workers) under the same load.

A call's first webhook (``POST /twilio/voice?flow=...``, the call answered) starts its
survey; its survey id is in the action URLs that follow, so it cannot be signed in advance.
Each run therefore has two measured phases, both wrk replaying pre-signed posts
(bench/loadgen.py):

1. ``answer``: new calls arrive (distinct CallSids and callers); the calls it did not reach
   in its time are then answered too (not measured), so the next phase has them all;
2. ``steps``: the calls answered in phase 1 go on: keys pressed at three questions, a
   recorded comment, the hang-up status callback: each post exactly what a whole call
   simulated in-process (tests/voice/call_simulator.py) posted, for its own call; in waves
   of 200 calls (or four times the concurrency), as bench/sms_inbound.py's replies (each
   wave's calls take their first step, round-robin, then their second, and so on), so
   that any stretch of the load is a whole call's mix of steps.

The baseline is the one the SMS benchmark uses: bench/bare_app.py's ``POST /twilio/sms``
on 2 sync workers, replaying bench/sms_inbound.py's posts (``bare``), measured in the same
run. The same app's voice endpoint, replaying the voice posts, is measured beside it
(``bare voice``): it parses the larger voice forms and builds a Gather with a Say, so it
shows what the voice forms and TwiML cost a bare endpoint.

The gateway runs under config/gunicorn.conf.py (its worker settings and hooks, a socket
per worker) unless ``--gateway-workers``, ``--gateway-worker-class`` or
``--gateway-threads`` say otherwise;
``--bare-as-gateway`` also measures the bare endpoint under the gateway's settings.

    .venv/bin/python bench/voice_steps.py [--levels 50 200] [--runs 3] [--seconds 12]

Needs wrk and PostgreSQL (TEST_POSTGRES_URL); a throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen, sms_inbound  # noqa: E402
from config.settings import Settings  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.store.db import db_of  # noqa: E402
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402
from tests.voice.call_simulator import CallSimulator, flask_transport  # noqa: E402

FLOW_URL = "/twilio/voice?flow=call-center-post-call&language=en&agent=Maria&queue=benefits"
Post = tuple[str, dict[str, str]]


def template_call(env: Mapping[str, str]) -> tuple[list[Post], str, str, str]:
    """The posts of one whole call, simulated in-process; with its CallSid, caller, survey."""
    settings = Settings(
        database_url=env["DATABASE_URL"],
        secret_key="bench",
        secret_key_generated=False,
        flows_dir=Path(env["FLOWS_DIR"]),
        public_base_url=loadgen.PUBLIC,
    )
    app = create_app(settings)
    forward = flask_transport(app.test_client())
    posts: list[Post] = []

    def transport(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        posts.append((parts.path + (f"?{parts.query}" if parts.query else ""), dict(form)))
        return forward(url, form, headers)

    phone = CallSimulator(transport, auth_token=DEVELOPMENT_AUTH_TOKEN, base_url=loadgen.PUBLIC)
    caller = "+12025550123"
    call = phone.dial(FLOW_URL, caller=caller)
    call.press("2").press("3").press("4")
    call.record("https://api.twilio.com/Recordings/RE0", 5)
    if call.waiting.verb:
        call.hang_up()
    with db_of(app).engine.connect() as conn:
        survey_id = conn.scalar(
            sa.text("SELECT id FROM surveys WHERE provider_ref = :sid"), {"sid": call.sid}
        )
    db_of(app).dispose()
    return posts, call.sid, caller, str(survey_id)


def started_calls(engine: sa.Engine) -> dict[str, str]:
    """Survey ids of the calls in progress, by CallSid."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT provider_ref, id FROM surveys "
                "WHERE channel = 'voice' AND status = 'started'"
            )
        ).all()
    return {sid: survey_id for sid, survey_id in rows}


def substitute(post: Post, replacements: Mapping[str, str]) -> Post:
    path, form = post
    for old, new in replacements.items():
        path = path.replace(old, new)
    return path, {k: replacements.get(v, v) for k, v in form.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=4000, help="prepared per run")
    parser.add_argument("--wrk-cpu", type=int, default=None, help="pin wrk to this CPU")
    loadgen.add_worker_flags(parser)
    args = parser.parse_args()
    workers = loadgen.gateway_workers(args)

    with loadgen.throwaway_database() as database_url, loadgen.scratch_dir() as tmp:
        env = loadgen.gateway_env(database_url, ROOT / "flows")
        posts, t_sid, t_caller, t_survey = template_call(env)
        answer, steps = posts[0], posts[1:]
        engine = sa.create_engine(database_url)
        results: dict[int, dict[str, list[loadgen.Run]]] = {}
        with ExitStack() as servers:
            # The gateway (and the bare endpoint under its settings) runs under the deployed
            # config file.
            deployed = loadgen.deployed(env)
            gateway = servers.enter_context(
                loadgen.gunicorn(
                    "gateway.app:create_app()", deployed, Path(tmp) / "gateway.log", workers
                )
            )
            bare = servers.enter_context(
                loadgen.gunicorn("bench.bare_app:create_bare_app()", env, Path(tmp) / "bare.log")
            )
            bare_alike = (
                servers.enter_context(
                    loadgen.gunicorn(
                        "bench.bare_app:create_bare_app()",
                        deployed,
                        Path(tmp) / "bare2.log",
                        workers,
                    )
                )
                if args.bare_as_gateway
                else None
            )
            sms_file = Path(tmp) / "bare-sms.txt"
            loadgen.write_requests(
                sms_file,
                sms_inbound.replies([f"+1202555{n:04d}" for n in range(args.calls // 6 + 1)]),
                DEVELOPMENT_AUTH_TOKEN,
            )
            print(
                f"Voice webhooks; PostgreSQL; gunicorn: gateway {workers}, bare {loadgen.BARE}; "
                f"wrk 1 thread, "
                f"{args.seconds} s per phase, median of {args.runs}; each call: 1 answer + "
                f"{len(steps)} steps ({', '.join(p.split('?')[0] for p, _f in steps)})"
            )
            for level in args.levels:
                runs = results[level] = {
                    k: [] for k in ("bare", "bare voice", "bare-alike", "answer", "steps")
                }
                for run in range(args.runs):
                    calls = [
                        (
                            "CA" + secrets.token_hex(16),
                            f"+1{secrets.randbelow(8 * 10**9) + 2 * 10**9}",
                        )
                        for _ in range(args.calls)
                    ]
                    answers_file = Path(tmp) / f"answer-{level}-{run}.txt"
                    count = loadgen.write_requests(
                        answers_file,
                        (
                            substitute(answer, {t_sid: sid, t_caller: caller})
                            for sid, caller in calls
                        ),
                        DEVELOPMENT_AUTH_TOKEN,
                    )
                    runs["answer"].append(
                        loadgen.wrk(
                            gateway,
                            answers_file,
                            connections=level,
                            seconds=args.seconds,
                            cpu=args.wrk_cpu,
                            available=count,
                        )
                    )
                    started = started_calls(engine)
                    waiting = [(sid, caller) for sid, caller in calls if sid not in started]
                    if waiting:
                        # Not measured: the calls the answer phase did not reach are answered
                        # too, so that the steps phase has enough distinct calls to go on.
                        top_up = Path(tmp) / f"answer-top-up-{level}-{run}.txt"
                        loadgen.write_requests(
                            top_up,
                            (
                                substitute(answer, {t_sid: sid, t_caller: caller})
                                for sid, caller in waiting
                            ),
                            DEVELOPMENT_AUTH_TOKEN,
                        )
                        rate = max(runs["answer"][-1].rps, 20.0)
                        loadgen.wrk(
                            gateway,
                            top_up,
                            connections=level,
                            seconds=int(len(waiting) / rate) + 3,
                            cpu=args.wrk_cpu,
                        )  # a call answered twice is replayed, as Twilio retries are
                        started = started_calls(engine)
                    live = [(sid, caller) for sid, caller in calls if sid in started]
                    size = sms_inbound.wave_for(level)
                    steps_file = Path(tmp) / f"steps-{level}-{run}.txt"
                    count = loadgen.write_requests(
                        steps_file,
                        (
                            substitute(step, {t_sid: sid, t_caller: caller, t_survey: started[sid]})
                            for wave in range(0, len(live), size)
                            for step in steps
                            for sid, caller in live[wave : wave + size]
                        ),
                        DEVELOPMENT_AUTH_TOKEN,
                    )
                    runs["steps"].append(
                        loadgen.wrk(
                            gateway,
                            steps_file,
                            connections=level,
                            seconds=args.seconds,
                            cpu=args.wrk_cpu,
                            available=count,
                        )
                    )
                    runs["bare"].append(
                        loadgen.wrk(
                            bare,
                            sms_file,
                            connections=level,
                            seconds=args.seconds,
                            cpu=args.wrk_cpu,
                        )
                    )
                    runs["bare voice"].append(
                        loadgen.wrk(
                            bare,
                            steps_file,
                            connections=level,
                            seconds=args.seconds,
                            cpu=args.wrk_cpu,
                        )
                    )
                    if bare_alike is not None:
                        runs["bare-alike"].append(
                            loadgen.wrk(
                                bare_alike,
                                steps_file,
                                connections=level,
                                seconds=args.seconds,
                                cpu=args.wrk_cpu,
                            )
                        )
                bare_figures = loadgen.median_of(runs["bare"])
                voice_figures = loadgen.median_of(runs["bare voice"])
                print(f"{level} concurrent calls:")
                print(loadgen.row("bare", bare_figures) + "  (the SMS benchmark's endpoint)")
                print(
                    loadgen.row("bare voice", voice_figures)
                    + f"  ({voice_figures.rps / bare_figures.rps:.2f} of bare)"
                )
                alike_figures = loadgen.median_of(runs["bare-alike"]) if bare_alike else None
                if alike_figures is not None:
                    print(loadgen.row("bare-alike", alike_figures) + f"  ({workers})")
                for phase in ("answer", "steps"):
                    figures = loadgen.median_of(runs[phase])
                    alike = (
                        f"  ratio to bare-alike {figures.rps / alike_figures.rps:.2f}"
                        if alike_figures is not None
                        else ""
                    )
                    print(
                        loadgen.row(phase, figures)
                        + f"  ratio {figures.rps / bare_figures.rps:.2f}"
                        + f"  ratio to bare voice {figures.rps / voice_figures.rps:.2f}"
                        + alike
                    )
            with engine.connect() as conn:
                counts = conn.execute(
                    sa.text(
                        "SELECT status, count(*) FROM surveys WHERE channel = 'voice' "
                        "GROUP BY status ORDER BY status"
                    )
                ).all()
                answers = conn.scalar(sa.text("SELECT count(*) FROM answers"))
            print(f"stored: {answers} answers; surveys {dict(counts)}")
        engine.dispose()


if __name__ == "__main__":
    main()
