"""Benchmark: how SMS-reply throughput grows from 1 to 2 gunicorn web workers.

The same load as bench/sms_inbound.py (wrk replaying signed replies of fresh respondents,
each with a survey already texted to them) against two gateways served at once from one
PostgreSQL database: one with 1 worker, one with 2 (``WEB_CONCURRENCY``), both with the
worker class and threads of config/gunicorn.conf.py. Runs alternate between the two, so
both see the same machine; medians of ``--runs``. Prints each, and the ratio 2 / 1.

    .venv/bin/python bench/web_workers.py [--level 50] [--runs 3] [--seconds 10]

Needs wrk and PostgreSQL (TEST_POSTGRES_URL, default postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.sms_inbound import clone_surveys, replies, seed_template, wave_for  # noqa: E402
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--level", type=int, default=50, help="concurrent respondents")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--respondents", type=int, default=3000, help="per run (six replies each)")
    args = parser.parse_args()
    configured = loadgen.configured_workers()
    counts = (1, 2)

    with loadgen.throwaway_database() as database_url, loadgen.scratch_dir() as tmp:
        template = seed_template(database_url)
        engine = sa.create_engine(database_url)
        env = loadgen.gateway_env(database_url, ROOT / "bench/flows")
        with ExitStack() as servers:
            urls = {
                count: servers.enter_context(
                    loadgen.gunicorn(
                        "gateway.app:create_app()",
                        env,
                        Path(tmp) / f"gateway-{count}.log",
                        replace(configured, count=count),
                    )
                )
                for count in counts
            }
            print(
                f"SMS replies; PostgreSQL; gunicorn {configured.worker_class} workers x "
                f"{configured.threads} threads; {args.level} concurrent; wrk 1 thread, "
                f"{args.seconds} s per run, median of {args.runs}; "
                f"load average {os.getloadavg()[0]:.1f} at the start"
            )
            runs: dict[int, list[loadgen.Run]] = {count: [] for count in counts}
            for run in range(args.runs):
                for count in counts if run % 2 == 0 else reversed(counts):
                    tag = f"{5 + count}{run}{secrets.randbelow(10)}"
                    numbers = clone_surveys(engine, template, tag, args.respondents)
                    file = Path(tmp) / f"sms-{count}-{run}.txt"
                    available = loadgen.write_requests(
                        file, replies(numbers, wave_for(args.level)), DEVELOPMENT_AUTH_TOKEN
                    )
                    runs[count].append(
                        loadgen.wrk(
                            urls[count],
                            file,
                            connections=args.level,
                            seconds=args.seconds,
                            available=available,
                        )
                    )
            medians = {count: loadgen.median_of(runs[count]) for count in counts}
            for count in counts:
                print(loadgen.row(f"{count} worker{'s' if count > 1 else ''}", medians[count]))
            print(f"  throughput 2 workers / 1 worker = {medians[2].rps / medians[1].rps:.2f}")
            print(f"  load average {os.getloadavg()[0]:.1f} at the end")
        engine.dispose()


if __name__ == "__main__":
    main()
