"""Batch triggers: many surveys from one request (``POST /api/v1/surveys/batch``).

Each row is checked by the single trigger's :func:`~gateway.triggers.validate_trigger`;
a refused row is reported by its number (1 for the first row of the JSON array or the
first data line of the CSV) and the field to blame, and the other rows go ahead. Accepted
rows are inserted in bulk (PostgreSQL's COPY, executemany elsewhere) in one transaction
with the batch's record, which is committed before anything is queued.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gateway.flow_versions import flow_source, record_flow_version
from gateway.flows.registry import FlowRegistry
from gateway.store.batch_models import SurveyBatch
from gateway.store.models import Agency, OptOut, Survey, new_survey_id
from gateway.triggers import (
    NOT_SURVEYED,
    TriggerError,
    TriggerRequest,
    fatigue_days,
    survey_values,
    validate_trigger,
)

MAX_ROWS = 100_000
#: Rows per INSERT round trip and per opt-out lookup.
INSERT_CHUNK = 5_000
CSV_COLUMNS = ("flow", "channel", "to", "language", "send_at")
CONTEXT_PREFIX = "context."
#: Survey columns COPY receives as JSON text.
_JSON_COLUMNS = ("context", "state")


class BatchError(Exception):
    """The batch as a whole is refused: HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Rejection:
    row: int
    field: str | None
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


@dataclass
class Created:
    """What a committed batch created: the id and the surveys to start, by status."""

    batch: SurveyBatch
    queued: list[str] = field(default_factory=list)
    scheduled: list[tuple[str, datetime]] = field(default_factory=list)


# -- reading the rows -------------------------------------------------------------------


def rows_from_json(payload: Any) -> list[Any]:
    """The rows of ``{"surveys": [...]}``."""
    if not isinstance(payload, dict) or set(payload) != {"surveys"}:
        raise BatchError(400, "invalid_body", 'the body must be {"surveys": [trigger, ...]}')
    rows = payload["surveys"]
    if not isinstance(rows, list):
        raise BatchError(400, "invalid_body", '"surveys" must be an array of triggers')
    return _bounded(rows)


def rows_from_csv(text: str) -> list[Any]:
    """Triggers from CSV: a header of flow, channel, to, language, send_at and
    ``context.<name>`` columns; an empty cell is an absent field."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise BatchError(400, "invalid_csv", "the CSV is empty; its first line names the columns")
    header = [name.strip() for name in header]
    unknown = [n for n in header if n not in CSV_COLUMNS and not n.startswith(CONTEXT_PREFIX)]
    if unknown:
        raise BatchError(
            400,
            "invalid_csv",
            f"unknown CSV column {unknown[0]!r}; columns are {', '.join(CSV_COLUMNS)} "
            f"and {CONTEXT_PREFIX}<name>",
        )
    rows: list[Any] = []
    for line in reader:
        if len(rows) >= MAX_ROWS:
            raise _too_many()
        if not any(cell.strip() for cell in line):
            continue
        if len(line) != len(header):
            rows.append(f"line has {len(line)} cells, the header {len(header)}")
            continue
        trigger: dict[str, Any] = {}
        for name, cell in zip(header, line, strict=True):
            if cell == "":
                continue
            if name.startswith(CONTEXT_PREFIX):
                trigger.setdefault("context", {})[name[len(CONTEXT_PREFIX) :]] = cell
            else:
                trigger[name] = cell
        rows.append(trigger)
    return rows


def _too_many() -> BatchError:
    return BatchError(413, "too_many_rows", f"a batch holds at most {MAX_ROWS:,} rows; split it")


def _bounded(rows: list[Any]) -> list[Any]:
    if len(rows) > MAX_ROWS:
        raise _too_many()
    return rows


# -- checking them ----------------------------------------------------------------------


def validate_rows(
    rows: Iterable[Any], agency: Agency, registry: FlowRegistry, now: datetime
) -> tuple[list[TriggerRequest], list[Rejection]]:
    """The accepted triggers, in row order, and the refused rows."""
    accepted: list[TriggerRequest] = []
    rejected: list[Rejection] = []
    today = now.date()
    for number, row in enumerate(rows, start=1):
        if isinstance(row, str):  # a CSV line that could not be read as a row
            rejected.append(Rejection(number, None, "invalid_row", row))
            continue
        try:
            accepted.append(validate_trigger(row, agency, registry, today, now=now))
        except TriggerError as exc:
            rejected.append(Rejection(number, exc.field, exc.code, exc.message))
    return accepted, rejected


# -- storing them -----------------------------------------------------------------------


def find_batch(session: Session, agency: Agency, key: str) -> SurveyBatch | None:
    return session.scalars(
        sa.select(SurveyBatch).where(
            SurveyBatch.agency_id == agency.id, SurveyBatch.idempotency_key == key
        )
    ).first()


def create_batch(
    session: Session,
    agency: Agency,
    triggers: list[TriggerRequest],
    rejected: list[Rejection],
    *,
    rows: int,
    idempotency_key: str | None,
    body_hash: str,
    now: datetime,
) -> Created:
    """Record the batch and its surveys (not committed, nothing queued).

    The batch row goes first, so that a concurrent request with the same key waits on its
    unique index and then fails, instead of inserting the surveys a second time.
    """
    batch = SurveyBatch(
        agency_id=agency.id,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        rows=rows,
        accepted=len(triggers),
        rejected=[r.to_json() for r in rejected],
        created_at=now,
    )
    session.add(batch)
    session.flush()
    versions: dict[str, int] = {}  # one flow-version lookup per flow, not per row
    for trigger in triggers:
        if trigger.flow.id not in versions:
            flow = trigger.flow
            versions[flow.id] = record_flow_version(session, flow, flow_source(flow)).id
    created = Created(batch)
    surveyed: set[str] = set()  # contacts this batch surveys: a second row is fatigue
    for chunk in _chunks(triggers, INSERT_CHUNK):
        contacts = {t.to for t in chunk}
        opted_out = _opted_out(session, contacts)
        longest = max(fatigue_days(t.flow) for t in chunk)
        last_surveyed = _last_surveyed(session, agency.id, contacts, now - timedelta(longest))
        values = []
        for trigger in chunk:
            days = fatigue_days(trigger.flow)
            previous = last_surveyed.get(trigger.to)
            fatigued = days > 0 and (
                trigger.to in surveyed
                or (previous is not None and previous >= now - timedelta(days))
            )
            row = survey_values(
                trigger,
                agency_id=agency.id,
                flow_version_id=versions[trigger.flow.id],
                opted_out=trigger.to in opted_out,
                now=now,
                fatigued=fatigued,
            )
            if row["status"] in ("queued", "scheduled"):
                surveyed.add(trigger.to)
            row["id"] = new_survey_id()
            values.append(row)
            if row["status"] == "queued":
                created.queued.append(row["id"])
            elif row["status"] == "scheduled":
                created.scheduled.append((row["id"], row["send_at"]))
        _insert(session, values)
    return created


def _chunks(items: list[TriggerRequest], size: int) -> Iterator[list[TriggerRequest]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _among(session: Session, column: Any, values: set[str]) -> Any:
    """``column IN values``; on PostgreSQL one array parameter, which for thousands of
    values costs far less than as many IN parameters."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam("values", list(values), ARRAY(sa.String)))
    return column.in_(values)


def _opted_out(session: Session, contacts: set[str]) -> set[str]:
    match = _among(session, OptOut.contact, contacts)
    return set(session.scalars(sa.select(OptOut.contact).where(match)))


def _last_surveyed(
    session: Session, agency_id: int, contacts: set[str], since: datetime
) -> dict[str, datetime]:
    """When each of ``contacts`` was last surveyed by the agency, since ``since``."""
    query = (
        sa.select(Survey.contact, sa.func.max(Survey.created_at))
        .where(
            _among(session, Survey.contact, contacts),
            Survey.agency_id == agency_id,
            Survey.status.not_in(NOT_SURVEYED),
            Survey.created_at >= since,
        )
        .group_by(Survey.contact)
    )
    return {contact: at for contact, at in session.execute(query)}


def _insert(session: Session, values: list[dict[str, Any]]) -> None:
    if not values:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(Survey), values)
        return
    columns = list(values[0])
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY surveys ({names}) FROM STDIN") as copy:
        for row in values:
            copy.write_row([json.dumps(row[c]) if c in _JSON_COLUMNS else row[c] for c in columns])
