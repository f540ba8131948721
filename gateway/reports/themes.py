"""Themes of a flow's comments over time and by office, and the comments behind a count.

Scoped, as every report, to one agency, one flow and a half-open UTC interval of arrival
times. A comment counts under its current themes (staff's correction when there is one).
Themes are a JSON list per reading, so the counting is done here over the interval's
readings rather than in SQL; each reading is one short row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.comment_models import CommentReading
from gateway.store.models import Answer

#: Comments listed per page of a drill-down.
COMMENTS_PAGE = 50
#: The office of a comment whose survey named none.
NO_OFFICE = "(no office)"


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the week ``moment`` falls in."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


@dataclass
class ThemeFigures:
    comments: int = 0
    #: Comments whose themes staff corrected, and how many themes they added and removed.
    corrected: int = 0
    added: int = 0
    removed: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    by_week: Counter[tuple[date, str]] = field(default_factory=Counter)
    by_office: Counter[tuple[str, str]] = field(default_factory=Counter)
    weeks: list[date] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)


def _in(agency_id: int, flow_id: str, start: datetime, end: datetime) -> list[Any]:
    return [
        CommentReading.agency_id == agency_id,
        CommentReading.flow_id == flow_id,
        CommentReading.created_at >= start,
        CommentReading.created_at < end,
    ]


def theme_figures(
    session: Session, agency_id: int, flow_id: str, start: datetime, end: datetime
) -> ThemeFigures:
    figures = ThemeFigures()
    rows = session.execute(
        sa.select(
            CommentReading.created_at,
            CommentReading.office,
            CommentReading.themes,
            CommentReading.corrected_themes,
        ).where(*_in(agency_id, flow_id, start, end))
    )
    weeks: set[date] = set()
    offices: set[str] = set()
    for created_at, office, themes, corrected in rows:
        figures.comments += 1
        current = corrected if corrected is not None else themes
        if corrected is not None:
            figures.corrected += 1
            figures.added += len(set(corrected) - set(themes))
            figures.removed += len(set(themes) - set(corrected))
        week = week_of(created_at)
        place = office or NO_OFFICE
        weeks.add(week)
        offices.add(place)
        for theme in current:
            figures.totals[theme] += 1
            figures.by_week[week, theme] += 1
            figures.by_office[place, theme] += 1
    figures.weeks = sorted(weeks)
    figures.offices = sorted(offices)
    return figures


@dataclass(frozen=True)
class ThemeComment:
    reading_id: int
    survey_id: str
    created_at: datetime
    office: str | None
    text: str
    themes: list[str]
    reader_themes: list[str]
    corrected: bool
    sentiment: str
    crisis: bool
    crisis_reasons: list[dict[str, Any]]


def theme_comments(
    session: Session,
    agency_id: int,
    flow_id: str,
    start: datetime,
    end: datetime,
    *,
    theme: str | None,
    office: str | None,
    page: int = 0,
) -> tuple[list[ThemeComment], bool]:
    """The comments behind a count, newest first: with ``theme`` among their current
    themes and from ``office`` (:data:`NO_OFFICE` for none) when given."""
    query = (
        sa.select(CommentReading, Answer.value)
        .join(
            Answer,
            sa.and_(
                Answer.survey_id == CommentReading.survey_id,
                Answer.question_id == CommentReading.question_id,
            ),
        )
        .where(*_in(agency_id, flow_id, start, end))
        .order_by(CommentReading.created_at.desc(), CommentReading.id.desc())
    )
    if office == NO_OFFICE:
        query = query.where(CommentReading.office.is_(None))
    elif office:
        query = query.where(CommentReading.office == office)
    skip = page * COMMENTS_PAGE
    found: list[ThemeComment] = []
    for reading, value in session.execute(query):
        current = reading.current_themes
        if theme is not None and theme not in current:
            continue
        if skip:
            skip -= 1
            continue
        if len(found) == COMMENTS_PAGE:
            return found, True
        found.append(
            ThemeComment(
                reading.id,
                reading.survey_id,
                reading.created_at,
                reading.office,
                value if isinstance(value, str) else "",
                current,
                list(reading.themes),
                reading.corrected_themes is not None,
                reading.sentiment,
                reading.crisis,
                list(reading.crisis_reasons),
            )
        )
    return found, False
