"""The dashboard's figures for one flow, aggregated in SQL and scoped to one agency.

Each function takes the filter clauses of :func:`filter_clauses` and returns small rows
(a few per day, channel, answer value or context value), never the surveys themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import Flow, Question
from gateway.reports.a11 import tagged
from gateway.reports.queries import (
    answer_counts,
    answer_window,
    location_of,
    respondents,
    scope,
    was_delivered,
    without_jit,
)
from gateway.store.models import Answer, Survey

#: Above this many days, responses over time are shown by week.
DAILY_LIMIT_DAYS = 62
COMMENTS_PAGE = 50


@dataclass(frozen=True)
class Filters:
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    channel: str | None = None
    language: str | None = None
    location: str | None = None


def filter_clauses(agency_id: int, flow_id: str, filters: Filters) -> list[sa.ColumnElement[bool]]:
    clauses = scope(agency_id, flow_id, filters.start, filters.end)
    if filters.channel:
        clauses.append(Survey.channel == filters.channel)
    if filters.language:
        clauses.append(Survey.language == filters.language)
    if filters.location:
        clauses.append(location_of() == filters.location)
    return clauses


def _day(session: Session) -> sa.ColumnElement[Any]:
    """The UTC calendar day of a survey's creation, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", Survey.created_at))
    return sa.func.date(Survey.created_at)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class DayCounts:
    """One (day, channel) cell of a flow's activity."""

    day: date
    channel: str
    triggered: int
    delivered: int
    responded: int
    completed: int


def activity(session: Session, clauses: list[sa.ColumnElement[bool]]) -> list[DayCounts]:
    """Surveys per UTC day and channel: triggered, delivered, responded, completed.

    One index-only scan of the surveys serves both the timeline and the funnel.
    """
    without_jit(session)
    day = _day(session).label("day")
    groups: list[Any] = [day, Survey.channel]
    query = (
        sa.select(*groups)
        .add_columns(
            sa.func.count(),
            sa.func.sum(sa.case((was_delivered(), 1), else_=0)),
            respondents(),
            sa.func.sum(sa.case((Survey.status == "completed", 1), else_=0)),
        )
        .where(*clauses)
        .group_by(*groups)
    )
    return [
        DayCounts(_as_date(d), ch, int(t), int(dl or 0), int(r), int(c or 0))
        for d, ch, t, dl, r, c in session.execute(query)
    ]


def over_time(cells: list[DayCounts]) -> list[dict[str, Any]]:
    """Surveys triggered and respondents per day (per ISO week over long ranges)."""
    if not cells:
        return []
    first = min(c.day for c in cells)
    last = max(c.day for c in cells)
    weekly = (last - first).days > DAILY_LIMIT_DAYS
    buckets: dict[date, list[int]] = {}
    for cell in cells:
        key = cell.day - timedelta(days=cell.day.weekday()) if weekly else cell.day
        bucket = buckets.setdefault(key, [0, 0])
        bucket[0] += cell.triggered
        bucket[1] += cell.responded
    label = "Week of " if weekly else ""
    return [
        {"period": f"{label}{key.isoformat()}", "triggered": t, "responded": r}
        for key, (t, r) in sorted(buckets.items())
    ]


def funnel(cells: list[DayCounts]) -> list[dict[str, Any]]:
    """Per channel: triggered, delivered, started (answered anything), completed, rates."""
    totals: dict[str, list[int]] = {}
    for cell in cells:
        total = totals.setdefault(cell.channel, [0, 0, 0, 0])
        total[0] += cell.triggered
        total[1] += cell.delivered
        total[2] += cell.responded
        total[3] += cell.completed
    return [
        {
            "channel": channel,
            "triggered": triggered,
            "delivered": delivered,
            "started": started,
            "completed": completed,
            "response_rate": _percent(started, delivered),
            "completion_rate": _percent(completed, delivered),
        }
        for channel, (triggered, delivered, started, completed) in sorted(totals.items())
    ]


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


CLOSED_TYPES = ("rating", "yesno", "choice", "number")


def closed_answer_counts(
    session: Session, flow: Flow, clauses: list[sa.ColumnElement[bool]], filters: Filters
) -> dict[tuple[str, Any], int]:
    """{(question id, answer): count} for every closed question: one query per page."""
    questions = [q.id for q in flow.questions if q.type in CLOSED_TYPES]
    return answer_counts(session, clauses, questions, answer_window(filters.start, filters.end))


def distributions(flow: Flow, counts: dict[tuple[str, Any], int]) -> list[dict[str, Any]]:
    """Each closed question's answers and their counts, in the question's own order."""
    questions = [q for q in flow.questions if q.type in CLOSED_TYPES]
    result = []
    for question in questions:
        values = [(v, n) for (qid, v), n in counts.items() if qid == question.id]
        result.append(
            {
                "question": question,
                "rows": [(_label(question, v), n) for v, n in _ordered(question, values)],
                "total": sum(n for _, n in values),
            }
        )
    return result


def _ordered(question: Question, values: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
    found = dict(values)
    if question.type == "rating":
        low, high = question.scale
        return [(v, found.get(v, 0)) for v in range(low, high + 1)]
    if question.type == "yesno":
        return [("yes", found.get("yes", 0)), ("no", found.get("no", 0))]
    if question.type == "choice":
        return [(o.value, found.get(o.value, 0)) for o in question.options]
    return sorted(values, key=lambda item: (str(type(item[0])), item[0]))


def _label(question: Question, value: Any) -> str:
    option = question.option_by_value(value) if isinstance(value, str) else None
    if option is not None:
        return option.label.get("en") or next(iter(option.label.values()))
    return str(value)


def driver_scores(flow: Flow, counts: dict[tuple[str, Any], int]) -> list[dict[str, Any]]:
    """Per A-11 tagged rating: mean and % agree (4 or 5); for a yes/no trust: % yes."""
    questions = [q for q in flow.questions if q.a11 and q.type in ("rating", "yesno")]
    scores = []
    for question in questions:
        values = {v: n for (qid, v), n in counts.items() if qid == question.id}
        total = sum(values.values())
        if question.type == "yesno":
            scores.append(
                {"driver": question.a11, "question": question, "answers": total, "mean": None,
                 "positive": _percent(values.get("yes", 0), total), "measure": "% yes"}
            )  # fmt: skip
            continue
        points = {v: n for v, n in values.items() if isinstance(v, int)}
        answered = sum(points.values())
        mean = round(sum(v * n for v, n in points.items()) / answered, 2) if answered else None
        agree = sum(n for v, n in points.items() if v >= 4)
        scores.append(
            {"driver": question.a11, "question": question, "answers": answered, "mean": mean,
             "positive": _percent(agree, answered), "measure": "% agree (4-5)"}
        )  # fmt: skip
    return scores


def _headline(flow: Flow) -> Question | None:
    """The question a breakdown scores: trust, else the first A-11 rating."""
    trust = tagged(flow, "trust")
    if trust is not None and trust.type in ("yesno", "rating"):
        return trust
    return next((q for q in flow.questions if q.a11 and q.type == "rating"), None)


def breakdown_keys(flow: Flow) -> list[str]:
    keys = list(flow.context)
    return keys if "location" in keys else [*keys, "location"]


def breakdowns(
    session: Session, flow: Flow, clauses: list[sa.ColumnElement[bool]], filters: Filters
) -> list[dict[str, Any]]:
    """Per context name (office, agent, ...): triggered, respondents and the headline score.

    One query groups by every context name at once; each name's table is then summed
    from those (few) groups.
    """
    without_jit(session)
    keys = breakdown_keys(flow)
    headline = _headline(flow)
    values = [Survey.context[key].as_string().label(f"k{n}") for n, key in enumerate(keys)]
    query = sa.select(*values).add_columns(sa.func.count(), respondents())
    if headline is not None:
        scored = sa.orm.aliased(Answer)
        text = sa.cast(scored.value, sa.Text)
        query = query.outerjoin(
            scored,
            sa.and_(
                scored.survey_id == Survey.id,
                scored.question_id == headline.id,
                scored.outcome == "answered",
                *answer_window(filters.start, filters.end, scored),
            ),
        ).add_columns(
            sa.func.count(scored.survey_id),  # in the covering index, unlike the id
            sa.func.sum(sa.case((text.in_(['"yes"', "4", "5"]), 1), else_=0)),
        )
    else:
        query = query.add_columns(sa.literal(0), sa.literal(0))
    totals: dict[int, dict[Any, list[int]]] = {n: {} for n in range(len(keys))}
    for row in session.execute(query.where(*clauses).group_by(*values)):
        figures = [int(x or 0) for x in row[len(keys) :]]  # triggered, responded, scored, positive
        for n in range(len(keys)):
            total = totals[n].setdefault(row[n], [0, 0, 0, 0])
            for i, figure in enumerate(figures):
                total[i] += figure
    result = []
    for n, key in enumerate(keys):
        rows = [
            {
                "value": value if value is not None else "(none)",
                "triggered": triggered,
                "respondents": responded,
                "positive": _percent(positive, scored_n),
            }
            for value, (triggered, responded, scored_n, positive) in sorted(
                totals[n].items(), key=lambda item: (item[0] is None, str(item[0]))
            )
        ]
        if any(r["value"] != "(none)" for r in rows):
            result.append({"key": key, "rows": rows})
    return result


def comments(
    session: Session,
    flow: Flow,
    clauses: list[sa.ColumnElement[bool]],
    search: str | None,
    page: int = 0,
) -> tuple[list[dict[str, Any]], bool]:
    """Free-text answers, newest first, matching ``search`` (a substring) when given."""
    text_ids = [q.id for q in flow.questions if q.type == "text"]
    if not text_ids:
        return [], False
    query = (
        sa.select(Survey.id, Survey.created_at, Survey.channel, Survey.context, Answer.question_id,
                  Answer.value)
        .join(Answer, Answer.survey_id == Survey.id)
        .where(*clauses, Answer.outcome == "answered", Answer.question_id.in_(text_ids))
    )  # fmt: skip
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Answer.raw.ilike(f"%{escaped}%", escape="\\"))
    query = (
        query.order_by(Survey.created_at.desc(), Survey.id)
        .offset(page * COMMENTS_PAGE)
        .limit(COMMENTS_PAGE + 1)
    )
    rows = [
        {"survey_id": sid, "created_at": created, "channel": channel, "context": context or {},
         "question": qid, "text": value if isinstance(value, str) else json.dumps(value)}
        for sid, created, channel, context, qid, value in session.execute(query)
    ]  # fmt: skip
    return rows[:COMMENTS_PAGE], len(rows) > COMMENTS_PAGE


def filter_choices(
    session: Session, agency_id: int, flow_id: str, filters: Filters
) -> dict[str, list[str]]:
    """The languages and locations of the flow's surveys in the date range, for the form."""
    without_jit(session)
    location = location_of().label("location")
    rows = session.execute(
        sa.select(Survey.language, location)
        .where(*scope(agency_id, flow_id, filters.start, filters.end))
        .group_by(Survey.language, location)
    ).all()
    return {
        "languages": sorted({language for language, _ in rows}),
        "locations": sorted({str(loc) for _, loc in rows if loc is not None}),
    }


def latest_day(session: Session, agency_id: int, flow_id: str) -> date | None:
    """The UTC day of the flow's newest survey (read from the index, not the table)."""
    newest = session.scalar(
        sa.select(sa.func.max(Survey.created_at)).where(*scope(agency_id, flow_id, None, None))
    )
    return newest.date() if newest is not None else None
