"""The rows of ``GET /api/v1/responses?format=csv``, read as plain rows rather than ORM
objects: surveys stream from a server-side cursor, and each batch's answers come in one
query, so a large export runs at tens of thousands of rows a second in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.api.serializers import csv_cell, timestamp
from gateway.store.db import Database
from gateway.store.models import Answer, FlowVersion

#: Surveys per batch: one answers query each.
BATCH = 1000


def survey_csv_rows(
    database: Database,
    surveys: sa.Select[Any],
    context: list[str],
    questions: list[str],
) -> Iterator[list[str]]:
    """One row per survey of ``surveys`` (in its order): the fixed columns, the context
    values, then the answers, each cell as :func:`gateway.api.serializers.csv_cell` writes
    it."""
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
    with database.session() as session:
        for batch in session.execute(query).partitions(BATCH):
            answers = _answers(session, [row[0] for row in batch])
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
