"""Phone keypad surveys: each Twilio Voice webhook turned into one engine step and its TwiML.

A call's survey is the :class:`Survey` whose ``provider_ref`` is the CallSid. Every TwiML
document the gateway returns is numbered (its *step*) and recorded as an outbound
:class:`Message` with ``step_key`` ``"{survey id}:{step}"`` and the words spoken as its
body; the callback URLs in that document carry the step. So:

- a webhook for the current step runs the engine once and answers with the next step;
- a webhook for an earlier step (Twilio retrying a Gather whose answer it never received)
  records nothing and answers with the current step again, rebuilt from its stored words;
- anything else (an unknown survey, another call's survey, a finished call) is refused
  with a spoken apology and a hang-up, never an error.

The survey row is locked for the whole step, so two deliveries of the same Gather
serialise and the second one finds its step already taken.

This is the general path, through the ORM. The common step (a key pressed or a recording
made at the current step of a call in progress) is first tried by
:mod:`gateway.voice.quick_step`, which stores the same rows in one statement and answers
with the same document; whatever it does not serve comes here. The TwiML itself is built
by :mod:`gateway.voice.twiml`; inbound calls start in :mod:`gateway.voice.inbound`,
recordings are read by :mod:`gateway.voice.recordings`, and outbound calls
(:func:`~gateway.voice.outbound.start_outbound_call`,
:func:`~gateway.voice.outbound.call_status`) live in :mod:`gateway.voice.outbound`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.engine.engine import new_state, step
from gateway.engine.types import Event, SessionState, StepResult
from gateway.flows.model import Flow
from gateway.store.models import Message, Survey, utcnow
from gateway.surveys import lifecycle, messages
from gateway.surveys.step_plan import step_key, step_number
from gateway.voice.twiml import APOLOGY, CHANNEL, apology, render

__all__ = [
    "APOLOGY",
    "CHANNEL",
    "CallEvent",
    "apology",
    "begin_call",
    "continue_call",
    "current_step",
    "hang_up",
    "lock_survey",
    "received",
    "replay",
    "step_number",
    "survey_for_call",
]

log = logging.getLogger(__name__)

#: A call survey nobody closed (no status callback configured on the number) expires then.
CALL_SURVEY_LIFETIME = timedelta(hours=2)

#: Outbound prompt rows: the words of one TwiML document.
SPOKEN = "spoken"
#: Inbound rows: what the caller pressed or recorded.
RECEIVED = "received"


@dataclass(frozen=True)
class CallEvent:
    """One webhook of a call in progress: which survey and step it answers, and the input."""

    survey_id: str
    step: int
    call_sid: str
    event: Event


# --- the steps of a call ------------------------------------------------------------------


# Built once, with bind parameters: every step of every call runs them. Messages are
# written with plain INSERTs: the ORM's flush machinery costs more CPU than the statement.
_MESSAGES = cast(sa.Table, Message.__table__)
_CURRENT_STEP = (
    sa.select(Message)
    .where(
        Message.survey_id == sa.bindparam("survey_id"),
        Message.direction == "outbound",
        Message.status == SPOKEN,
    )
    .order_by(Message.id.desc())
    .limit(1)
)
_LOCK_SURVEY = sa.select(Survey).where(Survey.id == sa.bindparam("survey_id")).with_for_update()
_INSERT_MESSAGE = sa.insert(_MESSAGES)


def current_step(session: Session, survey: Survey) -> Message | None:
    """The last TwiML document recorded for the survey's call."""
    return session.scalars(_CURRENT_STEP, {"survey_id": survey.id}).first()


def _number_of(message: Message | None) -> int:
    return step_number(message.step_key if message is not None else None)


def replay(survey: Survey, flow: Flow, message: Message) -> str:
    """The TwiML of an earlier step again, for a webhook Twilio delivered twice."""
    lines = tuple(message.body.split("\n"))
    return render(survey.id, survey.state, flow, step_number(message.step_key), lines)


def _speak(
    session: Session,
    survey: Survey,
    flow: Flow,
    result: StepResult,
    now: datetime,
    spoken: int | None = None,
    received: dict[str, object] | None = None,
) -> str:
    """Record the step's words as the next TwiML document and render it.

    ``spoken`` is the number of the step the call is at, when the caller read it already;
    ``received`` the row of the caller's input that led here, written just before it.
    """
    if spoken is None:
        spoken = _number_of(current_step(session, survey))
    number = spoken + 1
    lines = tuple(p.text for p in result.prompts if p.text.strip())
    document = {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "direction": "outbound",
        "channel": CHANNEL,
        "from_addr": survey.sender,
        "to_addr": survey.contact,
        "contact_hash": survey.contact_hash,
        "body": "\n".join(lines),
        "step_key": step_key(survey.id, number),
        "status": SPOKEN,
        "created_at": now,
        "updated_at": now,
    }
    # Both rows in one statement (one round trip), the caller's input first.
    session.execute(_INSERT_MESSAGE, [document] if received is None else [received, document])
    messages.note_unflushed_sends(session, CHANNEL, SPOKEN, 1)
    session.flush()
    return render(survey.id, survey.state, flow, number, lines)


def _apply(
    session: Session,
    survey: Survey,
    flow: Flow,
    event: Event,
    settings: Settings,
    now: datetime,
    spoken: int | None = None,
    received: dict[str, object] | None = None,
) -> str:
    state = SessionState.from_dict(survey.state)
    result = step(flow, state, event, max_reprompts=settings.max_reprompts)
    lifecycle.apply_step(session, survey, result, now)
    return _speak(session, survey, flow, result, now, spoken, received)


def begin_call(
    session: Session,
    survey: Survey,
    flow: Flow,
    settings: Settings,
    *,
    now: datetime,
    new: bool = False,
) -> str:
    """The caller is on the line: the survey starts and the first step is spoken.

    ``new``: the survey was created for this call just now, so no step was spoken yet.
    """
    survey.status = "started"
    survey.started_at = survey.started_at or now
    survey.sent_at = survey.sent_at or now
    survey.expires_at = now + CALL_SURVEY_LIFETIME
    if not survey.state:
        survey.state = new_state(flow, CHANNEL, survey.language, survey.context).to_dict()
    spoken = 0 if new else None
    return _apply(session, survey, flow, Event("start"), settings, now, spoken)


def lock_survey(session: Session, survey_id: str) -> Survey | None:
    return session.scalars(_LOCK_SURVEY, {"survey_id": survey_id}).first()


def received(event: Event) -> tuple[str, str]:
    """The body and status of the inbound row recording ``event`` (keys, a recording's URL,
    or nothing heard)."""
    if event.kind == "no_input":
        return "", "no_input"
    value = event.value
    return (",".join(value) if isinstance(value, list) else (value or "")), RECEIVED


def _input_row(survey: Survey, call: CallEvent, now: datetime) -> dict[str, object]:
    """The inbound message row of what the caller pressed, recorded or did not."""
    body, status = received(call.event)
    return {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "direction": "inbound",
        "channel": CHANNEL,
        "from_addr": survey.contact,
        "to_addr": survey.sender,
        "contact_hash": survey.contact_hash,
        "body": body,
        "step_key": None,
        "status": status,
        "created_at": now,
        "updated_at": now,
    }


def continue_call(session: Session, call: CallEvent, settings: Settings) -> str:
    """Apply a Gather, Record or no-input webhook; the TwiML that follows."""
    now = utcnow()
    survey = lock_survey(session, call.survey_id)
    if survey is None or survey.channel != CHANNEL or survey.provider_ref != call.call_sid:
        log.warning(
            "voice step for unknown call: survey %s, call %s", call.survey_id, call.call_sid
        )
        return apology()
    flow = lifecycle.survey_flow(survey)
    latest = current_step(session, survey)
    current = _number_of(latest)
    if latest is not None and call.step < current:
        log.info(
            "survey %s: step %d delivered again; replaying step %d", survey.id, call.step, current
        )
        return replay(survey, flow, latest)
    if call.step != current or survey.status != "started":
        log.warning(
            "voice step %d for survey %s (%s, at step %d) refused",
            call.step,
            survey.id,
            survey.status,
            current,
        )
        return apology(survey.language)
    received = _input_row(survey, call, now)
    return _apply(session, survey, flow, call.event, settings, now, current, received)


def hang_up(session: Session, survey: Survey, settings: Settings, *, now: datetime) -> None:
    """The caller hung up before the end: the survey is closed as ``expired`` at once.

    Every answer already given stays; ``failure_reason`` says where the caller left.
    """
    state = SessionState.from_dict(survey.state) if survey.state else None
    where = "before the survey began"
    if state is not None and state.phase == "language":
        where = "at the language menu"
    elif state is not None and state.phase == "question":
        flow = lifecycle.survey_flow(survey)
        where = f"at question {flow.questions[state.index].id}"
    lifecycle.expire(session, survey, now=now, max_reprompts=settings.max_reprompts)
    survey.failure_reason = f"caller hung up {where}"
    survey.updated_at = now


def survey_for_call(session: Session, call_sid: str) -> Survey | None:
    """The newest survey of the call ``call_sid``, locked."""
    return session.scalars(
        sa.select(Survey)
        .where(Survey.provider_ref == call_sid, Survey.channel == CHANNEL)
        .order_by(Survey.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
