"""Backfill throughput: N stored comments read (themes, sentiment, crisis language,
personal data found) and their readings written, on one core.

Run: .venv/bin/python bench/comments_backfill.py --comments 50000 [--database sqlite|postgresql]

The comments are the evaluation set's (tests/comments/eval/*.jsonl), cycled, each with a
number appended so no two are alike. SQLite (the default) keeps everything in this one
process; with PostgreSQL (a throwaway database next to TEST_POSTGRES_URL's) the server
works on its own core too. The reader's share alone is also timed (no database).
Target (docs/performance.md): at least 5,000 comments per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from gateway.agencies.keys import ensure_agency  # noqa: E402
from gateway.comments.reader import RulesReader, read_comment  # noqa: E402
from gateway.comments.redaction import Redactor  # noqa: E402
from gateway.flows.loader import load_flow_file  # noqa: E402
from gateway.store import sealing  # noqa: E402
from gateway.store.db import Database  # noqa: E402
from gateway.store.models import Answer, Survey, utcnow  # noqa: E402
from gateway.surveys.comment_arrival import DEFAULT_TAXONOMY, load_taxonomy  # noqa: E402
from gateway.surveys.comment_backfill import backfill  # noqa: E402
from gateway.surveys.flow_versions import flow_source, record_flow_version  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FLOW = ROOT / "flows" / "a11-v2-post-transaction.yaml"
SEED_BATCH = 5000


def comments() -> list[tuple[str, str]]:
    found = []
    for name in ("en.jsonl", "es.jsonl"):
        with (ROOT / "tests" / "comments" / "eval" / name).open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                found.append((record["text"], record["language"]))
    return found


def seed(database: Database, count: int) -> None:
    loaded = load_flow_file(FLOW)
    assert loaded.flow is not None, loaded.errors
    flow = loaded.flow
    texts = comments()
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with database.session() as session:
        agency = ensure_agency(session, flow.agency)
        version = record_flow_version(session, flow, flow_source(flow))
        session.flush()
        agency_id, version_id = agency.id, version.id
    made = 0
    while made < count:
        size = min(SEED_BATCH, count - made)
        surveys, answers = [], []
        for i in range(made, made + size):
            survey_id = "sv_" + uuid.uuid4().hex[:20]
            text, language = texts[i % len(texts)]
            created = start + timedelta(seconds=i)
            surveys.append({
                "id": survey_id, "agency_id": agency_id, "flow_version_id": version_id,
                "flow_id": flow.id, "channel": "sms", "language": language,
                "context": {"office": f"Office {i % 7}"}, "status": "completed",
                "state": {}, "created_at": created, "updated_at": created,
            })  # fmt: skip
            answers.append({
                "survey_id": survey_id, "question_id": "comment", "raw": f"{text} #{i}",
                "value": f"{text} #{i}", "outcome": "answered", "created_at": created,
                "updated_at": created, "survey_created_at": created,
            })  # fmt: skip
        with database.session() as session:
            session.execute(sa.insert(Survey), surveys)
            session.execute(sa.insert(Answer), answers)
        made += size


def reader_only(count: int) -> float:
    reader = RulesReader(load_taxonomy(DEFAULT_TAXONOMY))
    redactor = Redactor()
    texts = comments()
    started = time.perf_counter()
    for i in range(count):
        text, language = texts[i % len(texts)]
        read_comment(f"{text} #{i}", language, redactor, reader)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    sealing.install(
        sealing.keyring_for(Settings(secret_key="bench-secret", secret_key_generated=False))
    )
    with tempfile.TemporaryDirectory() as folder:
        if args.database == "sqlite":
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            drop = None
        else:
            name = "bench_comments_" + uuid.uuid4().hex[:8]
            admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
            drop = (admin, name)
        database = Database(url)
        try:
            database.upgrade()
            seed(database, args.comments)
            reader = RulesReader(load_taxonomy(DEFAULT_TAXONOMY))
            started = time.perf_counter()
            with database.session() as session:
                done = backfill(session, reader, now=utcnow())
            elapsed = time.perf_counter() - started
        finally:
            database.dispose()
            if drop is not None:
                admin, name = drop
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"database: {args.database}")
    print(
        f"backfill: {done.comments} comments in {elapsed:.2f} s = {done.comments / elapsed:,.0f}/s"
    )
    print(f"reader alone: {reader_only(min(args.comments, 20_000)):,.0f} comments/s")


if __name__ == "__main__":
    main()
