"""What every fuzz target asserts, the values it draws from, and how many cases it tried.

Every target asserts three things: no answer is a 5xx (nor an error the route hides
behind a 200, such as the apology a voice webhook speaks after an exception); a refused
request wrote no row; and once a worker has run every job that is due, no job is left
failed, retrying or waiting, and no survey sits ``queued``.

The number of examples per target is ``FUZZ_EXAMPLES`` (small by default, so the suite fits
in ``make test``); each target writes the cases it tried, by status, to
``.cache/fuzz/<target>.json``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import responses
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rq import Queue

from gateway.sending.worker import run_worker
from gateway.services.queue import QUEUES, queue_name, redis_of
from gateway.store.db import db_of
from gateway.store.models import Base, Survey, utcnow

ROOT = Path(__file__).resolve().parent.parent.parent
REPORTS = ROOT / ".cache" / "fuzz"

#: Examples per target: ``FUZZ_EXAMPLES=1000`` for the long run (docs/security.md).
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))


def fuzz_settings(examples: int = FUZZ_EXAMPLES) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# -- what the targets draw from ----------------------------------------------------------

#: An origin the fuzz gateway trusts for webhooks as it is (``OUTBOUND_ALLOWLIST``), so that
#: generated subscriptions can be created and the links after them followed.
HOOKS = "https://hooks.example.gov"

#: Text a store cannot keep or no person meant, and text that is merely unusual.
HOSTILE = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\x1b[31m",
    "\x07\x08\x7f",
    "\r\n",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "é" * 3,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "%00",
    "9" * 25,
    "-1",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "STOP",
    "HELP",
    "START",
    "",
    " ",
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cs", "Zs"]), max_size=8),
    st.builds(lambda s, n: s * n, st.sampled_from(["x", "é", "\x00", "9"]), st.integers(1, 20_000)),
)


def text_or(*plausible: str) -> st.SearchStrategy[str]:
    """One of ``plausible`` (what a real sender sends) three times in four, else hostile
    text: most requests get past the first check, so that the later ones are fuzzed too."""
    if not plausible:
        return hostile_text
    real = st.sampled_from(plausible)
    return st.one_of(real, real, real, hostile_text)


# -- what was written --------------------------------------------------------------------


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table of the store."""
    tables = Base.metadata.sorted_tables
    counts = sa.union_all(
        *(
            sa.select(
                sa.literal(table.name).label("name"), sa.func.count().label("rows")
            ).select_from(table)
            for table in tables
        )
    )
    with db_of(app).session() as session:
        return {name: int(rows) for name, rows in session.execute(counts)}


def assert_nothing_written(before: dict[str, int], after: dict[str, int], what: str) -> None:
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, f"{what} wrote rows (before, after): {changed}"


# -- what is left in the queues ----------------------------------------------------------


def work_off(app: Flask) -> None:
    """Run every job that is due, retries included, as ``gateway worker --burst`` does."""
    run_worker(app, burst=True)


def stuck(app: Flask) -> list[str]:
    """What a worker left behind: failed, started, deferred or waiting jobs, scheduled jobs
    of surveys that are not scheduled, and surveys still ``queued``."""
    connection = redis_of(app)
    problems: list[str] = []
    with db_of(app).session() as session:
        scheduled = set(
            session.scalars(
                sa.select(Survey.id).where(Survey.status == "scheduled", Survey.send_at > utcnow())
            )
        )
        queued = list(session.scalars(sa.select(Survey.id).where(Survey.status == "queued")))
    problems += [f"survey {survey_id} is still queued" for survey_id in queued]
    for purpose in QUEUES:
        queue = Queue(queue_name(app.extensions["settings"], purpose), connection=connection)
        if queue.count:
            problems.append(f"{queue.name}: {queue.count} jobs still waiting")
        for registry in (
            queue.failed_job_registry,
            queue.started_job_registry,
            queue.deferred_job_registry,
        ):
            for job in queue.job_class.fetch_many(registry.get_job_ids(), connection=connection):
                if job is not None:
                    reason = (job.latest_result().exc_string if job.latest_result() else "") or ""
                    problems.append(
                        f"{type(registry).__name__}: {job.func_name}{job.args}: "
                        f"{reason.strip().splitlines()[-1:] or ''}"
                    )
        for job in queue.job_class.fetch_many(
            queue.scheduled_job_registry.get_job_ids(), connection=connection
        ):
            if job is not None and not _surveys_of(job.args) <= scheduled:
                problems.append(f"scheduled or retrying: {job.func_name}{job.args}")
    return problems


def _surveys_of(args: tuple[Any, ...]) -> set[str]:
    """The surveys a job is for: its first argument, one id or a chunk's list of them."""
    first = args[0] if args else None
    if isinstance(first, str):
        return {first}
    return {str(item) for item in first} if isinstance(first, list) else {"(none)"}


def assert_nothing_stuck(app: Flask) -> None:
    work_off(app)
    problems = stuck(app)
    assert not problems, "left behind after the worker ran:\n" + "\n".join(problems)


# -- Twilio's REST API -------------------------------------------------------------------

TWILIO_API = re.compile(
    r"https://api\.twilio\.com/2010-04-01/Accounts/[^/]+/(Messages|Calls)\.json"
)


def answer_every_twilio_request(mock: responses.RequestsMock) -> None:
    """Twilio's API accepts every text and call, each with a sid of its own."""
    numbers = itertools.count(1)

    def created(request: Any) -> tuple[int, dict[str, str], str]:
        kind = "CA" if "/Calls.json" in request.url else "SM"
        body = {"sid": f"{kind}{next(numbers):032x}", "status": "queued", "account_sid": "AC"}
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    mock.add_callback(responses.POST, TWILIO_API, callback=created)


# -- how many cases were tried -----------------------------------------------------------


@dataclass
class Tally:
    """The cases a target tried, by the status they were answered with; written to
    ``.cache/fuzz/<target>.json`` when the target ends."""

    target: str
    statuses: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def count(self, status: int | str) -> None:
        self.statuses[str(status)] += 1

    def note(self, what: str, how_many: int = 1) -> None:
        """Count something a case did (rows accepted, surveys completed)."""
        self.notes[what] += how_many

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())

    def write(self) -> None:
        REPORTS.mkdir(parents=True, exist_ok=True)
        report = {
            "target": self.target,
            "examples_setting": FUZZ_EXAMPLES,
            "cases": self.cases,
            "statuses": dict(sorted(self.statuses.items())),
            **dict(sorted(self.notes.items())),
            "seconds": round(time.monotonic() - self.started, 1),
        }
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.target).strip("-")
        (REPORTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")


def tally_for(target: str) -> Iterator[Tally]:
    tally = Tally(target)
    yield tally
    tally.write()
