"""Single survey triggers per second: ``POST /api/v1/surveys`` one after another through
the Flask test client, against a throwaway PostgreSQL database (or SQLite), with
simulated SMS delivery running inside the process (no REDIS_URL), so each trigger also
starts its survey and records the first text.

    .venv/bin/python -m bench.triggers                      # PostgreSQL on 127.0.0.1
    .venv/bin/python -m bench.triggers --sqlite --count 300 --runs 5
    .venv/bin/python -m bench.triggers --no-start           # the API alone: nothing started

Prints each run's rate and the median.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.services import queue
from gateway.store.db import db_of, upgrade

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FLOW = """\
id: bench-visit
version: 1
title: Office visit
agency: bench
context: [office]
expires_after: 24h
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you with the {office} office?
  - id: comment
    type: text
    optional: true
    prompt: Anything else?
"""


def run_once(client: object, key: str, count: int) -> float:
    """Triggers per second over ``count`` sequential requests."""
    post = client.post  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    for n in range(count):
        body = {
            "flow": "bench-visit",
            "channel": "sms",
            "to": f"+1202555{n % 10000:04d}",
            "context": {"office": "Springfield"},
        }
        response = post("/api/v1/surveys", json=body, headers=headers)
        if response.status_code != 202:
            raise SystemExit(
                f"trigger {n} answered {response.status_code}: {response.get_data(as_text=True)}"
            )
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200, help="triggers per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead")
    parser.add_argument(
        "--no-start", action="store_true", help="record surveys but do not start them"
    )
    parser.add_argument(
        "--admin-url", default=ADMIN_URL, help="PostgreSQL to create the database in"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.no_start:
        queue.enqueue_start = lambda app, survey_id, send_at: None

    with tempfile.TemporaryDirectory() as tmp:
        flows = Path(tmp) / "flows"
        flows.mkdir()
        (flows / "bench-visit.yaml").write_text(FLOW, encoding="utf-8")
        admin = None
        name = f"gw_bench_{uuid.uuid4().hex[:10]}"
        if args.sqlite:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            admin = sa.create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = (
                sa.make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
            )
        try:
            upgrade(url)
            settings = Settings(
                database_url=url,
                secret_key="bench",
                secret_key_generated=False,
                flows_dir=flows,
                public_base_url="https://gateway.example.gov",
                environment="bench",
            )
            app = create_app(settings)
            with db_of(app).session() as session:
                key = create_api_key(session, ensure_agency(session, "bench"), "bench")[1]
            client = app.test_client()
            run_once(client, key, 20)  # warm up: imports, caches, connection pool
            rates = [run_once(client, key, args.count) for _ in range(args.runs)]
            db_of(app).dispose()
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    backend = ("sqlite" if args.sqlite else "postgresql") + (
        ", not started" if args.no_start else ""
    )
    for i, rate in enumerate(rates, 1):
        print(f"run {i}: {rate:7.1f} triggers/s")
    median = statistics.median(rates)
    print(f"{backend}: median {median:.1f} triggers/s over {args.runs} runs of {args.count}")


if __name__ == "__main__":
    main()
