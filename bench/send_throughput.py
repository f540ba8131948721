"""Opening texts sent per second by `gateway worker` processes against a local Twilio
double (an HTTP server answering 201 at once, keeping connections open), PostgreSQL and
Redis, pacing off; for 1, 2 and 4 workers in the same run.

    .venv/bin/python -m bench.send_throughput                       # 1, 2 and 4 workers
    .venv/bin/python -m bench.send_throughput --workers 1 --runs 5
    .venv/bin/python -m bench.send_throughput --workers 1 --per-survey-baseline

Each measurement has a database of its own, filled by one batch request of
``--surveys-per-worker`` surveys per worker (so started in chunk jobs, as a batch is).
The rate is counted from the first text the double receives to the last, so worker
start-up is left out. Worker counts alternate within each run, so every count sees the
same machine; medians of ``--runs``. Prints each measurement, then per count the median
rate, the rate per worker, its ratio to 1 worker, and the CPU time the worker processes
spent per text over the same span (read from /proc: a figure a loaded machine changes
less than the rate), with the load average. ``--per-survey-baseline`` adds to each run a
measurement of 1 worker starting the same surveys with a job each (the single trigger's
path, one survey at a time), the baseline of the chunks' gain; ``--quiet-hours`` one of
1 worker with quiet hours on, as in production (every number is in its window while the
United States is awake: run it between 13:00 and 01:00 UTC).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

from bench.batch_triggers import REDIS_URL, numbers
from bench.triggers import ADMIN_URL, FLOW
from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.services import queue as job_queue
from gateway.store.db import db_of, upgrade
from gateway.store.models import Survey
from tests.support.twilio_double import TwilioDouble
from tests.support.workers import wait_for, workers


@dataclass(frozen=True)
class Measured:
    label: str
    texts: int
    seconds: float
    cpu_ms_per_text: float
    load: float

    @property
    def rate(self) -> float:
        return self.texts / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--surveys-per-worker", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-survey-baseline", action="store_true")
    parser.add_argument("--quiet-hours", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    plan = [(f"{count} worker(s)", count, "") for count in args.workers]
    if args.per_survey_baseline:
        plan.append(("1 worker, a job per survey", 1, "per-survey"))
    if args.quiet_hours:
        plan.append(("1 worker, quiet hours on", 1, "quiet-hours"))
    results: dict[str, list[Measured]] = {label: [] for label, _, _ in plan}
    for run in range(args.runs):
        for label, count, variant in plan if run % 2 == 0 else reversed(plan):
            measured = measure(label, count, count * args.surveys_per_worker, variant)
            results[label].append(measured)
            print(
                f"run {run + 1}, {label}: {measured.texts} texts in {measured.seconds:.2f} s = "
                f"{measured.rate:.0f}/s; worker CPU {measured.cpu_ms_per_text:.2f} ms a text; "
                f"load average {measured.load:.1f}",
                flush=True,
            )
    first = plan[0][0]
    base = statistics.median(m.rate for m in results[first])
    print(f"medians of {args.runs} runs:")
    for label, count, _ in plan:
        runs = results[label]
        rate = statistics.median(m.rate for m in runs)
        cpu = statistics.median(m.cpu_ms_per_text for m in runs)
        print(
            f"  {label}: {rate:.0f} texts/s ({rate / count:.0f}/s per worker), "
            f"{rate / base:.2f} x {first}; worker CPU {cpu:.2f} ms a text; "
            f"runs {', '.join(f'{m.rate:.0f}' for m in runs)}"
        )


def measure(label: str, count: int, surveys: int, variant: str = "") -> Measured:
    """Send ``surveys`` opening texts with ``count`` workers, on a database of its own.
    ``variant``: ``per-survey`` (each survey started by a start job of its own, not in
    chunks) or ``quiet-hours`` (quiet hours on)."""
    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    double = TwilioDouble(keep_alive=True)
    redis = Redis.from_url(REDIS_URL)
    try:
        upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            flows = Path(tmp) / "flows"
            flows.mkdir()
            (flows / "bench-visit.yaml").write_text(FLOW)
            env = {
                "DATABASE_URL": url,
                "REDIS_URL": REDIS_URL,
                "QUEUE_PREFIX": prefix,
                "FLOWS_DIR": str(flows),
                "SECRET_KEY": "bench",
                "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                "TWILIO_AUTH_TOKEN": "bench",
                "TWILIO_PHONE_NUMBER": "+12025550100",
                "TWILIO_API_BASE_URL": double.url,
                "SMS_SEGMENTS_PER_SECOND": "0",
                "QUIET_HOURS": "on" if variant == "quiet-hours" else "off",
                "LOG_LEVEL": "WARNING",
            }
            settings = Settings(
                database_url=url,
                redis_url=REDIS_URL,
                queue_prefix=prefix,
                secret_key="bench",
                secret_key_generated=False,
                flows_dir=flows,
                environment="test",
            )
            app = create_app(settings, {"TESTING": True})
            with db_of(app).session() as session:
                _row, key = create_api_key(session, ensure_agency(session, "bench"), "bench")
            rows = [
                {"flow": "bench-visit", "channel": "sms", "to": to, "context": {"office": "X"}}
                for to in numbers(surveys)
            ]
            response = app.test_client().post(
                "/api/v1/surveys/batch",
                json={"surveys": rows},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.get_json()["accepted"] == surveys
            if variant == "per-survey":
                queue = job_queue.queue_of(app)
                queue.empty()
                with db_of(app).session() as session:
                    survey_ids = list(session.scalars(sa.select(Survey.id)))
                for survey_id in survey_ids:
                    queue.enqueue(job_queue.START_JOB, survey_id, job_timeout=job_queue.JOB_TIMEOUT)
            with workers(env, count, Path(tmp)) as started:
                pids = [process.pid for process in started]
                wait_for(lambda: double.delivered(), 60, "the first text")
                cpu_before, first = cpu_seconds(pids), len(double.delivered())
                wait_for(
                    lambda: len(double.delivered()) >= surveys, surveys / 10 + 60, "every text"
                )
                cpu = cpu_seconds(pids) - cpu_before
                load = os.getloadavg()[0]
            sent = double.delivered()
            assert len({r.to for r in sent}) == len(sent) == surveys  # each texted once
            db_of(app).dispose()
            app.extensions["redis"].close()
        return Measured(
            label, len(sent), sent[-1].at - sent[0].at, cpu * 1000 / (len(sent) - first), load
        )
    finally:
        double.close()
        for stale in redis.scan_iter(f"*{prefix}*"):
            redis.delete(stale)
        redis.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of the processes and the children they forked."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        for task in [pid, *children(pid)]:
            try:
                fields = Path(f"/proc/{task}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    main()
