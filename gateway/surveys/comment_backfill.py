"""Reading the comments stored before they were read on arrival (``gateway comments
backfill``), or again after the taxonomy changed (``--again``).

Answers are taken in batches by id (keyset, so a backlog of millions is read in constant
memory); each batch is read with the app's reader and its new readings written in one
round trip: a ``COPY`` on PostgreSQL, one executemany elsewhere; readings read again are
updated with one executemany. A comment read here is never routed as a crisis: it
arrived long ago, and the route is for what arrives now. Its crisis reading is stored, so
staff can find it. With ``redact``, the stored answer itself is rewritten with its
personal data masked. Staff's corrections are kept when a comment is read again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.comments.reader import CommentReader, read_comment
from gateway.flows.model import Flow
from gateway.store.comment_models import CommentReading
from gateway.store.models import Answer, Survey
from gateway.surveys.comment_arrival import redactor_for
from gateway.surveys.flow_versions import flow_for_version_id

#: Answers read per batch (one SELECT, one COPY or executemany).
BATCH = 2000
#: The columns a backfilled reading fills, in the order :func:`_insert` copies them.
COLUMNS = (
    "survey_id",
    "question_id",
    "agency_id",
    "flow_id",
    "channel",
    "language",
    "office",
    "themes",
    "theme_terms",
    "sentiment",
    "sentiment_score",
    "crisis",
    "crisis_reasons",
    "masked",
    "reader",
    "created_at",
    "updated_at",
)
JSON_COLUMNS = frozenset({"themes", "theme_terms", "crisis_reasons", "masked"})
#: The reader's columns: what reading a comment again replaces.
READER_COLUMNS = ("themes", "theme_terms", "sentiment", "sentiment_score", "reader", "updated_at")


@dataclass
class Backfilled:
    comments: int = 0
    redacted: int = 0
    crises: int = 0
    last_answer_id: int = 0


def _text_questions(flow: Flow) -> frozenset[str]:
    return frozenset(q.id for q in flow.questions if q.type == "text")


def backfill(
    session: Session,
    reader: CommentReader,
    *,
    now: datetime,
    flow_id: str | None = None,
    again: bool = False,
    redact: bool = False,
    after: int = 0,
    limit: int | None = None,
    progress: Callable[[Backfilled], None] | None = None,
) -> Backfilled:
    """Read every typed free-text answer without a reading (all of them with ``again``),
    after answer id ``after``, at most ``limit``; committed batch by batch."""
    done = Backfilled(last_answer_id=after)
    flows: dict[int, Flow] = {}
    while limit is None or done.comments < limit:
        size = BATCH if limit is None else min(BATCH, limit - done.comments)
        rows = session.execute(_batch(flow_id, again, done.last_answer_id, size)).all()
        if not rows:
            break
        done.last_answer_id = rows[-1].answer_id
        readings: list[dict[str, Any]] = []
        rewrites: list[dict[str, Any]] = []
        for row in rows:
            flow = flows.get(row.flow_version_id)
            if flow is None:
                flow = flows[row.flow_version_id] = flow_for_version_id(
                    session, row.flow_version_id
                )
            if row.question_id not in _text_questions(flow) or not isinstance(row.value, str):
                continue
            if row.channel == "voice" or not row.value:
                continue  # a recording's address; its transcription is read when it arrives
            reading = read_comment(row.value, row.language, redactor_for(flow), reader)
            office = (row.context or {}).get("office")
            readings.append(
                {
                    "survey_id": row.survey_id,
                    "question_id": row.question_id,
                    "agency_id": row.agency_id,
                    "flow_id": row.flow_id,
                    "channel": row.channel,
                    "language": row.language,
                    "office": str(office)[:200] if office is not None else None,
                    "themes": list(reading.theme_ids),
                    "theme_terms": {m.theme: list(m.matched) for m in reading.themes},
                    "sentiment": reading.sentiment.label,
                    "sentiment_score": round(reading.sentiment.score, 3),
                    "crisis": reading.crisis.route,
                    "crisis_reasons": [r.to_dict() for r in reading.crisis.reasons],
                    "masked": list(reading.redaction.kinds),
                    "reader": reading.reader,
                    "created_at": row.created_at,
                    "updated_at": now,
                }
            )
            done.crises += reading.crisis.route
            if redact and reading.redaction.spans:
                masked = reading.redaction.text
                rewrites.append({"answer_id": row.answer_id, "masked": masked})
        _write(session, readings, again)
        if rewrites:
            answers = cast(sa.Table, Answer.__table__)
            session.connection().execute(
                sa.update(answers)
                .where(answers.c.id == sa.bindparam("answer_id"))
                .values(raw=sa.bindparam("masked"), value=sa.bindparam("masked_json")),
                [{**r, "masked_json": r["masked"]} for r in rewrites],
            )
            done.redacted += len(rewrites)
        session.commit()
        done.comments += len(readings)
        if progress is not None:
            progress(done)
        if len(rows) < size:
            break
    return done


def _batch(flow_id: str | None, again: bool, after: int, size: int) -> sa.Select[Any]:
    query = (
        sa.select(
            Answer.id.label("answer_id"),
            Answer.survey_id,
            Answer.question_id,
            Answer.value,
            Answer.created_at,
            Survey.agency_id,
            Survey.flow_id,
            Survey.flow_version_id,
            Survey.channel,
            Survey.language,
            Survey.context,
        )
        .join(Survey, Survey.id == Answer.survey_id)
        .where(Answer.id > after, Answer.outcome == "answered")
        .order_by(Answer.id)
        .limit(size)
    )
    if flow_id is not None:
        query = query.where(Survey.flow_id == flow_id)
    if not again:
        query = query.where(
            ~sa.exists().where(
                CommentReading.survey_id == Answer.survey_id,
                CommentReading.question_id == Answer.question_id,
            )
        )
    return query


def _write(session: Session, readings: Sequence[dict[str, Any]], again: bool) -> None:
    if not readings:
        return
    present: set[tuple[str, str]] = set()
    if again:
        present = {
            (survey_id, question_id)
            for survey_id, question_id in session.execute(
                sa.select(CommentReading.survey_id, CommentReading.question_id).where(
                    CommentReading.survey_id.in_({r["survey_id"] for r in readings})
                )
            )
        }
    fresh = [r for r in readings if (r["survey_id"], r["question_id"]) not in present]
    if fresh:
        _insert(session, fresh)
    again_read = [r for r in readings if (r["survey_id"], r["question_id"]) in present]
    if again_read:
        # Read again: the reader's columns only; staff's corrections and the crisis
        # reading that was routed on arrival stay as they are.
        table = cast(sa.Table, CommentReading.__table__)
        session.connection().execute(
            sa.update(table)
            .where(
                table.c.survey_id == sa.bindparam("key_survey"),
                table.c.question_id == sa.bindparam("key_question"),
            )
            .values({name: sa.bindparam(name) for name in READER_COLUMNS}),
            [
                {
                    "key_survey": r["survey_id"],
                    "key_question": r["question_id"],
                    **{name: r[name] for name in READER_COLUMNS},
                }
                for r in again_read
            ],
        )


def _insert(session: Session, readings: Sequence[dict[str, Any]]) -> None:
    """New readings in one round trip: ``COPY ... FROM STDIN`` on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(sa.insert(CommentReading), list(readings))
        return
    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    statement = f"COPY comment_readings ({', '.join(COLUMNS)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for reading in readings:
            copy.write_row(
                [
                    json.dumps(reading[name], ensure_ascii=False)
                    if name in JSON_COLUMNS
                    else reading[name]
                    for name in COLUMNS
                ]
            )
