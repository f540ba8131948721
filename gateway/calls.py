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

Outbound calls (:func:`start_outbound_call`, :func:`call_status`) live in
:mod:`gateway.outbound_calls`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.voice import Line, StepUrls, VoiceStep, render_goodbye, render_step
from config.settings import Settings
from gateway import conversation
from gateway.api.keys import ensure_agency
from gateway.engine.catalog import catalog
from gateway.engine.engine import expect_for, language_keys, new_state, step
from gateway.engine.types import Event, Expect, SessionState, StepResult
from gateway.flow_versions import flow_source, record_flow_version
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.store.models import Message, Survey, utcnow

log = logging.getLogger(__name__)

CHANNEL = "voice"
#: Where Twilio posts each step's answer; the blueprint serves these paths.
GATHER_PATH = "/twilio/voice/gather"
RECORDING_PATH = "/twilio/voice/recording"
NO_INPUT_PATH = "/twilio/voice/no-input"
TRANSCRIPTION_PATH = "/twilio/voice/transcription"

#: A call survey nobody closed (no status callback configured on the number) expires then.
CALL_SURVEY_LIFETIME = timedelta(hours=2)

#: Said before hanging up on a call the gateway cannot serve. The catalog has no key for
#: it yet, so the words live here, in every language the catalog speaks.
APOLOGY: dict[str, str] = {
    "en": "Sorry, we can't take your feedback on this call right now. Goodbye.",
    "es": "Lo sentimos, en este momento no podemos recibir su opinión en esta llamada. Adiós.",
}

#: Outbound prompt rows: the words of one TwiML document.
SPOKEN = "spoken"
#: Inbound rows: what the caller pressed or recorded.
RECEIVED = "received"


def apology(language: str | None = None) -> str:
    """TwiML that apologises in ``language`` (English when unknown) and hangs up."""
    lang = language if language in APOLOGY else "en"
    return render_goodbye([APOLOGY[lang]], lang)


@dataclass(frozen=True)
class CallEvent:
    """One webhook of a call in progress: which survey and step it answers, and the input."""

    survey_id: str
    step: int
    call_sid: str
    event: Event


# --- the steps of a call ------------------------------------------------------------------


def _step_urls(survey_id: str, step_number: int, question_id: str | None) -> StepUrls:
    query = urlencode({"survey": survey_id, "step": step_number})
    transcription = (
        f"{TRANSCRIPTION_PATH}?{urlencode({'survey': survey_id, 'question': question_id})}"
        if question_id
        else None
    )
    return StepUrls(
        gather=f"{GATHER_PATH}?{query}",
        recording=f"{RECORDING_PATH}?{query}",
        no_input=f"{NO_INPUT_PATH}?{query}",
        transcription=transcription,
    )


def _waiting_for(flow: Flow, state: SessionState) -> tuple[Expect | None, str | None]:
    """What the call waits for in ``state``, and the question id when it is a question."""
    if state.status != "active":
        return None, None
    if state.phase == "language":
        return Expect(kind="language", single_key=True, keys=tuple(language_keys(flow))), None
    question = flow.questions[state.index]
    return expect_for(question, CHANNEL), question.id


def _menu_lines(flow: Flow, lines: tuple[str, ...]) -> tuple[str | Line, ...]:
    """A language menu's entries, each to be spoken in its own language's voice."""
    entries = {
        catalog(lang).message("language.menu", key=key): lang
        for key, lang in language_keys(flow).items()
    }
    pattern = re.compile("|".join(re.escape(entry) for entry in entries))
    spoken: list[str | Line] = []
    for line in lines:
        position = 0
        for found in pattern.finditer(line):
            if line[position : found.start()].strip():
                spoken.append(line[position : found.start()].strip())
            spoken.append(Line(found.group(0), entries[found.group(0)]))
            position = found.end()
        if line[position:].strip():
            spoken.append(line[position:].strip())
    return tuple(spoken)


def _render(survey: Survey, flow: Flow, step_number: int, lines: tuple[str, ...]) -> str:
    """The TwiML of step ``step_number``: ``lines``, then whatever the state waits for.

    The same function renders a step the first time and when it is replayed, so a replay
    is the same document.
    """
    state = SessionState.from_dict(survey.state)
    expect, question_id = _waiting_for(flow, state)
    language = state.language or flow.default_language
    transcribe = bool(question_id and flow.question(question_id).transcribe)
    said = _menu_lines(flow, lines) if state.phase == "language" else lines
    voice_step = VoiceStep(said, language, expect, transcribe=transcribe)
    if expect is None:
        return render_step(voice_step)
    return render_step(voice_step, _step_urls(survey.id, step_number, question_id))


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


def _step_number(message: Message | None) -> int:
    if message is None or not message.step_key:
        return 0
    return int(message.step_key.rsplit(":", 1)[1])


def replay(survey: Survey, flow: Flow, message: Message) -> str:
    """The TwiML of an earlier step again, for a webhook Twilio delivered twice."""
    return _render(survey, flow, _step_number(message), tuple(message.body.split("\n")))


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
        spoken = _step_number(current_step(session, survey))
    number = spoken + 1
    lines = tuple(p.text for p in result.prompts if p.text.strip())
    document = {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "direction": "outbound",
        "channel": CHANNEL,
        "from_addr": survey.sender,
        "to_addr": survey.contact,
        "body": "\n".join(lines),
        "step_key": f"{survey.id}:{number}",
        "status": SPOKEN,
        "created_at": now,
        "updated_at": now,
    }
    # Both rows in one statement (one round trip), the caller's input first.
    session.execute(_INSERT_MESSAGE, [document] if received is None else [received, document])
    conversation.note_unflushed_sends(session, CHANNEL, SPOKEN, 1)
    session.flush()
    return _render(survey, flow, number, lines)


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
    conversation.apply_step(session, survey, result, now)
    if result.state.language and result.state.language != survey.language:
        survey.language = result.state.language  # chosen from the language menu
    survey.updated_at = now
    return _speak(session, survey, flow, result, now, spoken, received)


def begin_call(
    session: Session, survey: Survey, flow: Flow, settings: Settings, *, now: datetime
) -> str:
    """The caller is on the line: the survey starts and the first step is spoken."""
    survey.status = "started"
    survey.started_at = survey.started_at or now
    survey.sent_at = survey.sent_at or now
    survey.expires_at = now + CALL_SURVEY_LIFETIME
    if not survey.state:
        survey.state = new_state(flow, CHANNEL, survey.language, survey.context).to_dict()
    return _apply(session, survey, flow, Event("start"), settings, now)


def lock_survey(session: Session, survey_id: str) -> Survey | None:
    return session.scalars(_LOCK_SURVEY, {"survey_id": survey_id}).first()


def _input_row(survey: Survey, call: CallEvent, now: datetime) -> dict[str, object]:
    """The inbound message row of what the caller pressed, recorded or did not."""
    value = call.event.value
    body = ",".join(value) if isinstance(value, list) else (value or "")
    return {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "direction": "inbound",
        "channel": CHANNEL,
        "from_addr": survey.contact,
        "to_addr": survey.sender,
        "body": body if call.event.kind != "no_input" else "",
        "step_key": None,
        "status": RECEIVED if call.event.kind != "no_input" else "no_input",
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
    flow = conversation.survey_flow(survey)
    latest = current_step(session, survey)
    current = _step_number(latest)
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
        flow = conversation.survey_flow(survey)
        where = f"at question {flow.questions[state.index].id}"
    conversation.expire(session, survey, now=now, max_reprompts=settings.max_reprompts)
    survey.failure_reason = f"caller hung up {where}"
    survey.updated_at = now


# --- inbound calls ------------------------------------------------------------------------


class CallRefused(Exception):
    """An inbound call the gateway cannot survey; the caller hears an apology."""

    def __init__(self, reason: str, language: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.language = language


@dataclass(frozen=True)
class InboundCall:
    call_sid: str
    caller: str  # From
    called: str  # To
    query: Mapping[str, str]  # the voice URL's query: flow, language, context values


def _inbound_flow(registry: FlowRegistry, call: InboundCall, today: datetime) -> Flow:
    flow_id = call.query.get("flow", "")
    language = call.query.get("language") or None
    flow = registry.get(flow_id)
    if flow is None:
        raise CallRefused(f"no flow {flow_id!r} is loaded; check the number's voice URL", language)
    if CHANNEL not in flow.channels:
        raise CallRefused(f"flow {flow.id!r} does not list the voice channel", language)
    if flow.pra is not None and flow.pra.expired(today.date()):
        raise CallRefused(
            f"the PRA clearance of flow {flow.id!r} expired on {flow.pra.expiration_date}",
            language,
        )
    missing = [name for name in flow.context if not call.query.get(name, "").strip()]
    if missing:
        raise CallRefused(
            f"the voice URL for flow {flow.id!r} lacks context value(s) {', '.join(missing)}; "
            f"add them to its query, like &{missing[0]}=...",
            language,
        )
    return flow


def survey_for_call(session: Session, call_sid: str) -> Survey | None:
    return session.scalars(
        sa.select(Survey)
        .where(Survey.provider_ref == call_sid, Survey.channel == CHANNEL)
        .order_by(Survey.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()


def answer_inbound(
    session: Session, registry: FlowRegistry, call: InboundCall, settings: Settings
) -> str:
    """Start the survey an inbound call (or a transfer) asks for; once per CallSid."""
    now = utcnow()
    existing = survey_for_call(session, call.call_sid)
    if existing is not None:
        latest = current_step(session, existing)
        if latest is None or existing.status != "started":
            return apology(existing.language)
        return replay(existing, conversation.survey_flow(existing), latest)
    flow = _inbound_flow(registry, call, now)
    language = call.query.get("language") or None
    if language is not None and language not in flow.languages:
        log.warning(
            "call %s asked for language %r, which flow %s lacks", call.call_sid, language, flow.id
        )
        language = None
    agency = ensure_agency(session, flow.agency)
    version = record_flow_version(session, flow, flow_source(flow))
    context = {name: call.query[name].strip() for name in flow.context}
    survey = Survey(
        agency_id=agency.id,
        flow_version_id=version.id,
        flow_id=flow.id,
        channel=CHANNEL,
        contact=call.caller,
        sender=call.called,
        language=language or flow.default_language,
        context=context,
        status="started",
        state=new_state(flow, CHANNEL, language, context).to_dict(),
        provider_ref=call.call_sid,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    session.flush()
    log.info("call %s started survey %s on flow %s", call.call_sid, survey.id, flow.id)
    return begin_call(session, survey, flow, settings, now=now)


# --- recordings ---------------------------------------------------------------------------


def recording_event(url: str | None, duration: str | None, digits: str | None) -> Event:
    """The engine event for a finished ``<Record>``: an empty recording is no recording.

    ``*`` ending the recording of an optional question is its skip key.
    """
    if digits == "*" and not _has_audio(url, duration):
        return Event("digits", "*")
    return Event("recording", url if _has_audio(url, duration) else None)


def _has_audio(url: str | None, duration: str | None) -> bool:
    try:
        seconds = int(duration or "0")
    except ValueError:
        seconds = 0
    return bool(url) and seconds > 0


def record_transcription(
    session: Session, survey_id: str, *, call_sid: str, sid: str, text: str, status: str
) -> bool:
    """Keep Twilio's transcription of a recorded answer as an inbound message of the survey.

    Idempotent by the transcription's sid; False when the survey is not this call's.
    """
    survey = session.get(Survey, survey_id)
    if survey is None or survey.provider_ref != call_sid:
        return False
    if sid and session.scalar(sa.select(Message.id).where(Message.provider_sid == sid)):
        return True
    session.add(
        Message(
            survey_id=survey.id,
            agency_id=survey.agency_id,
            direction="inbound",
            channel=CHANNEL,
            from_addr=survey.contact,
            to_addr=survey.sender,
            body=text if status == "completed" else "",
            provider_sid=sid or None,
            status="transcribed" if status == "completed" else "transcription_failed",
        )
    )
    return True
