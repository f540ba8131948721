"""``GET /api/v1/comments``: an agency's free-text answers with what was read of them.

One item per comment: the survey, the question, when it arrived, the office, the redacted
text (as stored), the themes (staff's correction when there is one), the sentiment, the
crisis reading with its reasons, and the kinds of personal data masked. JSON pages by
``cursor``, or one streamed CSV with ``format=csv``. Filters: ``flow`` (required),
``since``/``until`` (arrival, UTC), ``theme``, ``office``, ``sentiment``, ``crisis``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.api.auth import current_agency
from gateway.api.params import DEFAULT_LIMIT, MAX_LIMIT, bad_parameter, time_parameter
from gateway.exports.streams import started
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from gateway.store.models import Answer
from gateway.store.slow_reads import reading
from gateway.surveys.comment_readings import reading_json
from gateway.surveys.input_policy import InputRefused, whole_number
from gateway.surveys.serializers import csv_cell, timestamp

bp = Blueprint("comments", __name__)

SENTIMENTS = ("negative", "neutral", "positive")
CSV_HEADER = (
    "survey_id",
    "question",
    "created_at",
    "channel",
    "language",
    "office",
    "comment",
    "themes",
    "reader_themes",
    "corrected",
    "sentiment",
    "crisis",
    "crisis_reasons",
    "masked",
)
BATCH = 500


def _query() -> sa.Select[tuple[CommentReading, Any]]:
    agency = current_agency()
    flow = request.args.get("flow")
    if not flow:
        raise bad_parameter("flow", "flow=ID is required: comments are listed one flow at a time")
    query = (
        sa.select(CommentReading, Answer.value)
        .join(
            Answer,
            sa.and_(
                Answer.survey_id == CommentReading.survey_id,
                Answer.question_id == CommentReading.question_id,
            ),
        )
        .where(CommentReading.agency_id == agency.id, CommentReading.flow_id == flow)
    )
    since, until = time_parameter("since"), time_parameter("until")
    if since is not None:
        query = query.where(CommentReading.created_at >= since)
    if until is not None:
        query = query.where(CommentReading.created_at < until)
    office = request.args.get("office")
    if office:
        query = query.where(CommentReading.office == office)
    sentiment = request.args.get("sentiment")
    if sentiment is not None:
        if sentiment not in SENTIMENTS:
            raise bad_parameter("sentiment", f"sentiment must be one of {', '.join(SENTIMENTS)}")
        query = query.where(CommentReading.sentiment == sentiment)
    crisis = request.args.get("crisis")
    if crisis is not None:
        if crisis not in ("true", "false"):
            raise bad_parameter("crisis", "crisis must be true or false")
        query = query.where(CommentReading.crisis.is_(crisis == "true"))
    return query.order_by(CommentReading.id)


def _theme() -> str | None:
    return request.args.get("theme") or None


def _item(row: CommentReading, text: Any) -> dict[str, Any]:
    return {
        "survey_id": row.survey_id,
        "question": row.question_id,
        "created_at": timestamp(row.created_at),
        "channel": row.channel,
        "language": row.language,
        "office": row.office,
        "comment": text if isinstance(text, str) else None,
        **reading_json(row),
    }


def _cursor(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw.encode("ascii")).decode("ascii"))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise bad_parameter("cursor", "cursor is not one this endpoint gave") from exc


@bp.get("/comments")
def index() -> ResponseReturnValue:
    query = _query()
    theme = _theme()
    fmt = request.args.get("format", "json")
    try:  # checked whatever the format, as the description says (a CSV takes every row)
        limit = whole_number(request.args.get("limit", str(DEFAULT_LIMIT)), "limit", 1, MAX_LIMIT)
    except InputRefused as exc:
        raise bad_parameter("limit", exc.message) from exc
    if fmt == "csv":
        return _csv(query, theme)
    if fmt != "json":
        raise bad_parameter("format", "format must be json or csv")
    data: list[dict[str, Any]] = []
    last_shown = 0
    more = False
    with reading(db_of(current_app)) as session:
        for row, text in _matching(session, query, theme, _cursor(request.args.get("cursor"))):
            if len(data) == limit:
                more = True
                break
            data.append(_item(row, text))
            last_shown = row.id
    next_cursor = base64.urlsafe_b64encode(str(last_shown).encode()).decode() if more else None
    return jsonify(data=data, next_cursor=next_cursor)


def _matching(
    session: Session, query: sa.Select[tuple[CommentReading, Any]], theme: str | None, after: int
) -> Iterator[tuple[CommentReading, Any]]:
    """The query's rows after id ``after``, read a batch at a time, with ``theme`` among
    their current themes when given (themes are a JSON list: filtered here, not in SQL)."""
    while True:
        rows = session.execute(query.where(CommentReading.id > after).limit(BATCH)).all()
        for row, text in rows:
            after = row.id
            if theme is None or theme in row.current_themes:
                yield row, text
        if len(rows) < BATCH:
            return


def _csv(query: sa.Select[tuple[CommentReading, Any]], theme: str | None) -> Response:
    flow = request.args.get("flow", "")
    return Response(
        started(_csv_lines(query, theme)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{flow}-comments.csv"'},
    )


def _csv_lines(query: sa.Select[tuple[CommentReading, Any]], theme: str | None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    with reading(db_of(current_app)) as session:
        for row, text in _matching(session, query, theme, 0):
            item = _item(row, text)
            reasons = "; ".join(f"{r['category']}: {r['phrase']}" for r in row.crisis_reasons)
            writer.writerow(
                [
                    csv_cell(item["survey_id"]),
                    csv_cell(item["question"]),
                    csv_cell(item["created_at"]),
                    csv_cell(item["channel"]),
                    csv_cell(item["language"]),
                    csv_cell(item["office"]),
                    csv_cell(item["comment"]),
                    csv_cell(item["themes"]),
                    csv_cell(item["reader_themes"]),
                    csv_cell(item["corrected"]),
                    csv_cell(item["sentiment"]),
                    csv_cell(item["crisis"]),
                    csv_cell(reasons),
                    csv_cell(item["masked"]),
                ]
            )
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
