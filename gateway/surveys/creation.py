"""Recording the survey a checked trigger asks for (:mod:`gateway.surveys.trigger_requests`).

:func:`create_survey` records it (not committed, nothing sent): the caller commits, then
enqueues the first send. A request repeating an ``Idempotency-Key`` gets the survey the
first one created; a contact that opted out, or was surveyed too recently, gets a survey
that is closed at once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.engine.types import SessionState
from gateway.flows.model import Flow
from gateway.store.models import FINAL_STATUSES, Agency, FlowVersion, Survey, utcnow
from gateway.store.sealing import contact_hash, keyed_digest
from gateway.surveys import opt_outs
from gateway.surveys.trigger_requests import TriggerError, TriggerRequest

#: The longest ``Idempotency-Key`` a trigger may carry.
MAX_IDEMPOTENCY_KEY = 255
#: A contact is surveyed at most once in this many days per agency (a flow's
#: ``fatigue_days`` overrides it; 0 turns the limit off).
DEFAULT_FATIGUE_DAYS = 30
#: The reason a trigger suppressed by that limit gives (status ``cancelled``).
FATIGUE = "fatigue"
#: Surveys that never reached the contact, and so do not count towards the limit.
NOT_SURVEYED = ("cancelled", "opted_out", "failed")


class Replayed(Exception):
    """The request repeats an earlier one (same Idempotency-Key, same body)."""

    def __init__(self, survey: Survey) -> None:
        # The id only: the session that loaded the survey is rolled back as this propagates.
        super().__init__(survey.id)
        self.survey_id = survey.id


def request_hash(payload: Any) -> str:
    """Keyed hash of the body as canonical JSON: key order and spacing do not matter, and
    the contact in it cannot be guessed back from the stored hash."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return keyed_digest(canonical.encode("utf-8"))


def find_idempotent(session: Session, agency: Agency, key: str) -> Survey | None:
    """The survey an earlier request with this ``Idempotency-Key`` created, if any."""
    return session.scalars(
        sa.select(Survey).where(Survey.agency_id == agency.id, Survey.idempotency_key == key)
    ).first()


def check_replay(survey: Survey, body_hash: str) -> Survey:
    """``survey`` when it was created from the same body; 409 when the key was reused."""
    if survey.request_hash != body_hash:
        raise TriggerError(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new survey",
        )
    return survey


def fatigue_days(flow: Flow) -> int:
    """Days a contact is left alone after a survey (the flow's, else the default)."""
    return DEFAULT_FATIGUE_DAYS if flow.fatigue_days is None else flow.fatigue_days


def recently_surveyed(
    session: Session, agency_id: int, request: TriggerRequest, now: datetime
) -> bool:
    """Whether the agency surveyed this contact within the flow's fatigue window."""
    days = fatigue_days(request.flow)
    if days == 0:
        return False
    return (
        session.scalar(
            sa.select(Survey.id)
            .where(
                Survey.contact_hash == contact_hash(request.to),
                Survey.status.not_in(NOT_SURVEYED),
                Survey.agency_id == agency_id,
                Survey.created_at >= now - timedelta(days=days),
            )
            .limit(1)
        )
        is not None
    )


def survey_values(
    request: TriggerRequest,
    *,
    agency_id: int,
    flow_version_id: int,
    opted_out: bool,
    now: datetime,
    fatigued: bool = False,
    declined: str | None = None,
) -> dict[str, Any]:
    """The new survey's column values (no id): one layout for single and bulk inserts.

    Status: ``opted_out`` when the contact sent STOP, ``cancelled`` with the reason when
    the interaction was ``declined`` (sampled out, quota reached: gateway.reach) or
    (reason ``fatigue``) the contact was surveyed too recently, ``scheduled`` when
    ``send_at`` is ahead, else ``queued``.
    """
    start = request.send_at if request.send_at and request.send_at > now else now
    if opted_out:
        status = "opted_out"
    elif declined or fatigued:
        status = "cancelled"
    else:
        status = "scheduled" if start > now else "queued"
    state = SessionState(
        channel=request.channel, language=request.language, context=request.context
    )
    flow = request.flow
    return {
        "agency_id": agency_id,
        "flow_version_id": flow_version_id,
        "flow_id": flow.id,
        "channel": request.channel,
        "contact": request.to,
        "contact_hash": contact_hash(request.to),
        "language": request.language,
        "context": request.context,
        "status": status,
        "state": state.to_dict(),
        "send_at": request.send_at,
        "expires_at": start + flow.expires_after if flow.expires_after else None,
        "created_at": now,
        "updated_at": now,
        "queued_at": now if status == "queued" else None,
        "failure_reason": (declined or FATIGUE) if status == "cancelled" else None,
        "closed_at": now if status in FINAL_STATUSES else None,
    }


def create_survey(
    session: Session,
    request: TriggerRequest,
    agency: Agency,
    flow_version: FlowVersion,
    *,
    idempotency_key: str | None = None,
    body_hash: str | None = None,
    now: datetime | None = None,
    survey_id: str | None = None,
    declined: str | None = None,
) -> Survey:
    """Record the survey a trigger asked for (not committed, nothing sent).

    Status: ``opted_out`` when the contact sent STOP, ``scheduled`` when ``send_at`` is
    ahead, else ``queued``. When another request with the same idempotency key won a race,
    :class:`Replayed` is raised with that request's survey (or 409, if its body differed).
    """
    now = now or utcnow()
    values = survey_values(
        request,
        agency_id=agency.id,
        flow_version_id=flow_version.id,
        opted_out=opt_outs.is_opted_out(session, request.to, agency.id),
        now=now,
        fatigued=recently_surveyed(session, agency.id, request, now),
        declined=declined,
    )
    survey = Survey(**values, idempotency_key=idempotency_key, request_hash=body_hash)
    if survey_id is not None:  # chosen by the caller (it seeds the sampling draw)
        survey.id = survey_id
    if idempotency_key is None or body_hash is None:
        session.add(survey)
        session.flush()
        return survey
    try:
        # A savepoint, so that losing a race on the idempotency key leaves the session usable.
        with session.begin_nested():
            session.add(survey)
    except IntegrityError:
        earlier = find_idempotent(session, agency, idempotency_key)
        if earlier is None:
            raise
        raise Replayed(check_replay(earlier, body_hash)) from None
    return survey
