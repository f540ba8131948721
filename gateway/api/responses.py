"""``GET /api/v1/responses``: an agency's surveys, as JSON pages or one streamed CSV."""

from __future__ import annotations

import base64
import binascii
import csv
import hmac
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from gateway.api.auth import current_agency
from gateway.api.params import DEFAULT_LIMIT, MAX_LIMIT, bad_parameter, time_parameter
from gateway.exports import floip_api
from gateway.exports.csv_rows import comment_header, survey_csv_rows
from gateway.exports.filters import extra_clauses
from gateway.exports.streams import started
from gateway.flows.model import CHANNELS, Flow
from gateway.flows.registry import FlowRegistry
from gateway.http.errors import ApiError
from gateway.store.db import Database, db_of
from gateway.store.models import SURVEY_STATUSES, Agency, FlowVersion, Survey
from gateway.store.sealing import keyed_digest
from gateway.store.slow_reads import reading
from gateway.surveys.comment_readings import readings_json
from gateway.surveys.flow_versions import flow_for_version
from gateway.surveys.input_policy import (
    MAX_QUERY_VALUE,
    InputRefused,
    check_datetime,
    check_text,
    whole_number,
)
from gateway.surveys.serializers import survey_json

bp = Blueprint("responses", __name__)

CSV_FIXED = ("id", "flow_version", "channel", "language", "status", "created_at", "completed_at")


@dataclass(frozen=True)
class Filters:
    flow: str | None
    channel: str | None
    status: str | None
    since: datetime | None
    until: datetime | None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise bad_parameter(name, f"{name} must be one of {', '.join(allowed)}")
    return value


def _filters() -> Filters:
    return Filters(
        flow=request.args.get("flow") or None,
        channel=_choice("channel", CHANNELS),
        status=_choice("status", SURVEY_STATUSES),
        since=time_parameter("since"),
        until=time_parameter("until"),
    )


def _limit() -> int:
    try:
        return whole_number(request.args.get("limit", str(DEFAULT_LIMIT)), "limit", 1, MAX_LIMIT)
    except InputRefused as exc:
        raise bad_parameter("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}") from exc


def _cursor_mac(created_at: str, survey_id: str) -> str:
    # Keyed, so that only a cursor this API made reads as one (docs/api.md).
    return keyed_digest(json.dumps(["cursor", created_at, survey_id]).encode())[:32]


def encode_cursor(survey: Survey) -> str:
    """The opaque, signed position after ``survey`` (its creation time and id)."""
    created_at = survey.created_at.isoformat()
    position = [created_at, survey.id, _cursor_mac(created_at, survey.id)]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points after; 400 naming ``cursor`` when it is not one
    this API returned (unsigned, altered or malformed)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        created_at, survey_id, mac = data
        if not all(isinstance(part, str) for part in data):
            raise ValueError(raw)
        if not hmac.compare_digest(mac.encode(), _cursor_mac(created_at, survey_id).encode()):
            raise ValueError(raw)
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None:
            raise ValueError(raw)
        check_text(survey_id, "cursor", MAX_QUERY_VALUE)
        return check_datetime(when, "cursor"), survey_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        message = "cursor is not one this API returned; pass next_cursor unchanged"
        raise bad_parameter("cursor", message) from exc


def _query(agency: Agency, filters: Filters) -> sa.Select[Survey]:
    query = sa.select(Survey).where(Survey.agency_id == agency.id)
    if filters.flow:
        query = query.where(Survey.flow_id == filters.flow)
    if filters.channel:
        query = query.where(Survey.channel == filters.channel)
    if filters.status:
        query = query.where(Survey.status == filters.status)
    if filters.since:
        query = query.where(Survey.created_at >= filters.since)
    if filters.until:
        query = query.where(Survey.created_at < filters.until)
    query = query.where(*extra_clauses(request.args))
    # Oldest first: surveys created while a client pages through land on later pages.
    return query.order_by(Survey.created_at, Survey.id)


@bp.get("/responses")
def index() -> ResponseReturnValue:
    agency = current_agency()
    filters = _filters()
    fmt = request.args.get("format", "json")
    if fmt == "csv":
        return _csv(agency, filters)
    if fmt in floip_api.FORMATS:
        return floip_api.respond(agency, _query(agency, filters), fmt)
    if fmt != "json":
        raise bad_parameter("format", "format must be json, csv, floip or floip-data")
    limit = _limit()
    query = _query(agency, filters)
    cursor = request.args.get("cursor")
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        query = query.where(
            sa.or_(
                Survey.created_at > after_time,
                sa.and_(Survey.created_at == after_time, Survey.id > after_id),
            )
        )
    query = query.options(
        selectinload(Survey.answers),
        selectinload(Survey.messages),
        selectinload(Survey.flow_version),
    ).limit(limit + 1)
    with reading(db_of(current_app)) as session:
        surveys = list(session.scalars(query))
        page = surveys[:limit]
        next_cursor = encode_cursor(page[-1]) if len(surveys) > limit else None
        comments = readings_json(session, [s.id for s in page])
        data = [{**survey_json(s), "comments": comments.get(s.id, {})} for s in page]
        return jsonify(data=data, next_cursor=next_cursor)


def _flow_columns(
    database: Database, agency: Agency, flow_id: str
) -> tuple[list[str], list[str], list[str]]:
    """Context names, answerable question ids and free-text question ids of every version
    of the flow.

    The loaded version's order comes first; questions and context names that only older
    versions had follow, so a survey answered on any version fills its own columns.
    """
    registry: FlowRegistry = current_app.extensions["flows"]
    flows: list[Flow] = []
    current = registry.get(flow_id)
    if current is not None and current.agency == agency.slug:
        flows.append(current)
    with reading(database) as session:
        versions = session.scalars(
            sa.select(FlowVersion)
            .where(FlowVersion.flow_id == flow_id, FlowVersion.agency_slug == agency.slug)
            .order_by(FlowVersion.version.desc(), FlowVersion.id.desc())
        )
        flows.extend(flow_for_version(fv) for fv in versions)
    if not flows:
        raise ApiError(404, "flow_not_found", f"no flow {flow_id!r} for agency {agency.slug!r}")
    context = list(dict.fromkeys(name for f in flows for name in f.context))
    questions = list(dict.fromkeys(q.id for f in flows for q in f.questions if q.answerable))
    texts = list(dict.fromkeys(q.id for f in flows for q in f.questions if q.type == "text"))
    return context, questions, texts


def _csv(agency: Agency, filters: Filters) -> Response:
    if not filters.flow:
        raise bad_parameter(
            "flow", "format=csv needs flow=ID: the columns are that flow's questions"
        )
    database = db_of(current_app)
    context, questions, texts = _flow_columns(database, agency, filters.flow)
    header = [
        *CSV_FIXED,
        *(f"context.{name}" for name in context),
        *questions,
        *comment_header(texts),
    ]
    rows = survey_csv_rows(database, _query(agency, filters), context, questions, texts)
    filename = f"{filters.flow}-responses.csv"
    return Response(
        started(_csv_lines(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_lines(header: list[str], rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
