"""Figures of an agency's service recovery over the cases opened in a half-open UTC
interval: per flow, office and priority, how many were opened, acted on and resolved,
the mean hours to first action and to resolution, and the share resolved by their due
time; and per flow, the share of low scores that have a case.

A **low score** is a completed survey of a flow with case rules, created in the interval,
with an answer to a rating question in the bottom two points of its scale (1 or 2 on a 1
to 5 scale); it is recorded when the survey completes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import CASE_PRIORITIES, Flow
from gateway.store.case_models import Case, LowScore

GROUPS: Final = ("flow", "office", "priority")
#: How many points at the bottom of a rating scale count as a low score.
LOW_POINTS: Final = 2


@dataclass(frozen=True)
class Row:
    key: str | None
    opened: int
    acted: int
    resolved: int
    resolved_in_time: int
    #: Mean hours from opening to the first action / to resolution (None: none yet).
    hours_to_first_action: float | None
    hours_to_resolution: float | None

    @property
    def in_time_share(self) -> float | None:
        """Per cent of the resolved cases resolved by their due time."""
        return round(100 * self.resolved_in_time / self.resolved, 1) if self.resolved else None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "resolved_in_time_share": self.in_time_share}


@dataclass(frozen=True)
class LowScores:
    flow: str
    low_scores: int
    with_case: int

    @property
    def share(self) -> float | None:
        return round(100 * self.with_case / self.low_scores, 1) if self.low_scores else None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "share": self.share}


def _hours(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 24.0
    return sa.extract("epoch", later - earlier) / 3600.0


@dataclass(frozen=True)
class Cell:
    """The cases opened in the interval with one flow, office and priority: counts, and
    the sums of hours the means are made of."""

    flow: str
    office: str | None
    priority: str
    opened: int
    acted: int
    resolved: int
    resolved_in_time: int
    first_action_hours: float
    resolution_hours: float


def cells(session: Session, agency_id: int, start: datetime, end: datetime) -> list[Cell]:
    """One scan of the cases opened in ``[start, end)``, grouped by flow, office and
    priority; :func:`roll_up` makes the figures of any of the three from them."""
    dialect = session.get_bind().dialect.name
    resolved = Case.resolved_at.is_not(None)
    rows = session.execute(
        sa.select(
            Case.flow_id,
            Case.office,
            Case.priority,
            sa.func.count(),
            sa.func.count(Case.first_action_at),
            sa.func.count().filter(resolved),
            sa.func.count().filter(resolved, Case.resolved_at <= Case.due_at),
            sa.func.coalesce(sa.func.sum(_hours(Case.first_action_at, Case.opened_at, dialect)), 0),
            sa.func.coalesce(sa.func.sum(_hours(Case.resolved_at, Case.opened_at, dialect)), 0),
        )
        .where(Case.agency_id == agency_id, Case.opened_at >= start, Case.opened_at < end)
        .group_by(Case.flow_id, Case.office, Case.priority)
    )
    return [
        Cell(flow, office, priority, opened, acted, done, in_time, float(first), float(spent))
        for flow, office, priority, opened, acted, done, in_time, first, spent in rows
    ]


def roll_up(found: list[Cell], group: str) -> list[Row]:
    """The figures per value of ``group`` (``flow``, ``office`` or ``priority``)."""
    totals: dict[str | None, list[float]] = {}
    for cell in found:
        key: str | None = getattr(cell, group)
        into = totals.setdefault(key, [0, 0, 0, 0, 0.0, 0.0])
        for index, value in enumerate(
            (
                cell.opened,
                cell.acted,
                cell.resolved,
                cell.resolved_in_time,
                cell.first_action_hours,
                cell.resolution_hours,
            )
        ):
            into[index] += value
    order = CASE_PRIORITIES if group == "priority" else None
    keys = sorted(
        totals,
        key=lambda k: (order.index(k) if order and k in order else 0, k is None, k or ""),
    )
    rows = []
    for key in keys:
        opened, acted, done, in_time, first, spent = totals[key]
        rows.append(
            Row(
                key=key,
                opened=int(opened),
                acted=int(acted),
                resolved=int(done),
                resolved_in_time=int(in_time),
                hours_to_first_action=round(first / acted, 1) if acted else None,
                hours_to_resolution=round(spent / done, 1) if done else None,
            )
        )
    return rows


def is_low(flow: Flow, answers: dict[str, Any]) -> bool:
    """Whether ``answers`` hold a rating in the bottom :data:`LOW_POINTS` of its scale."""
    for question in flow.questions:
        value = answers.get(question.id)
        if question.type == "rating" and isinstance(value, int) and not isinstance(value, bool):
            if value < question.scale[0] + LOW_POINTS:
                return True
    return False


def low_scores(session: Session, agency_id: int, start: datetime, end: datetime) -> list[LowScores]:
    """Per flow, the low scores among surveys created in ``[start, end)`` and how many
    of them have a case (the rows :mod:`gateway.cases.opening` records, read from one
    index)."""
    rows = session.execute(
        sa.select(LowScore.flow_id, sa.func.count(), sa.func.count().filter(LowScore.has_case))
        .where(
            LowScore.agency_id == agency_id,
            LowScore.created_at >= start,
            LowScore.created_at < end,
        )
        .group_by(LowScore.flow_id)
        .order_by(LowScore.flow_id)
    )
    return [LowScores(flow=flow, low_scores=total, with_case=cased) for flow, total, cased in rows]


@dataclass(frozen=True)
class Figures:
    start: datetime
    end: datetime
    by_flow: list[Row]
    by_office: list[Row]
    by_priority: list[Row]
    low_scores: list[LowScores]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.date().isoformat(),
            "to": (self.end - timedelta(days=1)).date().isoformat(),
            "by_flow": [r.as_json() for r in self.by_flow],
            "by_office": [r.as_json() for r in self.by_office],
            "by_priority": [r.as_json() for r in self.by_priority],
            "low_scores": [r.as_json() for r in self.low_scores],
        }


def figures(session: Session, agency_id: int, start: datetime, end: datetime) -> Figures:
    """Every figure of the cases opened (and surveys created) in ``[start, end)``."""
    found = cells(session, agency_id, start, end)
    return Figures(
        start=start,
        end=end,
        by_flow=roll_up(found, "flow"),
        by_office=roll_up(found, "office"),
        by_priority=roll_up(found, "priority"),
        low_scores=low_scores(session, agency_id, start, end),
    )


#: Without dates, the figures cover this many days up to today (UTC).
DEFAULT_DAYS: Final = 90


def interval(first: date | None, last: date | None, today: date) -> tuple[datetime, datetime]:
    """The half-open UTC interval of the days ``first`` to ``last`` (both included)."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )
