"""Which of a number's SMS surveys a text is for.

One open SMS survey per number: when a survey starts, an older one still waiting for the
same number's replies is ``cancelled`` (:func:`gateway.surveys.lifecycle.supersede`), so a
reply always reaches the newest interaction found here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.models import Survey
from gateway.store.sealing import contact_hash

#: Surveys that have texted the respondent and wait for replies.
AWAITING_REPLY = ("sent", "started")
#: Surveys recorded whose first text has not gone out yet.
NOT_YET_STARTED = ("scheduled", "queued")


def awaiting_reply(*columns: Any) -> sa.Select[Any]:
    """SELECT of ``columns`` from the newest SMS survey that texted the contact whose
    :func:`~gateway.store.sealing.contact_hash` is the parameter ``contact_hash`` and waits
    for its reply (also the quick reply's, :mod:`gateway.sms.quick_reply`)."""
    return (
        sa.select(*columns)
        .where(
            Survey.contact_hash == sa.bindparam("contact_hash"),
            Survey.channel == "sms",
            Survey.status.in_(AWAITING_REPLY),
        )
        .order_by(Survey.sent_at.desc(), Survey.created_at.desc())
        .limit(1)
    )


#: Built once, with bind parameters: the reply path asks it on every text.
_AWAITING = awaiting_reply(Survey)
_AWAITING_LOCKED = _AWAITING.with_for_update()


def latest_sms_survey(session: Session, contact: str) -> Survey | None:
    """The number's most recent SMS survey, whatever its status."""
    return session.scalars(
        sa.select(Survey)
        .where(Survey.contact_hash == contact_hash(contact), Survey.channel == "sms")
        .order_by(Survey.created_at.desc(), Survey.id.desc())
        .limit(1)
    ).first()


def awaiting_survey(session: Session, contact: str, *, lock: bool = False) -> Survey | None:
    """The newest SMS survey that texted ``contact`` and waits for a reply."""
    query = _AWAITING_LOCKED if lock else _AWAITING
    return session.scalars(query, {"contact_hash": contact_hash(contact)}).first()


def recently_closed_reply_key(survey: Survey | None, now: datetime, window: timedelta) -> str:
    """The catalog key answering a number whose last survey has ended (or that has none)."""
    if survey is not None and now - survey.updated_at <= window:
        if survey.status == "completed":
            return "service.already_finished"
        if survey.status == "expired":
            return "service.survey_expired"
    return "service.no_open_survey"
