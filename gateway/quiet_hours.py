"""Quiet hours: surveys are sent only in the respondent's local daytime.

The window is the flow's ``quiet_hours`` (default 08:00 to 21:00), in the time zone of the
number (``phonenumbers.timezone``). A number with several zones (toll-free numbers, some
mobile ranges) is timed in its westernmost zone, whose window starts latest, so nobody
gets a text or a call before the start of their window. A number with no known zone, and
email, are not held. A start that falls outside the window is put off to the next window
start: the survey goes back to ``scheduled`` with ``send_at`` set, and its expiry moves
with it. ``QUIET_HOURS`` turns the rule on (the default in production) or off.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask import Flask
from phonenumbers import timezone as number_zones

from config.settings import Settings
from gateway import conversation
from gateway.flows.model import Flow, QuietHours
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow

DEFAULT_WINDOW = QuietHours(time(8, 0), time(21, 0))
#: Channels that reach a person at a moment of the gateway's choosing.
HELD_CHANNELS = ("sms", "voice")


def window_of(flow: Flow) -> QuietHours:
    return flow.quiet_hours or DEFAULT_WINDOW


def zone_of(number: str, at: datetime) -> ZoneInfo | None:
    """The zone the number is timed in: its westernmost known zone at ``at``."""
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
    """None when ``now`` is inside the window in ``zone``; else the next window start (UTC)."""
    local = now.astimezone(zone)
    if window.start <= local.time() < window.end:
        return None
    day = local.date() if local.time() < window.start else local.date() + timedelta(days=1)
    start = datetime.combine(day, window.start, tzinfo=zone)
    return start.astimezone(UTC)


def hold_if_quiet(app: Flask, survey_id: str, now: datetime | None = None) -> datetime | None:
    """Put off a survey about to start outside its window; when it starts instead.

    Returns None (start now) for surveys already under way, email, and numbers in their
    window; the caller enqueues the start for the returned time.
    """
    settings: Settings = app.extensions["settings"]
    if not settings.quiet_hours:
        return None
    now = now or utcnow()
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id, with_for_update=True)
        if (
            survey is None
            or survey.channel not in HELD_CHANNELS
            or survey.status not in conversation.NOT_YET_STARTED
        ):
            return None
        zone = zone_of(survey.contact, now)
        if zone is None:
            return None
        later = next_open(zone, window_of(conversation.survey_flow(survey)), now)
        if later is None:
            return None
        if survey.expires_at is not None:
            survey.expires_at += later - now
        survey.status = "scheduled"
        survey.send_at = later
        survey.queued_at = None
        return later
