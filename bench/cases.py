"""Service-recovery cases at scale: N cases (one per completed survey with a low score)
in PostgreSQL, then the case inbox's pages, a case page and the case figures, through
the dashboard and the API as staff and agency systems ask for them, timed.

Run: .venv/bin/python bench/cases.py --cases 100000
(creates a throwaway database next to TEST_POSTGRES_URL's, dropped at the end unless
--keep; --database NAME measures a kept one again).

Target: every inbox page and the figures under 300 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time as clock
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.dashboard.auth import create_staff
from gateway.flows.registry import FlowRegistry
from gateway.store.db import Database, db_of, upgrade
from gateway.store.sealing import contact_hash, seal
from gateway.surveys.flow_versions import flow_source, record_flow_version

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FLOW_ID = "office-followup"
FLOW = """\
id: office-followup
version: 1
title: Office visit
agency: dmv
context: [office]
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you with your visit?
  - id: may_contact
    type: yesno
    prompt: May we contact you about your answers?
cases:
  consent: may_contact
  resolutions: [fixed, explained, no_action]
  teams: {front-desk: desk@dmv.example.gov}
alerts:
  - name: unhappy
    when: satisfied <= 2
    case: {priority: high, due: 2 business days, team: front-desk}
"""
OFFICES = [f"office-{n}" for n in range(40)]
PRIORITIES = ["low", "normal", "normal", "high", "urgent"]
STAFF = 20
PASSWORD = "correct horse battery"
#: The cases open over the 180 days before now; a little over a third are still open.
DAYS = 180
BATCH = 25_000


def timed(label: str, run: Callable[[], Any], repeat: int = 5) -> float:
    """The median of ``repeat`` runs after one warm-up, printed."""
    run()
    times = []
    for _ in range(repeat):
        start = clock.perf_counter()
        run()
        times.append(clock.perf_counter() - start)
    median = statistics.median(times)
    print(f"  {label:<58} {median * 1000:8.1f} ms")
    return median


def _copy(connection: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    cursor = connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate(
    database: Database, agency_id: int, version_id: int, staff_ids: list[int], count: int
) -> None:
    """``count`` completed surveys with a low score, each with its case."""
    rng = random.Random(2026)
    now = datetime.now(UTC)
    number = "+12025550123"
    sealed, hashed = seal(number), contact_hash(number)
    survey_cols = [
        "id", "agency_id", "flow_version_id", "flow_id", "channel", "contact", "contact_hash",
        "language", "context", "status", "state", "created_at", "updated_at", "sent_at",
        "started_at", "completed_at", "closed_at", "first_answered_at",
    ]  # fmt: skip
    answer_cols = ["survey_id", "question_id", "raw", "value", "outcome", "created_at",
                   "updated_at", "survey_created_at"]  # fmt: skip
    case_cols = [
        "id", "agency_id", "survey_id", "flow_id", "channel", "language", "office", "priority",
        "status", "resolution", "team", "assignee_id", "rule", "opened_by", "contact_consent",
        "opened_at", "due_at", "first_action_at", "resolved_at", "escalated_at", "updated_at",
    ]  # fmt: skip
    low_cols = ["survey_id", "agency_id", "flow_id", "created_at", "has_case"]
    raw = database.engine.raw_connection()
    try:
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            surveys: list[tuple[Any, ...]] = []
            answers: list[tuple[Any, ...]] = []
            cases: list[tuple[Any, ...]] = []
            lows: list[tuple[Any, ...]] = []
            for n in range(done, done + size):
                sid = f"sv_case{n:013d}"
                created = now - timedelta(seconds=rng.random() * DAYS * 86400)
                completed = created + timedelta(minutes=3)
                office = rng.choice(OFFICES)
                channel = rng.choice(["sms", "sms", "sms", "email", "voice"])
                surveys.append((sid, agency_id, version_id, FLOW_ID, channel, sealed, hashed,
                                rng.choice(["en", "en", "es"]), json.dumps({"office": office}),
                                "completed", "{}", created, completed, created, created,
                                completed, completed, completed))  # fmt: skip
                score = rng.choice([1, 2])
                consent = rng.choice(["yes", "no"])
                for question_id, value in (("satisfied", score), ("may_contact", consent)):
                    answers.append((sid, question_id, str(value), json.dumps(value), "answered",
                                    completed, completed, created))  # fmt: skip
                lows.append((sid, agency_id, FLOW_ID, created, True))  # as the listener records
                due = completed + timedelta(days=rng.choice([1, 2, 3, 4, 7]))
                age = now - completed
                resolved = rng.random() < (0.9 if age > timedelta(days=30) else 0.3)
                acted = resolved or rng.random() < 0.6
                first = completed + timedelta(hours=rng.random() * 48) if acted else None
                done_at = completed + timedelta(hours=rng.random() * 24 * 10) if resolved else None
                if done_at is not None and done_at > now:
                    done_at = now
                status = "resolved" if resolved else rng.choice(["new", "in_progress", "waiting"])
                assignee = rng.choice(staff_ids) if acted and rng.random() < 0.9 else None
                cases.append((
                    f"cs_bench{n:011d}", agency_id, sid, FLOW_ID, channel, "en", office,
                    rng.choice(PRIORITIES), status,
                    rng.choice(["fixed", "explained", "no_action"]) if resolved else None,
                    "front-desk", assignee, "unhappy", "rule:unhappy", consent == "yes",
                    completed, due, first, done_at,
                    now if not resolved and due < now else None, done_at or first or completed,
                ))  # fmt: skip
            _copy(raw, "surveys", survey_cols, iter(surveys))
            _copy(raw, "answers", answer_cols, iter(answers))
            _copy(raw, "cases", case_cols, iter(cases))
            _copy(raw, "case_low_scores", low_cols, iter(lows))
            raw.commit()
            done += size
            print(f"  {done:>9,} cases written", flush=True)
        driver = raw.driver_connection
        assert driver is not None
        driver.autocommit = True  # VACUUM runs outside a transaction
        driver.execute("VACUUM ANALYZE")
        driver.autocommit = False
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure this kept database again (no generation)")
    args = parser.parse_args()
    name = args.database or f"gw_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    if not args.database:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    print(f"database {name}")
    try:
        run(url, None if args.database else args.cases)
    finally:
        if not args.keep and not args.database:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, count: int | None) -> None:
    upgrade(url)
    flows = Path(tempfile.mkdtemp())
    (flows / f"{FLOW_ID}.yaml").write_text(FLOW, encoding="utf-8")
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=url,
        flows_dir=flows,
        secret_key="bench",
        secret_key_generated=False,
        redis_url=None,
        environment="test",
    )
    app = create_app(settings, {"TESTING": True})
    registry: FlowRegistry = app.extensions["flows"]
    flow = registry.get(FLOW_ID)
    assert flow is not None
    database = db_of(app)
    with database.session() as session:
        agency = ensure_agency(session, flow.agency)
        version = record_flow_version(session, flow, flow_source(flow))
        session.flush()
        agency_id, version_id = agency.id, version.id
        key = create_api_key(session, agency, "bench")[1]
        emails = [f"analyst{n}-{uuid.uuid4().hex[:6]}@dmv.example.gov" for n in range(STAFF)]
        staff_ids = [create_staff(session, agency, e, PASSWORD, "analyst").id for e in emails]
    if count is not None:
        print(f"writing {count:,} cases (COPY, batches of {BATCH:,})")
        start = clock.perf_counter()
        generate(database, agency_id, version_id, staff_ids, count)
        print(f"  generated in {clock.perf_counter() - start:.1f} s")
    with database.session() as session:
        total, still_open = session.execute(
            sa.text("SELECT count(*), count(*) FILTER (WHERE status <> 'resolved') FROM cases")
        ).one()
        busiest = session.scalar(
            sa.text(
                "SELECT s.email FROM cases c JOIN staff_members s ON s.id = c.assignee_id "
                "WHERE c.status <> 'resolved' GROUP BY s.email ORDER BY count(*) DESC LIMIT 1"
            )
        )
        some_case = session.scalar(sa.text("SELECT id FROM cases ORDER BY due_at DESC LIMIT 1"))
    print(f"{total:,} cases, {still_open:,} open")
    dashboard = app.test_client()
    _sign_in(dashboard, busiest or emails[0])
    api = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}

    def page(path: str) -> Callable[[], None]:
        def fetch() -> None:
            answer = dashboard.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        return fetch

    def call(path: str) -> Callable[[], None]:
        def fetch() -> None:
            answer = api.get(path, headers=headers)
            assert answer.status_code == 200, (path, answer.status_code)

        return fetch

    half_year = (datetime.now(UTC) - timedelta(days=DAYS)).date().isoformat()
    print("dashboard pages, whole requests (median of 5)")
    for label, path in [
        ("inbox: open", "/dashboard/cases"),
        ("inbox: mine", "/dashboard/cases?view=mine"),
        ("inbox: unassigned", "/dashboard/cases?view=unassigned"),
        ("inbox: overdue", "/dashboard/cases?view=overdue"),
        ("inbox: all", "/dashboard/cases?view=all"),
        ("inbox: one office, high priority, sms",
         "/dashboard/cases?office=office-7&priority=high&channel=sms"),
        ("a case page", f"/dashboard/cases/{some_case}"),
        ("figures: default 90 days", "/dashboard/cases/figures"),
        ("figures: 180 days", f"/dashboard/cases/figures?from={half_year}"),
    ]:  # fmt: skip
        timed(label, page(path))
    print("API (median of 5)")
    for label, path in [
        ("GET /cases?view=open", "/api/v1/cases?view=open"),
        ("GET /cases?view=overdue&limit=200", "/api/v1/cases?view=overdue&limit=200"),
        ("GET /cases/figures (90 days)", "/api/v1/cases/figures"),
    ]:
        timed(label, call(path))
    database.dispose()


def _sign_in(client: Any, email: str) -> None:
    html = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    answer = client.post(
        "/dashboard/login", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert answer.status_code == 302, answer.status_code


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
