"""Opening texts sent per second by `gateway worker` processes against a local Twilio
double (an HTTP server answering 201 at once,
keeping connections open), PostgreSQL and Redis, pacing off.

    .venv/bin/python -m bench.send_throughput --workers 1 --surveys 3000
    .venv/bin/python -m bench.send_throughput --workers 4 --surveys 6000

The surveys are created by one batch request (so started in chunk jobs); the rate is
counted from the first text the double receives to the last, so worker start-up is left
out. Prints the rate and the rate per worker.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

from bench.batch_triggers import REDIS_URL, numbers
from bench.triggers import ADMIN_URL, FLOW
from config.settings import Settings
from gateway import create_app
from gateway.api.keys import create_api_key, ensure_agency
from gateway.store.db import db_of, upgrade
from tests.ops.twilio_double import TwilioDouble
from tests.ops.workers import wait_for, workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--surveys", type=int, default=3000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

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
                "QUIET_HOURS": "off",
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
                for to in numbers(args.surveys)
            ]
            response = app.test_client().post(
                "/api/v1/surveys/batch",
                json={"surveys": rows},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.get_json()["accepted"] == args.surveys
            with workers(env, args.workers, Path(tmp)):
                wait_for(
                    lambda: len(double.delivered()) >= args.surveys,
                    args.surveys / 10 + 60,
                    f"{args.surveys} texts",
                )
            sent = double.delivered()
            elapsed = sent[-1].at - sent[0].at
            rate = len(sent) / elapsed
            print(
                f"{args.workers} worker(s): {len(sent)} texts in {elapsed:.2f} s = "
                f"{rate:.0f}/s ({rate / args.workers:.0f}/s per worker)"
            )
            db_of(app).dispose()
            app.extensions["redis"].close()
    finally:
        double.close()
        for stale in redis.scan_iter(f"*{prefix}*"):
            redis.delete(stale)
        redis.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
