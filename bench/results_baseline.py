"""The dashboard flow page's queries as they were before the store kept
``surveys.first_answered_at`` and ``answers.survey_created_at``: respondents counted by a
semi-join on the answers, answers joined without the creation-time window. Kept to be
measured beside the current queries in the same run (bench/results_data.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.dashboard import queries as dash
from gateway.flows.model import Flow
from gateway.reports.queries import answer_counts, was_delivered, without_jit
from gateway.store.models import Answer, Survey


def _respondents(
    session: Session, groups: list[Any], clauses: list[sa.ColumnElement[bool]]
) -> dict[tuple[Any, ...], int]:
    answered = sa.exists().where(Answer.survey_id == Survey.id, Answer.outcome == "answered")
    query = (
        sa.select(*groups).add_columns(sa.func.count()).where(*clauses, answered).group_by(*groups)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def activity(session: Session, clauses: list[sa.ColumnElement[bool]]) -> int:
    without_jit(session)
    day = sa.func.date(sa.func.timezone("UTC", Survey.created_at)).label("day")
    groups: list[Any] = [day, Survey.channel]
    query = (
        sa.select(*groups)
        .add_columns(
            sa.func.count(),
            sa.func.sum(sa.case((was_delivered(), 1), else_=0)),
            sa.func.sum(sa.case((Survey.status == "completed", 1), else_=0)),
        )
        .where(*clauses)
        .group_by(*groups)
    )
    cells = session.execute(query).all()
    return len(cells) + len(_respondents(session, groups, clauses))


def closed_answer_counts(
    session: Session, flow: Flow, clauses: list[sa.ColumnElement[bool]]
) -> int:
    questions = [q.id for q in flow.questions if q.type in dash.CLOSED_TYPES]
    return len(answer_counts(session, clauses, questions))


def breakdowns(session: Session, flow: Flow, clauses: list[sa.ColumnElement[bool]]) -> int:
    without_jit(session)
    keys = dash.breakdown_keys(flow)
    values = [Survey.context[key].as_string().label(f"k{n}") for n, key in enumerate(keys)]
    scored = sa.orm.aliased(Answer)
    text = sa.cast(scored.value, sa.Text)
    query = (
        sa.select(*values)
        .add_columns(sa.func.count())
        .outerjoin(
            scored,
            sa.and_(
                scored.survey_id == Survey.id,
                scored.question_id == "trust",
                scored.outcome == "answered",
            ),
        )
        .add_columns(
            sa.func.count(scored.id),
            sa.func.sum(sa.case((text.in_(['"yes"', "4", "5"]), 1), else_=0)),
        )
        .where(*clauses)
        .group_by(*values)
    )
    rows = session.execute(query).all()
    return len(rows) + len(_respondents(session, values, clauses))
