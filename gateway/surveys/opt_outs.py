"""Opting out of texts and back in: a number with an opt-out record is never texted, and
STOP marks its open surveys ``opted_out``.

An opt-out covers every agency (an ``opt_outs`` row, what STOP records with the default
``OPT_OUT_SCOPE=all``) or one agency (an ``agency_opt_outs`` row, what STOP to an
agency's number records with ``OPT_OUT_SCOPE=agency``). A number is opted out of an
agency's texts when either kind covers it. START removes the opt-out of every agency and
that of the agency texted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.agency_models import AgencyOptOut
from gateway.store.models import OptOut, Survey
from gateway.store.sealing import contact_hash
from gateway.surveys.messages import drop_pending
from gateway.surveys.open_surveys import AWAITING_REPLY, NOT_YET_STARTED

#: What a STOP covers: every agency, or the agency whose number was texted.
OPT_OUT_SCOPES: Final = ("all", "agency")

_OPT_OUTS = cast(sa.Table, OptOut.__table__)
_AGENCY_OPT_OUTS = cast(sa.Table, AgencyOptOut.__table__)
#: Built once, against the tables: the reply path asks it on every text.
_OPTED_OUT = (
    sa.select(_OPT_OUTS.c.id)
    .where(_OPT_OUTS.c.contact_hash == sa.bindparam("contact_hash"))
    .limit(1)
)
_OPTED_OUT_OF_AGENCY = (
    sa.select(_AGENCY_OPT_OUTS.c.id)
    .where(
        _AGENCY_OPT_OUTS.c.contact_hash == sa.bindparam("contact_hash"),
        _AGENCY_OPT_OUTS.c.agency_id == sa.bindparam("agency_id"),
    )
    .limit(1)
)


def opted_out_of(agency_id: Any, hashed: Any) -> sa.ColumnElement[bool]:
    """SQL: the contact of ``hashed`` opted out of the agency ``agency_id``'s texts."""
    return sa.or_(
        sa.exists().where(_OPT_OUTS.c.contact_hash == hashed),
        sa.exists().where(
            _AGENCY_OPT_OUTS.c.contact_hash == hashed, _AGENCY_OPT_OUTS.c.agency_id == agency_id
        ),
    )


def is_opted_out(session: Session, contact: str, agency_id: int | None = None) -> bool:
    """Whether the number ``contact`` opted out (of every agency, or of ``agency_id``)."""
    return is_hash_opted_out(session, contact_hash(contact), agency_id)


def is_hash_opted_out(session: Session, hashed: str | None, agency_id: int | None = None) -> bool:
    """Whether the contact of this :func:`contact_hash` opted out of every agency's texts,
    or of ``agency_id``'s."""
    if hashed is None:
        return False
    if session.scalar(_OPTED_OUT, {"contact_hash": hashed}) is not None:
        return True
    return (
        agency_id is not None
        and session.scalar(_OPTED_OUT_OF_AGENCY, {"contact_hash": hashed, "agency_id": agency_id})
        is not None
    )


def opt_out(
    session: Session,
    contact: str,
    *,
    keyword: str,
    now: datetime,
    agency_id: int | None = None,
    channel: str = "sms",
) -> list[Survey]:
    """Record the opt-out (of every agency, or of ``agency_id`` alone) and close the
    number's open SMS surveys it covers as ``opted_out``."""
    hashed = contact_hash(contact)
    if agency_id is None:
        if not is_hash_opted_out(session, hashed):
            session.add(
                OptOut(contact_hash=hashed, channel=channel, keyword=keyword, created_at=now)
            )
    elif not is_hash_opted_out(session, hashed, agency_id):
        session.add(
            AgencyOptOut(
                agency_id=agency_id,
                contact_hash=hashed,
                channel=channel,
                keyword=keyword,
                created_at=now,
            )
        )
    query = sa.select(Survey).where(
        Survey.contact_hash == hashed,
        Survey.channel == "sms",
        Survey.status.in_(AWAITING_REPLY + NOT_YET_STARTED),
    )
    if agency_id is not None:
        query = query.where(Survey.agency_id == agency_id)
    open_surveys = session.scalars(query.with_for_update()).all()
    for survey in open_surveys:
        survey.status = "opted_out"
        survey.failure_reason = f"the respondent opted out ({keyword})"
        drop_pending(session, survey)
    session.flush()
    return list(open_surveys)


def opt_in(session: Session, contact: str, agency_id: int | None = None) -> bool:
    """Remove the number's opt-out of every agency and of ``agency_id``; False when it
    had neither."""
    hashed = contact_hash(contact)
    removed = session.execute(sa.delete(OptOut).where(OptOut.contact_hash == hashed))
    count = int(getattr(removed, "rowcount", 0) or 0)
    if agency_id is not None:
        mine = session.execute(
            sa.delete(AgencyOptOut).where(
                AgencyOptOut.contact_hash == hashed, AgencyOptOut.agency_id == agency_id
            )
        )
        count += int(getattr(mine, "rowcount", 0) or 0)
    return bool(count)
