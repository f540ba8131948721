"""The TwiML of one step of a phone survey: what Twilio says, and what it waits for.

Each step of a call is a TwiML document that says the step's lines and then:

- a keypad answer: the lines nested inside ``<Gather input="dtmf">``, so a caller who
  knows the answer may press it before the prompt ends, then a ``<Redirect>`` to the
  no-input URL, which Twilio follows when the caller pressed nothing (or ``#`` alone);
- a spoken answer: the lines, a ``<Record>`` that ends on ``#`` or silence, then the same
  ``<Redirect>``;
- nothing more (the outro, or an apology): the lines, then ``<Hangup/>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, Record, VoiceResponse

from channels.voice import CallInput, Line, StepUrls, VoiceStep

#: Seconds Twilio waits for the first key (and between keys) before giving up on a Gather.
GATHER_TIMEOUT_SECONDS = 6
#: Seconds of silence that end a recording.
RECORD_SILENCE_SECONDS = 5
#: Longest recording, in seconds, when the question sets no ``max_seconds``.
DEFAULT_RECORDING_SECONDS = 60


@dataclass(frozen=True)
class SayVoice:
    """How ``<Say>`` speaks one language: Twilio's language tag and an Amazon Polly voice."""

    language: str
    voice: str


#: Polly standard voices, available on every Twilio account. A language without an entry
#: is spoken with the English voice (the flow loader limits languages to catalog ones).
VOICES: dict[str, SayVoice] = {
    "en": SayVoice("en-US", "Polly.Joanna"),
    "es": SayVoice("es-US", "Polly.Lupe"),
}


def voice_for(language: str | None) -> SayVoice:
    """The voice that speaks ``language``; English when it has none."""
    return VOICES.get(language or "en", VOICES["en"])


def _say_all(target: VoiceResponse | Gather, lines: Sequence[str | Line], language: str) -> None:
    for line in lines:
        text, voice = (
            (line.text, voice_for(line.language))
            if isinstance(line, Line)
            else (line, voice_for(language))
        )
        if text.strip():
            target.say(text, voice=voice.voice, language=voice.language)


def _gather(waits_for: CallInput, action: str) -> Gather:
    """A DTMF ``<Gather>`` for ``waits_for``.

    One keypress answers a single-key question (``numDigits=1``; ``#`` alone ends it empty
    and Twilio falls through to the no-input redirect). Numbers, long scales and multiple
    choice take several keys ended by ``#``.
    """
    single: dict[str, int] = {"num_digits": 1} if waits_for.single_key else {}
    return Gather(
        input="dtmf",
        action=action,
        method="POST",
        timeout=GATHER_TIMEOUT_SECONDS,
        finish_on_key="#",
        **single,
    )


def _record(waits_for: CallInput, step: VoiceStep, urls: StepUrls) -> Record:
    # '*' ends the recording too: with the Digits the action receives, an optional
    # question's skip key still works while recording.
    finish = "#*" if waits_for.skip_key == "*" else "#"
    transcription: dict[str, str] = (
        {"transcribe": "true", "transcribe_callback": urls.transcription}
        if step.transcribe and urls.transcription
        else {}
    )
    return Record(
        action=urls.recording,
        method="POST",
        max_length=waits_for.max_seconds or DEFAULT_RECORDING_SECONDS,
        timeout=RECORD_SILENCE_SECONDS,
        finish_on_key=finish,
        play_beep=True,
        trim="trim-silence",
        **transcription,
    )


def render_step(step: VoiceStep, urls: StepUrls | None = None) -> str:
    """The TwiML document for ``step``. ``urls`` is needed unless the call ends here."""
    response = VoiceResponse()
    waits_for = step.waits_for
    if waits_for is None:
        _say_all(response, step.lines, step.language)
        response.hangup()
        return str(response)
    if urls is None:
        raise ValueError("a step that waits for an answer needs its callback URLs")
    if waits_for.spoken:
        _say_all(response, step.lines, step.language)
        response.append(_record(waits_for, step, urls))
    else:
        gather = _gather(waits_for, urls.gather)
        _say_all(gather, step.lines, step.language)
        response.append(gather)
    response.redirect(urls.no_input, method="POST")
    return str(response)


def render_goodbye(lines: Sequence[str], language: str | None) -> str:
    """Say ``lines`` and hang up."""
    return render_step(VoiceStep(tuple(lines), language or "en"))
