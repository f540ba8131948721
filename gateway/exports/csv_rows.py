"""The rows of ``GET /api/v1/responses?format=csv``, read as plain rows rather than ORM
objects, so a large export runs at tens of thousands of rows a second in bounded memory.

On PostgreSQL one ``COPY (SELECT ...) TO STDOUT`` streams the rows while they are
written: each survey's answers are pivoted into one column per question by a lateral join
(one index probe per survey), times are formatted in SQL and every JSON cell arrives as
text tagged with its type, so little JSON is decoded in Python. Elsewhere (SQLite)
surveys stream in batches and each batch's answers come in one query. Both write each
cell as :func:`gateway.surveys.serializers.csv_cell` does.

After the answers come three columns per free-text question, what was read of the
comment (:data:`COMMENT_COLUMNS`): its themes (staff's correction when there is one),
its sentiment, and whether it was read as crisis language. The answer cell itself holds
the stored, masked text. On PostgreSQL the same ``COPY`` reads them by an outer join per
free-text question, which the planner may run as one hash or merge join over the export
rather than one index probe per survey.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import NamedFromClause

from gateway.store.comment_models import CommentReading
from gateway.store.db import Database
from gateway.store.models import Answer, FlowVersion
from gateway.store.slow_reads import reading
from gateway.surveys.serializers import FORMULA_STARTS, csv_cell, timestamp

#: Surveys per batch: one round trip (and, off PostgreSQL, one answers query) each.
BATCH = 1000
#: Prefix of a JSON string's own text in a tagged cell; any other cell is JSON text.
STRING_TAG = "s"
#: The columns after the answers for each free-text question ``q``: ``q.themes``, ...
COMMENT_COLUMNS = ("themes", "sentiment", "crisis")


def comment_header(comment_questions: list[str]) -> list[str]:
    """The header cells of the comment columns, in the order the rows give them."""
    return [f"{q}.{column}" for q in comment_questions for column in COMMENT_COLUMNS]


def survey_csv_rows(
    database: Database,
    surveys: sa.Select[Any],
    context: list[str],
    questions: list[str],
    comment_questions: list[str],
) -> Iterator[list[str]]:
    """One row per survey of ``surveys`` (oldest first): the fixed columns, the context
    values, the answers, then :data:`COMMENT_COLUMNS` for each of ``comment_questions``,
    each cell as :func:`gateway.surveys.serializers.csv_cell` writes it."""
    if database.engine.dialect.name == "postgresql":
        return _tagged_rows(database, surveys, context, questions, comment_questions)
    return _decoded_rows(database, surveys, context, questions, comment_questions)


def _tagged(value: sa.ColumnElement[Any] | InstrumentedAttribute[Any]) -> sa.ColumnElement[str]:
    """A JSON value as text: a string's own text after :data:`STRING_TAG`, else its JSON."""
    return sa.case(
        (sa.func.json_typeof(value) == "string", sa.literal(STRING_TAG) + _own_text(value)),
        else_=sa.cast(value, sa.Text),
    )


def _own_text(value: sa.ColumnElement[Any] | InstrumentedAttribute[Any]) -> sa.ColumnElement[str]:
    """A JSON string's text, unescaped (``value #>> '{}'``)."""
    empty_path: sa.ColumnElement[Any] = sa.literal_column("'{}'::text[]")
    return value.op("#>>", return_type=sa.Text)(empty_path)


def _cell(text: str | None) -> str:
    """A tagged cell (see :func:`_tagged`) as :func:`csv_cell` writes the decoded value.

    Strings, booleans, null and whole numbers need no decoding; lists, objects and other
    numbers are decoded so they read exactly as :func:`csv_cell` writes them.
    """
    if text is None or text == "null":
        return ""
    if text.startswith(STRING_TAG):
        own = text[1:]
        return "'" + own if own.startswith(FORMULA_STARTS) else own
    if text == "true":
        return "yes"
    if text == "false":
        return "no"
    if text.isdigit():
        return text
    # Lists, objects and any other number (negative, fractional, exponent) as decoded.
    return csv_cell(json.loads(text))


def _iso_utc(moment: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """A time as :func:`gateway.surveys.serializers.timestamp` writes it, formatted in SQL:
    ISO-8601 in UTC with a ``Z``, microseconds only when there are any."""
    utc = sa.func.timezone("UTC", moment)
    fraction = sa.case(
        (sa.cast(sa.extract("microseconds", moment), sa.Integer) % 1_000_000 == 0, ""),
        else_=sa.func.to_char(utc, ".US"),
    )
    return sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS') + fraction + "Z"


def _tagged_rows(
    database: Database,
    surveys: sa.Select[Any],
    context: list[str],
    questions: list[str],
    comment_questions: list[str],
) -> Iterator[list[str]]:
    selected = surveys.order_by(None).subquery()
    columns: list[Any] = [
        selected.c.id,
        sa.cast(FlowVersion.version, sa.Text),
        selected.c.channel,
        selected.c.language,
        selected.c.status,
        _iso_utc(selected.c.created_at),
        _iso_utc(selected.c.completed_at),
        *(_tagged(selected.c.context[name]) for name in context),
    ]
    source = selected.join(FlowVersion, FlowVersion.id == selected.c.flow_version_id)
    if questions:
        # One probe of the (survey_id, question_id) index per survey for all its answers.
        pivot = (
            sa.select(
                *(
                    sa.func.max(sa.case((Answer.question_id == q, _tagged(Answer.value))))
                    for q in questions
                )
            )
            .where(Answer.survey_id == selected.c.id)
            .lateral("given")
        )
        columns.extend(pivot.c)
        source = source.join(pivot, sa.true())
    for number, question in enumerate(comment_questions):
        read = sa.alias(cast(sa.Table, CommentReading.__table__), f"read_{number}")
        columns.extend(_reading_cells(read))
        source = source.outerjoin(
            read, sa.and_(read.c.survey_id == selected.c.id, read.c.question_id == question)
        )
    query = sa.select(*columns).select_from(source).order_by(selected.c.created_at, selected.c.id)
    # COPY takes no server-side parameters: psycopg binds them into the text, so lists
    # (IN) are expanded here first.
    compiled = query.compile(
        dialect=database.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    # COPY streams: the server produces rows while this process writes the CSV.
    with database.engine.connect() as connection:
        driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
        cursor = driver.cursor()
        with cursor.copy(f"COPY ({compiled.string}) TO STDOUT", compiled.params) as copy:
            for (
                survey_id,
                version,
                channel,
                language,
                status,
                created,
                completed,
                *cells,
            ) in copy.rows():
                yield [
                    survey_id,
                    version,
                    channel,
                    language,
                    status,
                    created,
                    completed or "",
                    *(_cell(text) for text in cells),
                ]


def _reading_cells(read: NamedFromClause) -> list[sa.ColumnElement[str]]:
    """The tagged :data:`COMMENT_COLUMNS` of one question's reading ``read`` (an outer
    joined ``comment_readings``): all null when there is none."""
    # A cleared correction is stored as JSON null, so test for a list rather than NULL.
    corrected = sa.func.json_typeof(read.c.corrected_themes) == "array"
    themes = sa.case((corrected, read.c.corrected_themes), else_=read.c.themes)
    return [
        sa.cast(themes, sa.Text),
        sa.literal(STRING_TAG) + read.c.sentiment,
        sa.cast(read.c.crisis, sa.Text),  # 'true' or 'false'
    ]


def _decoded_rows(
    database: Database,
    surveys: sa.Select[Any],
    context: list[str],
    questions: list[str],
    comment_questions: list[str],
) -> Iterator[list[str]]:
    selected = surveys.order_by(None).subquery()
    query = (
        sa.select(
            selected.c.id,
            FlowVersion.version,
            selected.c.channel,
            selected.c.language,
            selected.c.status,
            selected.c.created_at,
            selected.c.completed_at,
            selected.c.context,
        )
        .join(FlowVersion, FlowVersion.id == selected.c.flow_version_id)
        .order_by(selected.c.created_at, selected.c.id)
        .execution_options(yield_per=BATCH)
    )
    with reading(database) as session:
        for batch in session.execute(query).partitions(BATCH):
            ids = [row[0] for row in batch]
            answers = _answers(session, ids)
            read = _readings(session, ids) if comment_questions else {}
            for survey_id, version, channel, language, status, created, completed, ctx in batch:
                given = answers.get(survey_id, {})
                values = ctx or {}
                yield [
                    survey_id,
                    str(version),
                    channel,
                    language,
                    status,
                    timestamp(created) or "",
                    timestamp(completed) or "",
                    *(csv_cell(values.get(name)) for name in context),
                    *(csv_cell(given.get(q)) for q in questions),
                    *_reading_row(read.get(survey_id, {}), comment_questions),
                ]


def _answers(session: Session, survey_ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        sa.select(Answer.survey_id, Answer.question_id, Answer.value).where(
            Answer.survey_id.in_(survey_ids)
        )
    )
    for survey_id, question_id, value in rows:
        found.setdefault(survey_id, {})[question_id] = value
    return found


def _readings(session: Session, survey_ids: list[str]) -> dict[str, dict[str, CommentReading]]:
    found: dict[str, dict[str, CommentReading]] = {}
    rows = session.scalars(
        sa.select(CommentReading).where(CommentReading.survey_id.in_(survey_ids))
    )
    for row in rows:
        found.setdefault(row.survey_id, {})[row.question_id] = row
    return found


def _reading_row(read: dict[str, CommentReading], comment_questions: list[str]) -> list[str]:
    cells: list[str] = []
    for question in comment_questions:
        row = read.get(question)
        if row is None:
            cells.extend("" for _ in COMMENT_COLUMNS)
        else:
            cells.extend(
                [csv_cell(row.current_themes), csv_cell(row.sentiment), csv_cell(row.crisis)]
            )
    return cells
