"""The store queries behind the A-11 report: aggregated in SQL, never row by row in Python.

Every query is scoped to one agency, one flow and a half-open UTC interval of survey
creation times, and runs unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.reports.a11 import DELIVERED_STATUSES, ChannelCounts
from gateway.store.models import Answer, FlowVersion, Survey
from gateway.surveys.flow_versions import flow_for_version

#: Rows fetched per round trip when streaming respondents.
STREAM_BATCH = 2000


def resolve_flow(
    registry: FlowRegistry, session: Session, agency_slug: str, flow_id: str
) -> Flow | None:
    """The agency's flow: the loaded file, else the newest version surveys ran on."""
    flow = registry.get(flow_id)
    if flow is not None and flow.agency == agency_slug:
        return flow
    version = session.scalars(
        sa.select(FlowVersion)
        .where(FlowVersion.flow_id == flow_id, FlowVersion.agency_slug == agency_slug)
        .order_by(FlowVersion.version.desc(), FlowVersion.id.desc())
        .limit(1)
    ).first()
    return flow_for_version(version) if version is not None else None


def without_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT compilation off for the rest of the transaction.

    The planner overestimates these aggregates (JSON expressions, semi-joins) and would
    compile each one, which costs 0.3-0.4 s: more than the compiled code saves on the
    hundred thousand surveys of a quarter.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))


def scope(
    agency_id: int, flow_id: str, start: datetime | None, end: datetime | None
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses selecting one flow's surveys created in ``[start, end)``."""
    clauses = [Survey.agency_id == agency_id, Survey.flow_id == flow_id]
    if start is not None:
        clauses.append(Survey.created_at >= start)
    if end is not None:
        clauses.append(Survey.created_at < end)
    return clauses


def answer_window(
    start: datetime | None, end: datetime | None, answers: Any = Answer
) -> list[sa.ColumnElement[bool]]:
    """The same ``[start, end)`` range on the answers' copy of their survey's creation time
    (``answers``: the Answer class or an alias of it).

    Added beside :func:`scope`'s clauses where answers are joined, it lets the database
    read the range's answered answers from their index (``survey_created_at``,
    ``question_id``) instead of every answer of the store.
    """
    clauses = []
    if start is not None:
        clauses.append(answers.survey_created_at >= start)
    if end is not None:
        clauses.append(answers.survey_created_at < end)
    return clauses


def location_of() -> sa.ColumnElement[str]:
    """The survey's ``location`` context value (NULL when absent)."""
    return Survey.context["location"].as_string()


def is_in_person() -> sa.ColumnElement[bool]:
    location = location_of()
    return sa.and_(Survey.channel == "web", location.is_not(None), location != "")


def was_delivered() -> sa.ColumnElement[bool]:
    """A survey that reached the respondent: sent, started, completed, or expired after
    being sent."""
    return sa.or_(
        Survey.status.in_(DELIVERED_STATUSES),
        sa.and_(Survey.status == "expired", Survey.sent_at.is_not(None)),
    )


def respondents() -> sa.ColumnElement[int]:
    """How many of the selected surveys are respondents (at least one answered question).

    The store sets ``first_answered_at`` when a survey's first answered question is recorded
    (and clears it should every answer later be dropped or skipped), and the covering index
    carries it: the count is read from the same index-only scan as the others.
    """
    return sa.func.count(Survey.first_answered_at)


def channel_counts(session: Session, clauses: list[sa.ColumnElement[bool]]) -> list[ChannelCounts]:
    """Customers, opportunities and respondents per channel (and in person or not)."""
    without_jit(session)
    in_person = sa.case((is_in_person(), 1), else_=0).label("in_person")
    groups: list[Any] = [Survey.channel, in_person]
    query = (
        sa.select(*groups)
        .add_columns(
            sa.func.count(), sa.func.sum(sa.case((was_delivered(), 1), else_=0)), respondents()
        )
        .where(*clauses)
        .group_by(*groups)
    )
    return [
        ChannelCounts(channel, bool(person), int(customers), int(delivered or 0), int(responded))
        for channel, person, customers, delivered, responded in session.execute(query)
    ]


def answer_counts(
    session: Session,
    clauses: list[sa.ColumnElement[bool]],
    question_ids: list[str],
    window: list[sa.ColumnElement[bool]] | None = None,
) -> dict[tuple[str, Any], int]:
    """How many times each answer was given to each question: {(question, value): count}.

    ``window`` is :func:`answer_window` of the range ``clauses`` select. Values are grouped
    by their JSON text (PostgreSQL cannot compare ``json``), and decoded here; a list (a
    multiple choice) is counted once per value in it.
    """
    if not question_ids:
        return {}
    without_jit(session)
    value_text = sa.cast(Answer.value, sa.Text)
    query = (
        sa.select(Answer.question_id, value_text, sa.func.count())
        .join(Survey, Survey.id == Answer.survey_id)
        .where(
            *clauses,
            *(window or []),
            Answer.outcome == "answered",
            Answer.question_id.in_(question_ids),
        )
        .group_by(Answer.question_id, value_text)
    )
    counts: dict[tuple[str, Any], int] = {}
    for question_id, text, count in session.execute(query):
        value = json.loads(text) if text is not None else None
        for item in value if isinstance(value, list) else [value]:
            key = (question_id, item)
            counts[key] = counts.get(key, 0) + int(count)
    return counts


def respondent_answers(
    session: Session, clauses: list[sa.ColumnElement[bool]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(survey id, {question id: value}) of each respondent, oldest survey first, streamed."""
    without_jit(session)
    query = (
        sa.select(Survey.id, Answer.question_id, Answer.value)
        .join(Answer, Answer.survey_id == Survey.id)
        .where(*clauses, Answer.outcome == "answered")
        .order_by(Survey.created_at, Survey.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    current: str | None = None
    answers: dict[str, Any] = {}
    for survey_id, question_id, value in session.execute(query):
        if survey_id != current:
            if current is not None:
                yield current, answers
            current, answers = survey_id, {}
        answers[question_id] = value
    if current is not None:
        yield current, answers
