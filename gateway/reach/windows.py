"""When a respondent may be contacted: the one rule every send asks.

A flow's contact window is its hours (``quiet_hours`` or ``window.hours``, default 08:00 to
21:00), its days of the week (``window.days``, default every day) and its blocked dates
(``window.blocked_dates``, default the US federal holidays), all in the respondent's time
zone. A phone number is timed in its own zone (the westernmost, when the number spans
several, so nobody is contacted before their window opens); an email address, or a
number whose zone is unknown, in the flow's ``window.time_zone``, and when the flow names
none it is not held. :func:`next_contact_time` says when a contact may next be made.

Federal holidays come from python-holidays' US ``government`` category: the holidays of
5 U.S.C. 6103 with their observed (in-lieu) days, and the days executive orders closed
federal offices.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import timezone as number_zones

from gateway.flows.model import ContactWindow, Flow, QuietHours

DEFAULT_WINDOW = QuietHours(time(8, 0), time(21, 0))
DEFAULT_DAYS = ContactWindow()
#: Channels that reach a person at a moment of the gateway's choosing, by phone.
PHONE_CHANNELS = ("sms", "voice")
#: How far ahead to look for an open day (a window open on at least one weekday always
#: finds one within weeks; this only bounds a mistake).
MAX_DAYS_AHEAD = 400


class NoContactDay(ValueError):
    """The window has no open day in the next ``MAX_DAYS_AHEAD`` days."""


def window_of(flow: Flow, default: QuietHours | None = None) -> QuietHours:
    """The flow's hours; else ``default`` (its agency's), else 08:00 to 21:00."""
    return flow.quiet_hours or default or DEFAULT_WINDOW


def days_of(flow: Flow) -> ContactWindow:
    """The flow's days, blocked dates and fallback zone."""
    return flow.window or DEFAULT_DAYS


@lru_cache(maxsize=64)
def federal_holidays(year: int) -> frozenset[date]:
    """The US federal holidays (observed days included) of ``year``."""
    return frozenset(holidays.US(years=year, categories=(holidays.GOVERNMENT,)))


def is_open_day(window: ContactWindow, day: date) -> bool:
    """Whether ``day`` (the respondent's local date) is one contact may be made on."""
    if day.weekday() not in window.days or day in window.blocked_dates:
        return False
    return not (window.federal_holidays and day in federal_holidays(day.year))


def zone_of(number: str, at: datetime) -> ZoneInfo | None:
    """The zone a phone number is timed in: its westernmost known zone at ``at``."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    zones = []
    for name in number_zones.time_zones_for_number(parsed):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):  # "Etc/Unknown" and the like
            continue
    if not zones:
        return None
    return min(zones, key=lambda zone: at.astimezone(zone).utcoffset() or timedelta(0))


def next_open(zone: ZoneInfo, window: QuietHours, now: datetime) -> datetime | None:
    """Hours only, every day: None when ``now`` is inside them, else the next start (UTC)."""
    return next_allowed(zone, window, ContactWindow(federal_holidays=False), now)


def next_allowed(
    zone: ZoneInfo, hours: QuietHours, window: ContactWindow, now: datetime
) -> datetime | None:
    """None when ``now`` is inside the window in ``zone``; else its next opening (UTC)."""
    local = now.astimezone(zone)
    for ahead in range(MAX_DAYS_AHEAD):
        day = local.date() + timedelta(days=ahead)
        if not is_open_day(window, day):
            continue
        if ahead == 0:
            if local.time() >= hours.end:
                continue
            if local.time() >= hours.start:
                return None
        return datetime.combine(day, hours.start, tzinfo=zone).astimezone(UTC)
    raise NoContactDay(f"no day open for contact in the next {MAX_DAYS_AHEAD} days")


def contact_zone(flow: Flow, contact: str, channel: str, now: datetime) -> ZoneInfo | None:
    """The zone a contact is timed in; None when it is not held at all."""
    zone = zone_of(contact, now) if channel in PHONE_CHANNELS else None
    if zone is None and days_of(flow).time_zone:
        zone = ZoneInfo(days_of(flow).time_zone or "UTC")
    return zone


def next_contact_time(
    flow: Flow,
    contact: str,
    channel: str,
    now: datetime,
    default_hours: QuietHours | None = None,
) -> datetime | None:
    """None when the contact may be made now; else the next moment it may (UTC).

    The one answer to "when may we contact": the first send, and any later contact a
    flow plans (reminders, fallback channels), ask it. ``default_hours`` are the hours of
    the flow's agency, for a flow that sets none.
    """
    zone = contact_zone(flow, contact, channel, now)
    if zone is None:
        return None
    return next_allowed(zone, window_of(flow, default_hours), days_of(flow), now)
