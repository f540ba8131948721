"""Holding a survey's first contact until the respondent's window opens.

The window is the flow's (:mod:`gateway.reach.windows`): its hours (``quiet_hours``,
else its agency's default quiet hours, else 08:00 to 21:00), days of the week and
blocked dates (federal holidays by default), in the respondent's time zone. A start that
falls outside the window is put off to the window's next opening: the survey goes back to
``scheduled`` with ``send_at`` set, and its expiry moves with it. ``QUIET_HOURS`` turns
the rule on (the default in production) or off.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from config.settings import Settings
from gateway.agencies.profiles import contact_hours
from gateway.reach.windows import (  # noqa: F401  (the window rules, re-exported)
    DEFAULT_WINDOW,
    next_contact_time,
    next_open,
    window_of,
    zone_of,
)
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys import lifecycle, open_surveys

#: Channels that reach a person at a moment of the gateway's choosing (email only when
#: the flow names a ``window.time_zone``).
HELD_CHANNELS = ("sms", "voice", "email")


def hold_if_quiet(app: Flask, survey_id: str, now: datetime | None = None) -> datetime | None:
    """Put off a survey about to start outside its window; when it starts instead.

    Returns None (start now) for surveys already under way, contacts with no known zone,
    and contacts in their window; the caller enqueues the start for the returned time.
    """
    settings: Settings = app.extensions["settings"]
    if not settings.quiet_hours:
        return None
    now = now or utcnow()
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id, with_for_update=True)
        return None if survey is None else hold(survey, now)


def hold(survey: Survey, now: datetime) -> datetime | None:
    """:func:`hold_if_quiet` for a survey the caller holds locked in its transaction (a
    chunk of a batch starting together); the caller checks ``QUIET_HOURS``."""
    if survey.channel not in HELD_CHANNELS or survey.status not in open_surveys.NOT_YET_STARTED:
        return None
    flow = lifecycle.survey_flow(survey)
    hours = contact_hours(survey.agency)
    later = next_contact_time(flow, survey.contact, survey.channel, now, hours)
    if later is None:
        return None
    if survey.expires_at is not None:
        survey.expires_at += later - now
    survey.status = "scheduled"
    survey.send_at = later
    survey.queued_at = None
    return later
