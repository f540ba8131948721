"""What counting every interaction costs a batch trigger: seconds to accept
``POST /api/v1/surveys/batch`` with the interactions recorded, against the same batch in
the same run with their recording patched out (the baseline), alternating the two.

    .venv/bin/python -m bench.batch_interactions                  # 100,000 rows, 3 runs each
    .venv/bin/python -m bench.batch_interactions --rows 20000 --runs 5

PostgreSQL (a throwaway database) and Redis, as bench.batch_triggers; prints each run and
the medians and their ratio, of the wall time and of the web process's CPU time (the
database's own work shows only in the wall time).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

import sqlalchemy as sa
from redis import Redis

from bench.batch_triggers import REDIS_URL, json_body
from bench.triggers import ADMIN_URL, FLOW
from config.settings import Settings
from gateway import create_app
from gateway.api.keys import create_api_key, ensure_agency
from gateway.reach import interactions
from gateway.store.db import db_of, upgrade


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    redis = Redis.from_url(REDIS_URL)
    times: dict[str, list[float]] = {"recorded": [], "baseline": []}
    cpu: dict[str, list[float]] = {"recorded": [], "baseline": []}
    try:
        upgrade(url)
        with tempfile.TemporaryDirectory() as flows:
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
            body = json_body(args.rows)
            client = app.test_client()
            for run in range(args.runs):
                for kind in ("baseline", "recorded") if run % 2 else ("recorded", "baseline"):
                    skipped = mock.patch.object(interactions, "insert_many", _nothing)
                    with skipped if kind == "baseline" else contextlib.nullcontext():
                        started = time.perf_counter()
                        started_cpu = time.process_time()
                        response = client.post(
                            "/api/v1/surveys/batch",
                            data=body,
                            content_type="application/json",
                            headers={"Authorization": f"Bearer {key}"},
                        )
                        elapsed = time.perf_counter() - started
                        used = time.process_time() - started_cpu
                    assert response.status_code == 202, response.get_json()
                    times[kind].append(elapsed)
                    cpu[kind].append(used)
                    print(
                        f"run {run + 1} {kind}: {elapsed:.2f} s ({used:.2f} s CPU in the web "
                        f"process) for {args.rows:,} rows"
                    )
                    with db_of(app).engine.begin() as conn:
                        conn.execute(sa.text("TRUNCATE surveys, interactions CASCADE"))
                    for stale in redis.scan_iter(f"*{prefix}*"):
                        redis.delete(stale)
            db_of(app).dispose()
            app.extensions["redis"].close()
        for label, figures in (("wall", times), ("CPU", cpu)):
            recorded = statistics.median(figures["recorded"])
            baseline = statistics.median(figures["baseline"])
            print(
                f"median {label}: {recorded:.2f} s recorded, {baseline:.2f} s baseline "
                f"(ratio {recorded / baseline:.2f}; {args.rows:,} rows)"
            )
    finally:
        redis.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
