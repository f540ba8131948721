"""Batch triggers: many surveys from one request (``POST /api/v1/surveys/batch``).

Each row is checked by the single trigger's
:func:`~gateway.surveys.trigger_requests.validate_trigger`; a refused row is reported by
its number (1 for the first row of the JSON array or the first data line of the CSV) and
the field to blame, and the other rows go ahead. Accepted rows are inserted in bulk
(PostgreSQL's COPY, executemany elsewhere) in one transaction with the batch's record,
which is committed before anything is queued.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gateway.flows.registry import FlowRegistry
from gateway.reach import attempts, interactions
from gateway.reach.quotas import QuotaCounter
from gateway.store.agency_models import AgencyOptOut
from gateway.store.batch_models import SurveyBatch
from gateway.store.driver import insert_rows
from gateway.store.models import Agency, OptOut, Survey, new_survey_id
from gateway.store.sealing import contact_hash, seal
from gateway.surveys.creation import NOT_SURVEYED, fatigue_days, survey_values
from gateway.surveys.flow_versions import flow_source, record_flow_version
from gateway.surveys.trigger_requests import (
    InvalidContact,
    TriggerError,
    TriggerRequest,
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
    #: A row refused for its contact alone: still an interaction to count.
    invalid_contact: InvalidContact | None = None

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
    reader = csv.reader(io.StringIO(text, newline=""))  # lines may end \r\n, \n or \r
    try:
        return _csv_rows(reader)
    except csv.Error as exc:
        raise BatchError(
            400, "invalid_csv", f"the CSV cannot be read at line {reader.line_num}: {exc}"
        ) from exc


def _csv_rows(reader: Iterator[list[str]]) -> list[Any]:
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
    repeated = sorted({n for n in header if header.count(n) > 1})
    if repeated:
        raise BatchError(
            400, "invalid_csv", f"CSV column {repeated[0]!r} appears more than once; name it once"
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
        except InvalidContact as exc:
            rejected.append(Rejection(number, exc.field, exc.code, exc.message, exc))
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
    quotas = QuotaCounter(session, agency.id, now)
    counted = [_invalid_interaction(r, agency.id, batch.id, now) for r in rejected]
    interactions.insert_many(session, [row for row in counted if row is not None])
    surveyed: set[str] = set()  # contact hashes this batch surveys: a second row is fatigue
    all_hashes = {t.to: contact_hash(t.to) for t in triggers}
    # Read before the first insert: the batch's own rows are in ``surveyed``, and a lookup
    # made after inserts would have to step over them in every chunk.
    last_surveyed: dict[str, datetime] = {}
    if triggers:
        since = now - timedelta(max(fatigue_days(t.flow) for t in triggers))
        for part in _chunks(sorted(set(all_hashes.values())), INSERT_CHUNK):
            last_surveyed.update(_last_surveyed(session, agency.id, set(part), since))
    for chunk in _chunks(triggers, INSERT_CHUNK):
        hashes = {t.to: all_hashes[t.to] for t in chunk}
        opted_out = _opted_out(session, set(hashes.values()), agency.id)
        values = []
        reported = []
        for trigger in chunk:
            survey_id = new_survey_id()
            hashed = hashes[trigger.to]
            days = fatigue_days(trigger.flow)
            previous = last_surveyed.get(hashed)
            fatigued = days > 0 and (
                hashed in surveyed or (previous is not None and previous >= now - timedelta(days))
            )
            row = survey_values(
                trigger,
                agency_id=agency.id,
                flow_version_id=versions[trigger.flow.id],
                opted_out=hashed in opted_out,
                now=now,
                fatigued=fatigued,
                declined=interactions.decline_reason(trigger, survey_id, quotas),
            )
            if row["status"] in ("queued", "scheduled"):
                surveyed.add(hashed)
            row["id"] = survey_id
            values.append(row)
            reported.append(_interaction(trigger, agency.id, batch.id, row, now))
            if row["status"] == "queued":
                created.queued.append(row["id"])
            elif row["status"] == "scheduled":
                created.scheduled.append((row["id"], row["send_at"]))
        insert_rows(session, cast(sa.Table, Survey.__table__), values, _copy_value)
        interactions.insert_many(session, reported)
        attempts.plan_batch(session, zip(values, chunk, strict=True), now)
    return created


def _interaction(
    trigger: TriggerRequest, agency_id: int, batch_id: str, survey: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return interactions.values(
        trigger, agency_id=agency_id, now=now, survey=survey, batch_id=batch_id
    )


def _invalid_interaction(
    rejection: Rejection, agency_id: int, batch_id: str, now: datetime
) -> dict[str, Any] | None:
    error = rejection.invalid_contact
    if error is None:
        return None
    return interactions.values(error, agency_id=agency_id, now=now, batch_id=batch_id)


T = TypeVar("T")


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _among(session: Session, column: Any, values: set[str]) -> Any:
    """``column IN values``; on PostgreSQL one array parameter, which for thousands of
    values costs far less than as many IN parameters."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam("values", list(values), ARRAY(sa.String)))
    return column.in_(values)


def _opted_out(session: Session, hashes: set[str], agency_id: int) -> set[str]:
    """Which of these contact hashes opted out of every agency's texts or the agency's."""
    everyone = _among(session, OptOut.contact_hash, hashes)
    agency = _among(session, AgencyOptOut.contact_hash, hashes)
    return set(session.scalars(sa.select(OptOut.contact_hash).where(everyone))) | set(
        session.scalars(
            sa.select(AgencyOptOut.contact_hash).where(agency, AgencyOptOut.agency_id == agency_id)
        )
    )


def _last_surveyed(
    session: Session, agency_id: int, hashes: set[str], since: datetime
) -> dict[str, datetime]:
    """When the contact of each of these hashes was last surveyed by the agency, since
    ``since``."""
    query = (
        sa.select(Survey.contact_hash, sa.func.max(Survey.created_at))
        .where(
            _among(session, Survey.contact_hash, hashes),
            Survey.agency_id == agency_id,
            Survey.status.not_in(NOT_SURVEYED),
            Survey.created_at >= since,
        )
        .group_by(Survey.contact_hash)
    )
    return {hashed: at for hashed, at in session.execute(query) if hashed is not None}


def _copy_value(column: str, value: Any) -> Any:
    """A value as COPY takes it: JSON as text, the contact sealed as its column seals it."""
    if column in _JSON_COLUMNS:
        return json.dumps(value)
    if column == "contact":
        return seal(value) if value else None
    return value
