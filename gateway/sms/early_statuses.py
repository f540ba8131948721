"""Delivery statuses that arrive before their text is recorded sent.

A chunk of texts (:mod:`gateway.sending.chunks`) is recorded sent, with each text's
MessageSid, in one transaction once the chunk's sends are done, so Twilio's status
callback for a text can arrive before the store knows its sid. Such a status is not
dropped: it is kept (:class:`~gateway.store.status_models.EarlyStatus`) and applied by
:func:`gateway.surveys.delivery_statuses.apply_status`, in the transaction that records
the text sent, exactly as if it had arrived then. One never matched is deleted after
:data:`KEEP`.

A callback and the recording of its text must not miss each other (the callback finding
no text, the recording finding no kept status, both committing). Both take a lock on the
sid before they look (:func:`lock_sids`): on PostgreSQL a transaction advisory lock,
released at commit; SQLite runs one writing transaction at a time, and each side writes
before it looks. Whichever comes second then sees what the first committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.reach import fallback
from gateway.store.status_models import EarlyStatus
from gateway.surveys import delivery_statuses
from gateway.surveys.delivery_statuses import StatusOutcome

#: How long a status for a sid never recorded is kept.
KEEP = timedelta(days=1)
#: The advisory locks' first key, so they meet no other lock of the database.
_LOCK_SPACE = 0x5E17
_LOCK = sa.text("SELECT pg_advisory_xact_lock(:space, key) FROM unnest(:keys) AS key").bindparams(
    sa.bindparam("keys", type_=postgresql.ARRAY(sa.Integer))
)


def _key(sid: str) -> int:
    return int.from_bytes(hashlib.blake2b(sid.encode(), digest_size=4).digest(), signed=True)


def lock_sids(session: Session, sids: Collection[str]) -> None:
    """Lock the sids about to be recorded sent (or looked for by a callback) until the
    transaction ends; in one order, so two transactions never wait for each other."""
    if not sids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(_LOCK, {"space": _LOCK_SPACE, "keys": sorted({_key(s) for s in sids})})


def apply_or_keep(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: str | None,
    now: datetime,
    max_attempts: int,
) -> StatusOutcome:
    """A status callback: applied to its text (:func:`delivery_statuses.apply_status`), or,
    for a sid not recorded yet, kept until it is (``found`` is then False). The same
    status for the same sid is kept once."""

    def apply() -> StatusOutcome:
        return _applied(session, sid, status, error_code, now=now, max_attempts=max_attempts)

    outcome = apply()
    if outcome.found:
        return outcome
    lock_sids(session, [sid])
    session.execute(
        _insert(session).values(
            provider_sid=sid, status=status, error_code=error_code, received_at=now
        )
    )
    outcome = apply()  # recorded while this callback waited for the lock
    if outcome.found:
        session.execute(
            sa.delete(EarlyStatus).where(
                EarlyStatus.provider_sid == sid, EarlyStatus.status == status
            )
        )
    return outcome


def _applied(
    session: Session,
    sid: str,
    status: str,
    error_code: str | None,
    *,
    now: datetime,
    max_attempts: int,
) -> StatusOutcome:
    """A status applied to its text, and a text that failed for good settled: its survey
    switched to a call where the flow allows, else failed (:mod:`gateway.reach.fallback`)."""
    outcome = delivery_statuses.apply_status(
        session, sid=sid, status=status, error_code=error_code, now=now, max_attempts=max_attempts
    )
    return fallback.settle_failed_text(session, outcome, now)


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite_insert)(EarlyStatus)
    return insert.on_conflict_do_nothing(index_elements=["provider_sid", "status"])


def apply_recorded(
    session: Session, sids: Collection[str], *, now: datetime, max_attempts: int
) -> list[StatusOutcome]:
    """Apply the kept statuses of the texts just recorded sent as ``sids`` (in the
    transaction that recorded them, after :func:`lock_sids`), lowest status first, and
    delete them; the outcomes with something to enqueue (a resend, a call fallback)."""
    if not sids:
        return []
    rows = session.execute(
        sa.select(
            EarlyStatus.id, EarlyStatus.provider_sid, EarlyStatus.status, EarlyStatus.error_code
        ).where(EarlyStatus.provider_sid.in_(list(sids)))
    ).all()
    if not rows:
        return []
    outcomes = [
        _applied(session, sid, status, error_code, now=now, max_attempts=max_attempts)
        for _id, sid, status, error_code in sorted(
            rows, key=lambda row: (delivery_statuses.STATUS_RANK.get(row[2], 0), row[0])
        )
    ]
    session.execute(sa.delete(EarlyStatus).where(EarlyStatus.id.in_([row[0] for row in rows])))
    return [o for o in outcomes if o.resend_survey_id or o.start_survey_id]


def delete_unmatched(session: Session, *, before: datetime) -> int:
    """Delete the kept statuses received before ``before`` (their sid never recorded)."""
    result = session.execute(sa.delete(EarlyStatus).where(EarlyStatus.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
