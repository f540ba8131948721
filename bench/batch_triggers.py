"""Batch triggers: seconds to accept ``POST /api/v1/surveys/batch`` of 100,000 rows,
through the Flask test client, into a throwaway PostgreSQL database, with the accepted
surveys queued on Redis (chunk jobs; no worker runs, so nothing is sent).

    .venv/bin/python -m bench.batch_triggers                 # 100,000 rows, JSON, 3 runs
    .venv/bin/python -m bench.batch_triggers --csv --rows 20000 --runs 5

Every row has its own phone number. Prints each run's time (the whole request: parse,
validate every row, COPY, commit, enqueue) and the median.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from redis import Redis
from werkzeug.test import TestResponse

from bench import loadgen
from bench.triggers import FLOW
from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.services.queue import queue_of
from gateway.store.db import db_of

REDIS_URL = "redis://127.0.0.1:6379/0"
AREA_CODES = ("202", "212", "303", "312", "404", "415", "512", "617", "703", "713")


def numbers(count: int) -> list[str]:
    """``count`` distinct valid US numbers (555 exchanges across ten area codes)."""
    return [f"+1{AREA_CODES[n % 10]}555{(n // 10) % 10000:04d}" for n in range(count)]


def json_body(count: int) -> bytes:
    rows = [
        {"flow": "bench-visit", "channel": "sms", "to": to, "context": {"office": "Springfield"}}
        for to in numbers(count)
    ]
    return json.dumps({"surveys": rows}).encode()


def csv_body(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["flow", "channel", "to", "context.office"])
    for to in numbers(count):
        writer.writerow(["bench-visit", "sms", to, "Springfield"])
    return out.getvalue().encode()


@dataclass
class BatchGateway:
    """A gateway on a throwaway database and its own Redis keys, and an API key."""

    app: Flask
    key: str
    redis: Redis
    prefix: str

    def post(self, body: bytes, content_type: str) -> TestResponse:
        return self.app.test_client().post(
            "/api/v1/surveys/batch",
            data=body,
            content_type=content_type,
            headers={"Authorization": f"Bearer {self.key}"},
        )

    def reset(self, tables: str) -> None:
        """Empty ``tables`` and drop the queued jobs: the next run starts as the first."""
        with db_of(self.app).engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
        for stale in self.redis.scan_iter(f"*{self.prefix}*"):
            self.redis.delete(stale)


@contextmanager
def batch_gateway() -> Iterator[BatchGateway]:
    """The gateway bench.batch_triggers and bench.batch_interactions post to; its database
    is dropped and its Redis keys deleted afterwards."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    redis = Redis.from_url(REDIS_URL)
    try:
        with loadgen.throwaway_database() as url, tempfile.TemporaryDirectory() as flows:
            (Path(flows) / "bench-visit.yaml").write_text(FLOW)
            settings = Settings(
                database_url=url,
                redis_url=REDIS_URL,
                queue_prefix=prefix,
                secret_key="bench",
                secret_key_generated=False,
                flows_dir=Path(flows),
                environment="test",
            )
            app = create_app(settings, {"TESTING": True})
            with db_of(app).session() as session:
                _row, key = create_api_key(session, ensure_agency(session, "bench"), "bench")
            gateway = BatchGateway(app, key, redis, prefix)
            try:
                yield gateway
            finally:
                gateway.reset("surveys, interactions")
                db_of(app).dispose()
                app.extensions["redis"].close()
    finally:
        redis.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--csv", action="store_true", help="upload CSV instead of JSON")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    body = csv_body(args.rows) if args.csv else json_body(args.rows)
    content_type = "text/csv" if args.csv else "application/json"
    times = []
    with batch_gateway() as gateway:
        for run in range(args.runs):
            started = time.perf_counter()
            response = gateway.post(body, content_type)
            elapsed = time.perf_counter() - started
            result = response.get_json()
            assert response.status_code == 202, result
            assert result["accepted"] == args.rows, result["rejected"][:3]
            queued = queue_of(gateway.app).count
            times.append(elapsed)
            print(f"run {run + 1}: {elapsed:.2f} s for {args.rows:,} rows ({queued} chunk jobs)")
            gateway.reset("surveys")
    kind = "CSV" if args.csv else "JSON"
    print(f"median: {statistics.median(times):.2f} s ({kind}, {args.rows:,} rows)")


if __name__ == "__main__":
    main()
