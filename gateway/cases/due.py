"""When a case is due: at the end of a business day (weekends and US federal holidays
skipped, on the calendar the contact windows use) a number of business days after it
opens, or a number of hours after it opens.

Business days are counted in the flow's time zone (its ``window.time_zone``, the zone its
quiet hours use for contacts of no known zone), UTC when it names none: the dates are the
zone's, and a case is due at :data:`END_OF_BUSINESS_DAY` there. A case opened on a
Friday with ``2 business days`` is due on Tuesday at 17:00, and on Wednesday when Monday
is a federal holiday, whatever the hour it opened.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from gateway.flows.model import CaseRule, Flow
from gateway.reach.windows import days_of, federal_holidays

#: A case staff open from a response without saying otherwise is due in this many.
DEFAULT_BUSINESS_DAYS: Final = 5
#: When a business day ends, in the flow's time zone.
END_OF_BUSINESS_DAY: Final = time(17, 0)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def case_zone(flow: Flow) -> ZoneInfo:
    """The zone a flow's cases count business days in: its ``window.time_zone``, or UTC."""
    return ZoneInfo(days_of(flow).time_zone or "UTC")


def add_business_days(start: datetime, days: int, zone: ZoneInfo | None = None) -> datetime:
    """The end (:data:`END_OF_BUSINESS_DAY`, in ``zone``) of the ``days``-th business day
    after ``start``'s date in ``zone`` (UTC when None), as a UTC time."""
    zone = zone or ZoneInfo("UTC")
    day = start.astimezone(zone).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            left -= 1
    return datetime.combine(day, END_OF_BUSINESS_DAY, tzinfo=zone).astimezone(UTC)


def due_at(rule: CaseRule | None, opened_at: datetime, zone: ZoneInfo | None = None) -> datetime:
    """The due time of a case opened at ``opened_at`` under ``rule`` (None: the default),
    its business days counted in ``zone`` (UTC when None)."""
    if rule is not None and rule.due_hours is not None:
        return opened_at + timedelta(hours=rule.due_hours)
    days = rule.due_business_days if rule is not None else None
    return add_business_days(opened_at, days or DEFAULT_BUSINESS_DAYS, zone)
