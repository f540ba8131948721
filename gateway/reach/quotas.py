"""Quotas: at most so many completed surveys per period (per context value or per flow).

A quota counts the flow's surveys completed since the start of the current period (UTC
calendar periods: a day, a week from Monday, a month, a federal fiscal quarter). Once it
is reached, further interactions are not offered a survey (reason ``quota_reached``)
until the next period starts. Surveys already under way may still complete, so a count
can end a little over the quota; it never stops a survey that was offered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import Flow, Quota
from gateway.store.models import Survey


def period_start(period: str, now: datetime) -> datetime:
    """The start (UTC) of the ``period`` that ``now`` falls in."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":  # fiscal quarters start in October, January, April and July
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    raise ValueError(f"unknown quota period {period!r}")


class QuotaCounter:
    """Answers "is this quota reached?", asking the store once per quota and context value
    (a batch's thousands of rows for the same office cost one query)."""

    def __init__(self, session: Session, agency_id: int, now: datetime) -> None:
        self.session = session
        self.agency_id = agency_id
        self.now = now
        self._reached: dict[tuple[str, Quota, str | None], bool] = {}

    def reached(self, flow: Flow, context: dict[str, str]) -> bool:
        """Whether any of the flow's quotas is full for this context."""
        if flow.sampling is None:
            return False
        for quota in flow.sampling.quotas:
            value = context.get(quota.per) if quota.per else None
            key = (flow.id, quota, value)
            if key not in self._reached:
                self._reached[key] = self._count(flow.id, quota, value) >= quota.max_completed
            if self._reached[key]:
                return True
        return False

    def _count(self, flow_id: str, quota: Quota, value: str | None) -> int:
        """Completed surveys in the period, counted up to the quota and no further."""
        clauses: list[Any] = [
            Survey.agency_id == self.agency_id,
            Survey.flow_id == flow_id,
            Survey.status == "completed",
            Survey.completed_at >= period_start(quota.period, self.now),
        ]
        if quota.per is not None:
            clauses.append(Survey.context[quota.per].as_string() == value)
        found = sa.select(Survey.id).where(*clauses).limit(quota.max_completed).subquery()
        return int(self.session.scalar(sa.select(sa.func.count()).select_from(found)) or 0)
