"""Which of a number's SMS surveys a text is for.

A text belongs to the *line* of the number it was sent to (``To``): the Messaging Service
or number an agency registered it as (:class:`gateway.store.agency_models.AgencySender`),
or, for any other number, the deployment's own line, which holds every survey sent from a
sender no agency registered (``TWILIO_*``, or simulated delivery). A survey is on the line
of the sender it texted from (``Survey.sender``).

One open SMS survey per number and line: when a survey starts, an older one on the same
line still waiting for the same number's replies is ``cancelled``
(:func:`gateway.surveys.lifecycle.supersede`), so a reply always reaches the newest
interaction of the line texted, and a citizen may answer one survey per agency's line at
once. A deployment whose agencies registered no sender has one line: nothing changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from gateway.store.agency_models import AgencySender
from gateway.store.models import Survey
from gateway.store.sealing import contact_hash

#: Surveys that have texted the respondent and wait for replies.
AWAITING_REPLY = ("sent", "started")
#: Surveys recorded whose first text has not gone out yet.
NOT_YET_STARTED = ("scheduled", "queued")


_SENDERS = aliased(AgencySender, name="line_sender")


def _registered_line(address: Any) -> sa.ScalarSelect[Any]:
    """The line of the SMS sender registered at ``address`` (NULL when none is)."""
    return (
        sa.select(sa.func.coalesce(_SENDERS.service, _SENDERS.address))
        .where(_SENDERS.channel == "sms", _SENDERS.address == address)
        .scalar_subquery()
    )


def _on_deployment_line() -> sa.ColumnElement[bool]:
    """The survey texted from a sender no agency registered."""
    return sa.or_(
        Survey.sender.is_(None),
        ~sa.exists().where(
            _SENDERS.channel == "sms", _SENDERS.service.is_(None), _SENDERS.address == Survey.sender
        ),
    )


def on_line_of(to: Any) -> sa.ColumnElement[bool]:
    """The survey is on the line a text to ``to`` (a value or a bind parameter) belongs to."""
    line = _registered_line(to)
    return sa.or_(
        sa.and_(line.is_not(None), Survey.sender == line),
        sa.and_(line.is_(None), _on_deployment_line()),
    )


def on_line(session: Session, sender: str | None) -> sa.ColumnElement[bool]:
    """The survey is on the same line as a survey texting from ``sender``."""
    registered = sender is not None and session.scalar(
        sa.select(AgencySender.id).where(
            AgencySender.channel == "sms",
            AgencySender.service.is_(None),
            AgencySender.address == sender,
        )
    )
    return Survey.sender == sender if registered else _on_deployment_line()


def awaiting_reply(*columns: Any) -> sa.Select[Any]:
    """SELECT of ``columns`` from the newest SMS survey that texted the contact whose
    :func:`~gateway.store.sealing.contact_hash` is the parameter ``contact_hash`` from the
    line of the number ``to`` (a parameter) and waits for its reply (also the quick
    reply's, :mod:`gateway.sms.quick_reply`)."""
    return (
        sa.select(*columns)
        .where(
            Survey.contact_hash == sa.bindparam("contact_hash"),
            Survey.channel == "sms",
            Survey.status.in_(AWAITING_REPLY),
            on_line_of(sa.bindparam("to", type_=sa.String())),
        )
        .order_by(Survey.sent_at.desc(), Survey.created_at.desc())
        .limit(1)
    )


#: Built once, with bind parameters: the reply path asks it on every text.
_AWAITING = awaiting_reply(Survey)
_AWAITING_LOCKED = _AWAITING.with_for_update()


def latest_sms_survey(session: Session, contact: str, to: str) -> Survey | None:
    """The number's most recent SMS survey on the line of ``to``, whatever its status."""
    return session.scalars(
        sa.select(Survey)
        .where(
            Survey.contact_hash == contact_hash(contact),
            Survey.channel == "sms",
            on_line_of(to),
        )
        .order_by(Survey.created_at.desc(), Survey.id.desc())
        .limit(1)
    ).first()


def awaiting_survey(
    session: Session, contact: str, to: str, *, lock: bool = False
) -> Survey | None:
    """The newest SMS survey that texted ``contact`` from the line of ``to`` and waits
    for a reply."""
    query = _AWAITING_LOCKED if lock else _AWAITING
    return session.scalars(query, {"contact_hash": contact_hash(contact), "to": to}).first()


def recently_closed_reply_key(survey: Survey | None, now: datetime, window: timedelta) -> str:
    """The catalog key answering a number whose last survey has ended (or that has none)."""
    if survey is not None and now - survey.updated_at <= window:
        if survey.status == "completed":
            return "service.already_finished"
        if survey.status == "expired":
            return "service.survey_expired"
    return "service.no_open_survey"
