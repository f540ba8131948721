"""Web and email surveys in the store: opening one from a link, starting an anonymous one
from a poster's QR code, and unsubscribing an email address.

Functions take an open session and plain values; the engine decides what is asked
(through :func:`gateway.surveys.lifecycle.apply_event`), these only load and record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.agencies.keys import ensure_agency
from gateway.engine.engine import new_state
from gateway.engine.types import Event, SessionState
from gateway.flows.model import Flow
from gateway.store.agency_models import AgencyOptOut
from gateway.store.models import OPEN_STATUSES, Message, OptOut, Survey
from gateway.surveys.flow_versions import flow_source, record_flow_version
from gateway.surveys.lifecycle import apply_event
from gateway.surveys.opt_outs import is_hash_opted_out

#: Why a survey cannot be answered now, for the page that says so.
Closed = Literal["expired", "finished", "closed"]

#: The channel whose pages a survey is answered on once its link is opened.
WEB = "web"


def closed_reason(survey: Survey, now: datetime) -> Closed | None:
    """None while the survey takes answers; otherwise why not."""
    if survey.status == "completed":
        return "finished"
    if survey.status == "expired":
        return "expired"
    if survey.status not in OPEN_STATUSES:
        return "closed"
    if survey.expires_at is not None and survey.expires_at <= now:
        return "expired"
    return None


#: A survey in one of these has not been opened yet.
UNOPENED = ("scheduled", "queued", "sent")


def needs_start(survey: Survey, flow: Flow) -> bool:
    """Whether :func:`ensure_started` would change the survey (its first visit)."""
    state = SessionState.from_dict(survey.state) if survey.state else None
    return (
        state is None
        or not state.channel
        or state.phase == "new"
        or survey.status in UNOPENED
        or (survey.expires_at is None and flow.expires_after is not None)
    )


def ensure_started(session: Session, survey: Survey, flow: Flow, *, now: datetime) -> None:
    """Run the engine's start on a survey that has not begun (a link opened before any
    step); a survey already under way is left where it is."""
    state = SessionState.from_dict(survey.state) if survey.state else None
    if state is None or not state.channel:
        fresh = new_state(flow, survey.channel, survey.language, _context(survey))
        survey.state = fresh.to_dict()
        state = fresh
    if state.phase == "new":
        apply_event(session, survey, Event("start"), now=now, max_reprompts=0)
    if survey.status in UNOPENED:
        survey.status = "started"
        survey.started_at = survey.started_at or now
    if survey.expires_at is None and flow.expires_after is not None:
        survey.expires_at = now + flow.expires_after


def _context(survey: Survey) -> dict[str, str]:
    return {str(k): str(v) for k, v in (survey.context or {}).items()}


def create_public_survey(
    session: Session, flow: Flow, location: str | None, language: str, *, now: datetime
) -> Survey:
    """An anonymous web survey from the public entry, started at its first question.

    The location code goes into the context as ``location``; a flow that declares an
    ``office`` context and gets no other value for it is given the location code there,
    so "Thanks for visiting the {office} office" reads sensibly on a poster's survey.
    """
    agency = ensure_agency(session, flow.agency)
    version = record_flow_version(session, flow, flow_source(flow))
    context: dict[str, str] = {}
    if location:
        context["location"] = location
        if "office" in flow.context:
            context["office"] = location
    for name in flow.context:
        context.setdefault(name, "")
    state = new_state(flow, WEB, language, context)
    survey = Survey(
        agency_id=agency.id,
        flow_version_id=version.id,
        flow_id=flow.id,
        channel=WEB,
        contact="",
        language=language,
        context=context,
        status="started",
        state=state.to_dict(),
        created_at=now,
        updated_at=now,
        started_at=now,
        expires_at=now + flow.expires_after if flow.expires_after else None,
    )
    session.add(survey)
    session.flush()
    ensure_started(session, survey, flow, now=now)
    return survey


def switch_language(survey: Survey, flow: Flow, language: str) -> bool:
    """Answer in another of the flow's languages from now on; False when it has none such."""
    if language not in flow.languages or language == survey.language:
        return False
    state = SessionState.from_dict(survey.state)
    state.language = language
    survey.state = state.to_dict()
    survey.language = language
    return True


def opt_out_email(
    session: Session, hashed: str, *, now: datetime, agency_id: int | None = None
) -> list[Survey]:
    """Record an opt-out for an email address and close its open email surveys, as STOP
    does for a phone number: of every agency, or of ``agency_id`` alone
    (``OPT_OUT_SCOPE=agency``). ``hashed`` is the survey's ``contact_hash`` (kept after the
    address is erased), which the trigger's opt-out check compares."""
    if agency_id is None:
        existing = session.scalar(sa.select(OptOut.id).where(OptOut.contact_hash == hashed))
        if existing is None:
            session.add(
                OptOut(contact_hash=hashed, channel="email", keyword="unsubscribe", created_at=now)
            )
    elif not is_hash_opted_out(session, hashed, agency_id):
        session.add(
            AgencyOptOut(
                agency_id=agency_id,
                contact_hash=hashed,
                channel="email",
                keyword="unsubscribe",
                created_at=now,
            )
        )
    query = sa.select(Survey).where(
        Survey.contact_hash == hashed,
        Survey.channel == "email",
        Survey.status.in_(OPEN_STATUSES),
    )
    if agency_id is not None:
        query = query.where(Survey.agency_id == agency_id)
    open_surveys = session.scalars(query.with_for_update()).all()
    for survey in open_surveys:
        survey.status = "opted_out"
        survey.failure_reason = "the respondent unsubscribed from survey emails"
        survey.updated_at = now
    session.execute(
        sa.update(Message)
        .where(
            Message.survey_id.in_([s.id for s in open_surveys]),
            Message.status == "pending",
        )
        .values(status="dropped")
    )
    session.flush()
    return list(open_surveys)
