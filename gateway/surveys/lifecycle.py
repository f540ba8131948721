"""A survey's life: started, stepped through by the engine, completed or expired.

Functions here take an open database session and plain values; they decide nothing the
engine does not (the engine decides what to say), and they never talk to a provider: the
caller sends what they record (a job through the REST API, or the webhook in its TwiML).
A number that opted out (:mod:`gateway.surveys.opt_outs`) is never texted.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session

from gateway.engine.engine import new_state, step
from gateway.engine.types import Event, SessionState, StepResult
from gateway.flows.model import Flow
from gateway.store.models import Answer, Message, Survey
from gateway.surveys import comment_arrival, consent, events
from gateway.surveys.flow_versions import flow_for_version, flow_for_version_id
from gateway.surveys.messages import (
    PENDING,
    SurveyLink,
    dialect_name,
    drop_pending,
    prompt_text,
    record_outbound,
)
from gateway.surveys.open_surveys import AWAITING_REPLY, NOT_YET_STARTED, on_line
from gateway.surveys.opt_outs import is_hash_opted_out
from gateway.surveys.step_plan import StepWrites, SurveyAsRead, plan_step
from gateway.surveys.step_statements import answer_params, answer_upsert

#: The answer upsert by dialect, built once: every step that records answers runs it.
_UPSERT_ANSWER = {"postgresql": answer_upsert(postgresql), "sqlite": answer_upsert(sqlite)}


def survey_flow(survey: Survey) -> Flow:
    """The flow version the survey runs (the one it was started on)."""
    session = object_session(survey)
    if session is None or "flow_version" in survey.__dict__:
        return flow_for_version(survey.flow_version)
    return flow_for_version_id(session, survey.flow_version_id)


# -- storing a step ----------------------------------------------------------------------


def _as_read(survey: Survey) -> SurveyAsRead:
    """What the step rules read of ``survey``, as it is before the step."""
    return SurveyAsRead(
        survey.id, survey.status, survey.language, survey.first_answered_at is not None
    )


def _save_answers(session: Session, survey: Survey, writes: StepWrites, now: datetime) -> None:
    """Write the step's answers, one upsert per question, and delete the dropped ones."""
    upsert = _UPSERT_ANSWER[dialect_name(session)]
    params = {"survey_id": survey.id, "survey_created_at": survey.created_at, "now": now}
    for recorded in writes.answers:
        session.execute(upsert, {**params, **answer_params([recorded])})
    if writes.dropped:
        session.execute(
            sa.delete(Answer).where(
                Answer.survey_id == survey.id, Answer.question_id.in_(writes.dropped)
            )
        )
    if writes.answers or writes.dropped:
        # Rows were written around the session: what it holds of them is out of date.
        if "answers" in survey.__dict__:
            session.expire(survey, ["answers"])
        for held in list(session.identity_map.values()):
            if isinstance(held, Answer) and held.survey_id == survey.id:
                session.expire(held)


def _apply(session: Session, survey: Survey, result: StepResult, now: datetime) -> StepResult:
    """Store a step as :func:`~gateway.surveys.step_plan.plan_step` says: its state,
    answers and the survey columns that follow from them; free-text answers are stored
    redacted, and read (:mod:`gateway.surveys.comment_arrival`). Returns the step as
    stored."""
    flow = survey_flow(survey)
    result, arrivals = comment_arrival.redact_step(result, flow, survey.language, survey.channel)
    writes = plan_step(_as_read(survey), result, now)
    survey.state = writes.state
    with session.no_autoflush:
        _save_answers(session, survey, writes, now)
        for name, value in writes.columns.items():
            setattr(survey, name, value)
    comment_arrival.record(session, survey, flow, arrivals, now)
    if writes.completed:
        events.completed(session, survey)
    return result


def apply_step(session: Session, survey: Survey, result: StepResult, now: datetime) -> None:
    """Store a step's state, answers and resulting status (for channels other than SMS)."""
    _apply(session, survey, result, now)


# -- starting ---------------------------------------------------------------------------


#: Why a survey was cancelled for a newer one of another agency to the same number.
SUPERSEDED_BY_ANOTHER = "superseded by a newer survey"


def supersede(session: Session, survey: Survey, now: datetime) -> list[str]:
    """Cancel the number's other SMS surveys that wait for replies on the survey's line
    (:mod:`gateway.surveys.open_surveys`); their answers stay."""
    if survey.contact_hash is None:
        return []
    older = session.scalars(
        sa.select(Survey)
        .where(
            Survey.contact_hash == survey.contact_hash,
            Survey.channel == "sms",
            Survey.status.in_(AWAITING_REPLY),
            Survey.id != survey.id,
            on_line(session, survey.sender),
        )
        .with_for_update()
    ).all()
    for other in older:
        other.status = "cancelled"
        # Another agency's survey id is none of this agency's business.
        same_agency = other.agency_id == survey.agency_id
        other.failure_reason = (
            f"superseded by survey {survey.id}" if same_agency else SUPERSEDED_BY_ANOTHER
        )
        other.updated_at = now
    return [other.id for other in older]


def begin(
    session: Session,
    survey: Survey,
    flow: Flow,
    *,
    now: datetime,
    max_reprompts: int,
    outbound_status: str = PENDING,
    survey_link: SurveyLink | None = None,
    flush: bool = True,
) -> list[Message]:
    """Run the survey's first step and record its opening text as outbound rows.

    The caller holds the survey row (locked) in ``scheduled`` or ``queued``. A number that
    opted out gets nothing: the survey becomes ``opted_out`` and no row is written.
    """
    if is_hash_opted_out(session, survey.contact_hash, survey.agency_id):
        survey.status = "opted_out"
        survey.failure_reason = "the number has opted out of text messages"
        return []
    state = new_state(flow, "sms", survey.language, {k: str(v) for k, v in survey.context.items()})
    if consent.needs_consent(flow, survey) and survey.consent_given_at is None:
        # Ask first; the engine starts when the respondent says yes (sms_inbound).
        supersede(session, survey, now)
        survey.state = state.to_dict()
        if survey.expires_at is None and flow.expires_after is not None:
            survey.expires_at = now + flow.expires_after
        wording = consent.ask(survey, flow, now)
        return record_outbound(session, survey, [wording], status=outbound_status, flush=flush)
    result = step(flow, state, Event("start"), max_reprompts=max_reprompts)
    supersede(session, survey, now)
    survey.state = result.state.to_dict()
    if survey.expires_at is None and flow.expires_after is not None:
        survey.expires_at = now + flow.expires_after
    text = prompt_text(result, survey, survey_link)
    return record_outbound(session, survey, [text], status=outbound_status, flush=flush)


def mark_sent(survey: Survey, now: datetime) -> None:
    """The first text reached the provider: the survey now waits for replies."""
    if survey.status in NOT_YET_STARTED:
        survey.status = "sent"
        survey.sent_at = now


# -- replies ----------------------------------------------------------------------------


def answer(
    session: Session, survey: Survey, body: str, *, now: datetime, max_reprompts: int
) -> StepResult:
    """Feed a reply to the engine and store what it recorded."""
    flow = survey_flow(survey)
    state = SessionState.from_dict(survey.state)
    result = step(flow, state, Event("text", body), max_reprompts=max_reprompts)
    return _apply(session, survey, result, now)


def apply_event(
    session: Session, survey: Survey, event: Event, *, now: datetime, max_reprompts: int
) -> StepResult:
    """Feed any engine event (a web form's values, "back", "start") to the engine and
    store what it recorded, on whatever channel the survey runs."""
    flow = survey_flow(survey)
    state = SessionState.from_dict(survey.state)
    result = step(flow, state, event, max_reprompts=max_reprompts)
    return _apply(session, survey, result, now)


# -- ending -----------------------------------------------------------------------------


def expire(session: Session, survey: Survey, *, now: datetime, max_reprompts: int) -> None:
    """End an open survey whose time is up; nothing is texted."""
    if survey.state:
        flow = survey_flow(survey)
        state = SessionState.from_dict(survey.state)
        result = step(flow, state, Event("expire"), max_reprompts=max_reprompts)
        _apply(session, survey, result, now)
    survey.status = "expired"
    drop_pending(session, survey)


def expire_due(session: Session, *, now: datetime, max_reprompts: int, limit: int = 500) -> int:
    """Expire the surveys whose ``expires_at`` has passed; returns how many."""
    due = session.scalars(
        sa.select(Survey)
        .where(
            Survey.status.in_(AWAITING_REPLY),
            Survey.expires_at.is_not(None),
            Survey.expires_at <= now,
        )
        .order_by(Survey.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for survey in due:
        expire(session, survey, now=now, max_reprompts=max_reprompts)
    return len(due)


def is_past_expiry(survey: Survey, now: datetime) -> bool:
    """Whether the survey's time to answer is up at ``now``."""
    return survey.expires_at is not None and survey.expires_at <= now
