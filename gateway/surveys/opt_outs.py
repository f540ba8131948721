"""Opting out of texts and back in: a number with an opt-out record is never texted, and
STOP marks its open surveys ``opted_out``."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.models import OptOut, Survey
from gateway.store.sealing import contact_hash
from gateway.surveys.messages import drop_pending
from gateway.surveys.open_surveys import AWAITING_REPLY, NOT_YET_STARTED

_OPT_OUTS = cast(sa.Table, OptOut.__table__)
#: Built once, against the table: the reply path asks it on every text.
_OPTED_OUT = (
    sa.select(_OPT_OUTS.c.id)
    .where(_OPT_OUTS.c.contact_hash == sa.bindparam("contact_hash"))
    .limit(1)
)


def is_opted_out(session: Session, contact: str) -> bool:
    """Whether the number ``contact`` opted out."""
    return is_hash_opted_out(session, contact_hash(contact))


def is_hash_opted_out(session: Session, hashed: str | None) -> bool:
    """Whether the contact of this :func:`contact_hash` opted out."""
    return hashed is not None and session.scalar(_OPTED_OUT, {"contact_hash": hashed}) is not None


def opt_out(session: Session, contact: str, *, keyword: str, now: datetime) -> list[Survey]:
    """Record the opt-out and close the number's open SMS surveys as ``opted_out``."""
    hashed = contact_hash(contact)
    if not is_hash_opted_out(session, hashed):
        session.add(OptOut(contact_hash=hashed, channel="sms", keyword=keyword, created_at=now))
    open_surveys = session.scalars(
        sa.select(Survey)
        .where(
            Survey.contact_hash == hashed,
            Survey.channel == "sms",
            Survey.status.in_(AWAITING_REPLY + NOT_YET_STARTED),
        )
        .with_for_update()
    ).all()
    for survey in open_surveys:
        survey.status = "opted_out"
        survey.failure_reason = f"the respondent opted out ({keyword})"
        drop_pending(session, survey)
    session.flush()
    return list(open_surveys)


def opt_in(session: Session, contact: str) -> bool:
    """Remove the number's opt-out; False when it had none."""
    result = session.execute(sa.delete(OptOut).where(OptOut.contact_hash == contact_hash(contact)))
    return bool(getattr(result, "rowcount", 0))
