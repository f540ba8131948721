"""Twilio Voice webhooks: inbound calls and transfers, survey calls, and each step of a call.

- ``POST /twilio/voice``: a call arrived (``?flow=ID&language=..&<context>=..``) or a
  survey call the gateway placed was answered (``?survey=ID``).
- ``POST /twilio/voice/gather``, ``/recording``, ``/no-input`` (``?survey=ID&step=N``):
  what the caller pressed, said, or did not, after step N.
- ``POST /twilio/voice/transcription``: Twilio's transcription of a recorded answer.
- ``POST /twilio/voice/status``: call status callbacks.

Every route checks the Twilio signature first (403, nothing changed, when it is bad).
Whatever goes wrong after that, a caller hears a short apology and the call ends: never
Twilio's "application error" message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import MultiDict

from config.settings import Settings
from gateway.engine.types import Event
from gateway.flows.registry import FlowRegistry
from gateway.services import queue
from gateway.store.db import db_of
from gateway.surveys.input_policy import (
    MAX_QUERY_VALUE,
    InputRefused,
    check_fields,
    clean_reply,
    provider_id,
    whole_number,
)
from gateway.surveys.trigger_requests import MAX_CONTEXT_VALUE
from gateway.twilio import quick_lane
from gateway.twilio.signature import require_twilio_signature
from gateway.voice import calls
from gateway.voice import inbound as inbound_calls
from gateway.voice import outbound as outbound_calls
from gateway.voice import recordings as call_recordings
from gateway.voice import slots as call_slots
from gateway.voice.calls import CallEvent
from gateway.voice.inbound import CallRefused, InboundCall
from gateway.voice.quick_step import quick_step, status_changes_nothing

log = logging.getLogger(__name__)

PREFIX = "/twilio/voice"
bp = Blueprint("twilio_voice", __name__, url_prefix=PREFIX)

TWIML_MIMETYPE = "text/xml"


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _twiml(document: str) -> Response:
    return Response(document, status=200, mimetype=TWIML_MIMETYPE)


@bp.errorhandler(Exception)
def _apologise(exc: Exception) -> Response:
    log.exception("voice webhook %s failed; the caller heard an apology", request.path)
    return _twiml(calls.apology(request.args.get("language")))


@bp.post("")
@require_twilio_signature
def call_answered() -> Response:
    form = request.form
    call_sid = _call_sid(form)
    if not call_sid:  # no call Twilio placed or put through: nothing to answer for
        log.warning("call refused: no CallSid, or one longer than any")
        return _twiml(calls.apology(request.args.get("language")))
    survey_id = request.args.get("survey")
    try:  # the voice URL's context values are held to what a trigger's may hold
        check_fields(request.args.items(multi=True), MAX_CONTEXT_VALUE)
    except InputRefused as exc:
        log.warning("call %s refused: the voice URL's query is refused: %s", call_sid, exc.message)
        return _twiml(calls.apology())
    if survey_id:
        with db_of(_app()).session() as session:
            twiml = outbound_calls.answer_outbound(
                session, survey_id, call_sid, form.get("AnsweredBy", ""), _settings()
            )
        return _twiml(twiml)
    if not request.args.get("flow"):
        log.warning("call %s: the voice URL names no flow (add ?flow=ID)", call_sid)
        return _twiml(calls.apology())
    registry: FlowRegistry = current_app.extensions["flows"]
    call = InboundCall(
        call_sid=call_sid,
        caller=form.get("From", "") or "anonymous",
        called=form.get("To", ""),
        query=request.args.to_dict(),
    )
    try:
        with db_of(_app()).session() as session:
            twiml = inbound_calls.answer_inbound(session, registry, call, _settings())
    except CallRefused as refused:
        log.warning("call %s refused: %s", call_sid, refused.reason)
        return _twiml(calls.apology(refused.language))
    return _twiml(twiml)


def _call_sid(form: MultiDict[str, str]) -> str:
    """The form's CallSid as a store can hold it; "" (no call) when it is longer than any."""
    return _provider_id(form, "CallSid")


def _provider_id(form: MultiDict[str, str], name: str) -> str:
    """The form's ``name``, an id of Twilio's; "" when it is longer than any id the store
    keeps (it names nothing the gateway could have recorded)."""
    try:
        return provider_id(form.get(name, ""), name)
    except InputRefused:
        return ""


def _call_event(
    args: MultiDict[str, str], form: MultiDict[str, str], event: Event
) -> CallEvent | None:
    """The step a Gather, Record or no-input webhook answers; None without a step number."""
    try:  # a step or survey no store could hold is no step of any call
        step = whole_number(args.get("step", ""), "step")
        check_fields(args.items(multi=True), MAX_CONTEXT_VALUE)
    except InputRefused:
        return None
    return CallEvent(
        survey_id=args.get("survey", ""),
        step=step,
        call_sid=_call_sid(form),
        event=event,
    )


def _quick_step(app: Flask, call: CallEvent) -> str | None:
    settings: Settings = app.extensions["settings"]
    return quick_step(db_of(app).engine, call, max_reprompts=settings.max_reprompts)


def _continue(event: Event) -> Response:
    call = _call_event(request.args, request.form, event)
    if call is None:
        log.warning("voice step without a step number: %s", request.full_path)
        return _twiml(calls.apology())
    app = _app()
    twiml = None if quick_lane.declined(request.environ) else _quick_step(app, call)
    if twiml is None:
        with db_of(app).session() as session:
            twiml = calls.continue_call(session, call, _settings())
    return _twiml(twiml)


def _gather_event(form: MultiDict[str, str]) -> Event:
    return Event("digits", clean_reply(form.get("Digits", ""), MAX_QUERY_VALUE))


def _no_input_event(_form: MultiDict[str, str]) -> Event:
    return Event("no_input")


def _recording_event(form: MultiDict[str, str]) -> Event:
    return call_recordings.recording_event(
        form.get("RecordingUrl"), form.get("RecordingDuration"), form.get("Digits")
    )


def _quick_lane_step(event_of: Callable[[MultiDict[str, str]], Event]) -> quick_lane.Handler:
    """The quick lane's handler of a step webhook whose input ``event_of`` reads."""

    def handle(
        app: Flask, args: MultiDict[str, str], form: MultiDict[str, str]
    ) -> quick_lane.Answer | None:
        call = _call_event(args, form, event_of(form))
        twiml = None if call is None else _quick_step(app, call)
        return None if twiml is None else quick_lane.Answer(200, twiml, TWIML_MIMETYPE)

    return handle


def _quick_status(
    app: Flask, _args: MultiDict[str, str], form: MultiDict[str, str]
) -> quick_lane.Answer | None:
    """:func:`status`'s common case (the call's survey is closed), for the quick lane."""
    if status_changes_nothing(db_of(app).engine, _call_sid(form)):
        return quick_lane.Answer(204)
    return None


#: The voice webhooks the quick lane serves (:func:`gateway.twilio.quick_lane.install`).
QUICK_ROUTES: dict[str, quick_lane.Handler] = {
    f"{PREFIX}/gather": _quick_lane_step(_gather_event),
    f"{PREFIX}/no-input": _quick_lane_step(_no_input_event),
    f"{PREFIX}/recording": _quick_lane_step(_recording_event),
    f"{PREFIX}/status": _quick_status,
}


@bp.post("/gather")
@require_twilio_signature
def gather() -> Response:
    return _continue(_gather_event(request.form))


@bp.post("/no-input")
@require_twilio_signature
def no_input() -> Response:
    return _continue(_no_input_event(request.form))


@bp.post("/recording")
@require_twilio_signature
def recording() -> Response:
    return _continue(_recording_event(request.form))


@bp.post("/transcription")
@require_twilio_signature
def transcription() -> Response:
    form = request.form
    try:  # a survey id no store could hold is no survey's
        check_fields(request.args.items(multi=True), MAX_CONTEXT_VALUE)
    except InputRefused as exc:
        log.warning("transcription refused: the query is refused: %s", exc.message)
        return Response(status=204)
    with db_of(_app()).session() as session:
        kept = call_recordings.record_transcription(
            session,
            request.args.get("survey", ""),
            call_sid=_call_sid(form),
            sid=_provider_id(form, "TranscriptionSid"),
            text=clean_reply(form.get("TranscriptionText", "")),
            status=form.get("TranscriptionStatus", ""),
        )
    if not kept:
        log.warning("transcription for unknown call %s ignored", form.get("CallSid"))
    return Response(status=204)


@bp.post("/status")
@require_twilio_signature
def status() -> Response:
    form = request.form
    app = _app()
    if not quick_lane.declined(request.environ) and status_changes_nothing(
        db_of(app).engine, _call_sid(form)
    ):
        # The common end of a call: its survey is closed, and no call was placed (so no
        # retry to plan and no call slot to give back).
        return Response(status=204)
    with db_of(app).session() as session:
        retry = outbound_calls.call_status(
            session,
            _call_sid(form),
            form.get("CallStatus", ""),
            _settings(),
            outbound_calls.retry_policy_of(app),
        )
    call_slots.release_after_status(app, _call_sid(form), form.get("CallStatus", ""))
    if retry is not None:
        queue.enqueue_start(app, retry.survey_id, retry.send_at)
    return Response(status=204)
