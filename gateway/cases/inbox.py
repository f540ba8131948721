"""The case lists staff and agency systems read: an agency's cases in a view (open,
mine, unassigned, overdue, resolved, all), filtered by flow, office, priority, channel
and status, most urgent first, a page at a time.

The order is the due time, then the id: the next page starts after the last case shown
(a keyset cursor ``<due time>~<id>``), so a page costs the same however deep it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import CASE_PRIORITIES
from gateway.store.case_models import CASE_STATUSES, OPEN_CASE_STATUSES, Case

VIEWS: Final = ("open", "mine", "unassigned", "overdue", "resolved", "all")
PAGE_SIZE: Final = 50


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Filters:
    view: str = "open"
    flow: str | None = None
    office: str | None = None
    priority: str | None = None
    channel: str | None = None
    status: str | None = None


def check(filters: Filters, channels: tuple[str, ...]) -> Filters:
    """``filters`` if every value is one the inbox knows; a FilterError naming it otherwise."""
    if filters.view not in VIEWS:
        raise FilterError("view", f"view must be one of {', '.join(VIEWS)}")
    if filters.priority is not None and filters.priority not in CASE_PRIORITIES:
        raise FilterError("priority", f"priority must be one of {', '.join(CASE_PRIORITIES)}")
    if filters.channel is not None and filters.channel not in channels:
        raise FilterError("channel", f"channel must be one of {', '.join(channels)}")
    if filters.status is not None and filters.status not in CASE_STATUSES:
        raise FilterError("status", f"status must be one of {', '.join(CASE_STATUSES)}")
    return filters


def clauses(agency_id: int, staff_id: int | None, filters: Filters, now: datetime) -> list[Any]:
    where: list[Any] = [Case.agency_id == agency_id]
    view = filters.view
    if view in ("open", "mine", "unassigned", "overdue"):
        where.append(Case.status.in_(OPEN_CASE_STATUSES))
    if view == "mine":
        where.append(Case.assignee_id == (staff_id if staff_id is not None else -1))
    elif view == "unassigned":
        where.append(Case.assignee_id.is_(None))
    elif view == "overdue":
        where.append(Case.due_at < now)
    elif view == "resolved":
        where.append(Case.status == "resolved")
    for column, value in (
        (Case.flow_id, filters.flow),
        (Case.office, filters.office),
        (Case.priority, filters.priority),
        (Case.channel, filters.channel),
        (Case.status, filters.status),
    ):
        if value is not None:
            where.append(column == value)
    return where


def cursor_of(case: Case) -> str:
    return f"{case.due_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}~{case.id}"


def parse_cursor(raw: str) -> tuple[datetime, str]:
    due, sep, case_id = raw.partition("~")
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        moment = None
    if not sep or moment is None or moment.tzinfo is None or not case_id.startswith("cs_"):
        raise FilterError("cursor", "cursor is not one a list of cases gave")
    return moment, case_id


def page(
    session: Session,
    agency_id: int,
    staff_id: int | None,
    filters: Filters,
    now: datetime,
    *,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Case], str | None]:
    """One page of cases and the cursor of the next (None on the last page)."""
    where = clauses(agency_id, staff_id, filters, now)
    if after is not None:
        due, case_id = parse_cursor(after)
        where.append(
            sa.tuple_(Case.due_at, Case.id)
            > sa.tuple_(sa.literal(due, Case.due_at.type), sa.literal(case_id))
        )
    rows = list(
        session.scalars(
            sa.select(Case).where(*where).order_by(Case.due_at, Case.id).limit(limit + 1)
        )
    )
    shown = rows[:limit]
    return shown, (cursor_of(shown[-1]) if len(rows) > limit and shown else None)


def counts(session: Session, agency_id: int, staff_id: int | None, now: datetime) -> dict[str, int]:
    """How many open cases each view holds (the inbox's tabs)."""
    open_ = Case.status.in_(OPEN_CASE_STATUSES)
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Case.assignee_id == (staff_id if staff_id is not None else -1)),
            sa.func.count().filter(Case.assignee_id.is_(None)),
            sa.func.count().filter(Case.due_at < now),
        ).where(Case.agency_id == agency_id, open_)
    ).one()
    return {"open": row[0], "mine": row[1], "unassigned": row[2], "overdue": row[3]}


def offices(session: Session, agency_id: int) -> list[str]:
    """The offices the agency's cases name, for the filter's choices."""
    return [
        office
        for office in session.scalars(
            sa.select(Case.office)
            .where(Case.agency_id == agency_id, Case.office.is_not(None))
            .group_by(Case.office)
            .order_by(Case.office)
            .limit(500)
        )
        if office
    ]
