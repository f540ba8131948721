"""Results at scale: N completed surveys in PostgreSQL, then the A-11 report, each dashboard
page's queries (and the flow page's range queries against their previous form,
bench/results_baseline.py, in the same run) and the CSV exports, timed, with the process's
peak memory.

Run: .venv/bin/python bench/results_data.py --surveys 1000000
(creates a throwaway database next to TEST_POSTGRES_URL's, dropped at the end unless --keep;
--database NAME measures a kept one again, --only report|dashboard|export one part). The
exports are measured in a process of their own, so its peak memory is the export's alone.

Targets: report and each dashboard page under 1 s; CSV export at least 20,000 rows/s while
the process stays under 150 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time as clock
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.dashboard import queries as dash
from gateway.flows.registry import FlowRegistry
from gateway.reports.fiscal import FiscalQuarter
from gateway.reports.report import a11_report, submission_csv
from gateway.store.db import Database, db_of, upgrade
from gateway.surveys.flow_versions import flow_source, record_flow_version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results_baseline as baseline  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FLOW_ID = "a11-v2-post-transaction"
#: The surveys are spread evenly over eight quarters, FY2025 Q1 to FY2026 Q4 (two years):
#: the report covers one quarter (an eighth of them), a dashboard page its default range
#: of 90 days; "all time" figures are given beside them for comparison.
FIRST = FiscalQuarter(2025, 1)
QUARTER = FiscalQuarter(2026, 4)
OFFICES = [f"office-{n}" for n in range(40)]
CHANNELS = ["sms", "sms", "sms", "voice", "email", "web"]
DRIVERS = ["effectiveness", "ease", "efficiency", "transparency", "humanity", "employee", "other"]
COMMENTS = ["Quick service", "Long wait at the counter", "Très bien, merci", "Staff were kind", ""]
BATCH = 50_000


def peak_mb() -> float:
    """The process's peak resident memory so far, in MiB.

    Linux's ``VmHWM`` starts afresh when a program is executed; ``ru_maxrss`` would carry
    over the peak of the parent that started it (the generator's), so it is the fallback.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, run: Callable[[], Any], repeat: int = 3) -> float:
    """The median of ``repeat`` runs, printed."""
    times = []
    for _ in range(repeat):
        start = clock.perf_counter()
        run()
        times.append(clock.perf_counter() - start)
    median = statistics.median(times)
    print(f"  {label:<44} {median * 1000:8.1f} ms")
    return median


def _copy(connection: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    cursor = connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _contact_columns(database: Database) -> tuple[str, dict[str, str]]:
    """The stored form of the surveys' (one, made-up) phone number, and any hash column:
    sealed with the gateway's contact key where the store seals contacts."""
    number = "+12025550123"
    columns = {c["name"] for c in sa.inspect(database.engine).get_columns("surveys")}
    if "contact_hash" not in columns:
        return number, {}
    from gateway.store.sealing import contact_hash, seal

    return seal(number), {"contact_hash": contact_hash(number)}


def generate(database: Database, agency_id: int, version_id: int, count: int) -> None:
    """``count`` completed surveys over two years, with trust, drivers and comments."""
    rng = random.Random(2027)
    span = (QUARTER.end - FIRST.start).total_seconds() - 1
    survey_cols = [
        "id", "agency_id", "flow_version_id", "flow_id", "channel", "contact", "language",
        "context", "status", "state", "created_at", "updated_at", "sent_at", "started_at",
        "completed_at", "first_answered_at",
    ]  # fmt: skip
    contact, extra = _contact_columns(database)
    survey_cols += list(extra)
    answer_cols = ["survey_id", "question_id", "raw", "value", "outcome", "created_at",
                   "updated_at", "survey_created_at"]  # fmt: skip
    raw = database.engine.raw_connection()
    try:
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            surveys: list[tuple[Any, ...]] = []
            answers: list[tuple[Any, ...]] = []
            for n in range(done, done + size):
                sid = f"sv_bench{n:012d}"
                created = FIRST.start + timedelta(seconds=rng.random() * span)
                channel = rng.choice(CHANNELS)
                context = {"office": rng.choice(OFFICES)}
                if channel == "web" and rng.random() < 0.3:
                    context["location"] = "kiosk-" + str(rng.randrange(5))
                completed = created + timedelta(minutes=3)
                surveys.append((sid, agency_id, version_id, FLOW_ID, channel, contact,
                                rng.choice(["en", "en", "es"]), json.dumps(context), "completed",
                                "{}", created, completed, created, created, completed, completed,
                                *extra.values()))  # fmt: skip
                trust = "yes" if rng.random() < 0.7 else "no"
                picked = rng.sample(DRIVERS, rng.randrange(1, 3))
                follow = "went_well" if trust == "yes" else "went_poorly"
                rows = [("trust", trust, json.dumps(trust)), (follow, None, json.dumps(picked))]
                comment = rng.choice(COMMENTS)
                if comment:
                    rows.append(("comment", comment, json.dumps(comment)))
                for question_id, raw_text, value in rows:
                    answers.append((sid, question_id, raw_text, value, "answered", completed,
                                    completed, created))  # fmt: skip
            _copy(raw, "surveys", survey_cols, iter(surveys))
            _copy(raw, "answers", answer_cols, iter(answers))
            raw.commit()
            done += size
            print(f"  {done:>9,} surveys written", flush=True)
        driver = raw.driver_connection
        assert driver is not None
        driver.autocommit = True  # VACUUM runs outside a transaction
        driver.execute("VACUUM ANALYZE")
        driver.autocommit = False  # the connection goes back to the pool
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--surveys", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure this kept database again (no generation)")
    parser.add_argument("--only", choices=PARTS, help="measure only this part")
    args = parser.parse_args()
    parts = [args.only] if args.only else list(PARTS)

    name = args.database or f"gw_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    if not args.database:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    print(f"database {name}")
    try:
        run(url, name, None if args.database else args.surveys, parts)
    finally:
        if not args.keep and not args.database:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


PARTS = ("report", "dashboard", "export")


def run(url: str, name: str, count: int | None, parts: list[str]) -> None:
    """Generate ``count`` surveys (none: the database has them), then measure ``parts``."""
    upgrade(url)
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=url,
        flows_dir=ROOT / "flows",
        secret_key="bench",
        secret_key_generated=False,
        redis_url=None,
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

    if count is not None:
        print(f"writing {count:,} completed surveys (COPY, batches of {BATCH:,})")
        start = clock.perf_counter()
        generate(database, agency_id, version_id, count)
        print(f"  generated in {clock.perf_counter() - start:.1f} s")

    if "report" in parts:
        print("A-11 report (median of 3)")
        timed(f"A-11 report, {QUARTER} (JSON figures)", lambda: _session(
            database, lambda s: a11_report(s, flow, agency_id, QUARTER)))  # fmt: skip
    if "dashboard" in parts:
        with database.session() as session:
            newest = dash.latest_day(session, agency_id, flow.id)
        assert newest is not None
        window = dash.Filters(
            start=datetime.combine(newest - timedelta(days=89), time(), UTC),
            end=datetime.combine(newest + timedelta(days=1), time(), UTC),
        )
        for label, filters in (("90 days", window), ("all time", dash.Filters())):
            print(f"dashboard page queries, {label} (median of 3)")
            _page(database, flow, agency_id, filters)
        print("the flow page's range queries against the previous ones, 90 days")
        _compare(database, flow, agency_id, window)
    if "export" in parts:
        if count is not None or len(parts) > 1:
            database.dispose()
            # A fresh process: its peak memory is the exports' own, not the generator's.
            command = [sys.executable, __file__, "--database", name, "--only", "export"]
            subprocess.run(command, check=True)
        else:
            _exports(app, database, flow, agency_id, key)
    database.dispose()


def _exports(app: Any, database: Database, flow: Any, agency_id: int, key: str) -> None:
    print("CSV exports (one pass each)")
    _csv_rate(
        f"A-11 submission CSV, {QUARTER}",
        lambda: submission_csv(database, flow, agency_id, QUARTER),
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}

    def responses_csv() -> Iterator[str]:
        since, until = QUARTER.start.date().isoformat(), QUARTER.end.date().isoformat()
        url = f"/api/v1/responses?flow={FLOW_ID}&format=csv&since={since}&until={until}"
        response = client.get(url, headers=headers)
        for chunk in response.response:
            yield chunk.decode() if isinstance(chunk, bytes) else chunk

    _csv_rate(f"GET /api/v1/responses?format=csv, {QUARTER}", responses_csv)

    def floip_rows() -> Iterator[str]:
        since, until = QUARTER.start.date().isoformat(), QUARTER.end.date().isoformat()
        url = f"/api/v1/responses?flow={FLOW_ID}&format=floip-data&since={since}&until={until}"
        response = client.get(url, headers=headers)
        for chunk in response.response:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            yield text.replace("\n", "\r\n")  # one answer row per line

    _csv_rate(f"FLOIP rows (answers), {QUARTER}", floip_rows, extra_lines=2)


def _page(database: Database, flow: Any, agency_id: int, filters: dash.Filters) -> None:
    """Each query of the flow page and the comments page, then the flow page's sum."""
    clauses = dash.filter_clauses(agency_id, flow.id, filters)
    narrowed = dash.filter_clauses(
        agency_id, flow.id, dataclasses.replace(filters, channel="sms", language="es")
    )
    flow_page: dict[str, Callable[[Any], Any]] = {
        "activity (timeline and funnel)": lambda s: dash.activity(s, clauses),
        "answer counts (drivers, distributions)": lambda s: dash.closed_answer_counts(
            s, flow, clauses, filters
        ),
        "context breakdowns": lambda s: dash.breakdowns(s, flow, clauses, filters),
        "filter choices": lambda s: dash.filter_choices(s, agency_id, flow.id, filters),
        "newest day (default range)": lambda s: dash.latest_day(s, agency_id, flow.id),
    }
    total = 0.0
    for label, query in flow_page.items():
        total += timed(f"  {label}", lambda q=query: _session(database, q))  # type: ignore[misc]
    print(f"  {'  = the flow page':<42} {total * 1000:8.1f} ms")
    timed("  flow page's activity, sms + es filter", lambda: _session(
        database, lambda s: dash.activity(s, narrowed)))  # fmt: skip
    timed("  comments page, newest 50", lambda: _session(
        database, lambda s: dash.comments(s, flow, clauses, None)))  # fmt: skip
    timed("  comments page, search 'wait'", lambda: _session(
        database, lambda s: dash.comments(s, flow, clauses, "wait")))  # fmt: skip


def _compare(database: Database, flow: Any, agency_id: int, filters: dash.Filters) -> None:
    """The flow page's three range queries, now and as they were (bench/results_baseline),
    run in alternation so that both see the same load; medians of 5 and their ratio."""
    clauses = dash.filter_clauses(agency_id, flow.id, filters)

    def current(s: Any) -> None:
        dash.activity(s, clauses)
        dash.closed_answer_counts(s, flow, clauses, filters)
        dash.breakdowns(s, flow, clauses, filters)

    def before(s: Any) -> None:
        baseline.activity(s, clauses)
        baseline.closed_answer_counts(s, flow, clauses)
        baseline.breakdowns(s, flow, clauses)

    times: dict[str, list[float]] = {"now": [], "before": []}
    for _ in range(5):
        for name, page in (("now", current), ("before", before)):
            start = clock.perf_counter()
            _session(database, page)
            times[name].append(clock.perf_counter() - start)
    now, then = statistics.median(times["now"]), statistics.median(times["before"])
    print(f"  activity + answer counts + breakdowns: {now * 1000:.1f} ms now, "
          f"{then * 1000:.1f} ms the previous way (x{then / now:.1f}), alternating")  # fmt: skip


def _session(database: Database, query: Callable[[Any], Any]) -> Any:
    with database.session() as session:
        return query(session)


def _csv_rate(label: str, produce: Callable[[], Iterator[str]], extra_lines: int = 1) -> None:
    """Rows per second of a streamed export; ``extra_lines`` are line ends that are not rows."""
    start = clock.perf_counter()
    rows = -extra_lines
    size = 0
    for chunk in produce():
        rows += chunk.count("\r\n")
        size += len(chunk)
    elapsed = clock.perf_counter() - start
    print(
        f"  {label:<42} {rows:>9,} rows in {elapsed:6.1f} s = {rows / elapsed:>9,.0f} rows/s, "
        f"{size / 1e6:.0f} MB of CSV, peak RSS so far {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
