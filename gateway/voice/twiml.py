"""The TwiML of each step of a phone survey: what is said, and where Twilio posts back.

A step's document depends on the words spoken, the language, what the call waits for (a
key, several keys and ``#``, a recording, nothing) and the callback URLs, which carry the
survey id and the step number. Everything but the URLs is the same for every caller at the
same point of the same flow, so a document is rendered once per (words, language, what it
waits for) with stand-in ids, kept in a bounded cache, and each call's ids are put in by
plain string replacement: the twilio library's XML building then costs nothing per step.

Nothing here reads or writes the database: :mod:`gateway.voice.calls` and
:mod:`gateway.voice.quick_step` decide the step and record it.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from channels.twilio.twiml import render_goodbye, render_step
from channels.voice import CallInput, Line, StepUrls, VoiceStep
from gateway.engine.engine import expect_for, language_keys
from gateway.engine.types import Expect, SessionState
from gateway.flows.catalog import catalog
from gateway.flows.model import Flow

CHANNEL = "voice"
#: Where Twilio posts each step's answer; the blueprint serves these paths.
GATHER_PATH = "/twilio/voice/gather"
RECORDING_PATH = "/twilio/voice/recording"
NO_INPUT_PATH = "/twilio/voice/no-input"
TRANSCRIPTION_PATH = "/twilio/voice/transcription"

#: Said before hanging up on a call the gateway cannot serve. The catalog has no key for
#: it yet, so the words live here, in every language the catalog speaks.
APOLOGY: dict[str, str] = {
    "en": "Sorry, we can't take your feedback on this call right now. Goodbye.",
    "es": "Lo sentimos, en este momento no podemos recibir su opinión en esta llamada. Adiós.",
}

#: Stand-ins for a call's survey id and step number in a cached document: random per
#: process, URL-safe and XML-safe, so they cannot occur in a flow's words.
_SURVEY_MARK = "svmark" + secrets.token_hex(12)
_STEP_MARK = "stepmark" + secrets.token_hex(12)
#: How many distinct step documents are kept (prompts that read context values, such as an
#: agent's name, make documents per value).
DOCUMENT_CACHE_SIZE = 2048


@lru_cache(maxsize=8)
def apology(language: str | None = None) -> str:
    """TwiML that apologises in ``language`` (English when unknown) and hangs up."""
    lang = language if language in APOLOGY else "en"
    return render_goodbye([APOLOGY[lang]], lang)


def step_urls(survey_id: str, step_number: int | str, question_id: str | None) -> StepUrls:
    """The callback URLs of step ``step_number`` of the survey's call."""
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


def waiting_for(flow: Flow, state: SessionState) -> tuple[Expect | None, str | None]:
    """What the call waits for in ``state``, and the question id when it is a question."""
    if state.status != "active":
        return None, None
    if state.phase == "language":
        return Expect(kind="language", single_key=True, keys=tuple(language_keys(flow))), None
    question = flow.questions[state.index]
    return expect_for(question, CHANNEL), question.id


def call_input(expect: Expect) -> CallInput:
    """What the call waits for, as the voice channel takes it: a ``text`` question is
    answered by speaking, anything else by keys; only an optional question has a skip key."""
    return CallInput(
        spoken=expect.kind == "text",
        single_key=expect.single_key,
        skip_key=expect.skip_key if expect.optional else None,
        max_seconds=expect.max_length,
    )


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


def render(
    survey_id: str,
    state_data: dict[str, Any],
    flow: Flow,
    step_number: int,
    lines: tuple[str, ...],
) -> str:
    """The TwiML of step ``step_number``: ``lines``, then whatever the state waits for.

    The same function renders a step the first time and when it is replayed, so a replay
    is the same document.
    """
    state = SessionState.from_dict(state_data)
    expect, question_id = waiting_for(flow, state)
    language = state.language or flow.default_language
    transcribe = bool(question_id and flow.question(question_id).transcribe)
    said = _menu_lines(flow, lines) if state.phase == "language" else lines
    waits_for = call_input(expect) if expect is not None else None
    document = _document(VoiceStep(said, language, waits_for, transcribe=transcribe), question_id)
    if expect is None:
        return document
    return document.replace(_SURVEY_MARK, survey_id).replace(_STEP_MARK, str(step_number))


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _document(voice_step: VoiceStep, question_id: str | None) -> str:
    """The step's TwiML with the stand-in survey id and step number in its URLs."""
    if voice_step.waits_for is None:
        return render_step(voice_step)
    return render_step(voice_step, step_urls(_SURVEY_MARK, _STEP_MARK, question_id))
