"""Phone keypad surveys over Twilio Voice: TwiML for each step of a call, and call placement.

A call is a series of TwiML documents. Each one says what the engine produced for a step
and then waits for the caller:

- a keypad answer: the prompts nested inside ``<Gather input="dtmf">``, so a caller who
  knows the answer may press it before the prompt ends, then a ``<Redirect>`` to the
  no-input URL, which Twilio follows when the caller pressed nothing (or ``#`` alone);
- a spoken answer (``text`` questions): the prompts, a ``<Record>`` that ends on ``#`` or
  silence, then the same ``<Redirect>``;
- nothing more (the outro, or an apology): the prompts, then ``<Hangup/>``.

Nothing here knows Flask or the database: :mod:`gateway.voice.calls` supplies the words and the
callback URLs, and stores what comes back.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from twilio.twiml.voice_response import Gather, Record, VoiceResponse

from channels.twilio_rest import delivery_errors, twilio_client
from gateway.engine.types import Expect

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
    return VOICES.get(language or "en", VOICES["en"])


@dataclass(frozen=True)
class StepUrls:
    """Where Twilio posts what happens after one step's TwiML."""

    gather: str  # the keys pressed (Digits)
    recording: str  # a finished recording (RecordingUrl, RecordingDuration)
    no_input: str  # nothing pressed or said before the timeout
    transcription: str | None = None  # Twilio's transcription of a recording, when asked


@dataclass(frozen=True)
class Line:
    """A sentence spoken in a language other than the step's (a language menu's entries)."""

    text: str
    language: str


@dataclass(frozen=True)
class VoiceStep:
    """One TwiML document: what to say, in which language, and what to wait for.

    ``expect`` None means the call ends after ``lines``.
    """

    lines: tuple[str | Line, ...]
    language: str
    expect: Expect | None = None
    transcribe: bool = False


def _say_all(target: VoiceResponse | Gather, lines: Sequence[str | Line], language: str) -> None:
    for line in lines:
        text, voice = (
            (line.text, voice_for(line.language))
            if isinstance(line, Line)
            else (line, voice_for(language))
        )
        if text.strip():
            target.say(text, voice=voice.voice, language=voice.language)


def _gather(expect: Expect, action: str) -> Gather:
    """A DTMF ``<Gather>`` for ``expect``.

    One keypress answers a single-key question (``numDigits=1``; ``#`` alone ends it empty
    and Twilio falls through to the no-input redirect). Numbers, long scales and multiple
    choice take several keys ended by ``#``.
    """
    single: dict[str, int] = {"num_digits": 1} if expect.single_key else {}
    return Gather(
        input="dtmf",
        action=action,
        method="POST",
        timeout=GATHER_TIMEOUT_SECONDS,
        finish_on_key="#",
        **single,
    )


def _record(expect: Expect, step: VoiceStep, urls: StepUrls) -> Record:
    # '*' ends the recording too: with the Digits the action receives, an optional
    # question's skip key still works while recording.
    finish = "#*" if expect.optional and expect.skip_key == "*" else "#"
    transcription: dict[str, str] = (
        {"transcribe": "true", "transcribe_callback": urls.transcription}
        if step.transcribe and urls.transcription
        else {}
    )
    return Record(
        action=urls.recording,
        method="POST",
        max_length=expect.max_length or DEFAULT_RECORDING_SECONDS,
        timeout=RECORD_SILENCE_SECONDS,
        finish_on_key=finish,
        play_beep=True,
        trim="trim-silence",
        **transcription,
    )


def render_step(step: VoiceStep, urls: StepUrls | None = None) -> str:
    """The TwiML document for ``step``. ``urls`` is needed unless the call ends here."""
    response = VoiceResponse()
    expect = step.expect
    if expect is None:
        _say_all(response, step.lines, step.language)
        response.hangup()
        return str(response)
    if urls is None:
        raise ValueError("a step that waits for an answer needs its callback URLs")
    if expect.kind == "text":
        _say_all(response, step.lines, step.language)
        response.append(_record(expect, step, urls))
    else:
        gather = _gather(expect, urls.gather)
        _say_all(gather, step.lines, step.language)
        response.append(gather)
    response.redirect(urls.no_input, method="POST")
    return str(response)


def render_goodbye(lines: Sequence[str], language: str | None) -> str:
    """Say ``lines`` and hang up."""
    return render_step(VoiceStep(tuple(lines), language or "en"))


# --- Placing calls ---------------------------------------------------------------------

#: Twilio error codes, specific to calls, after which the same call must not be placed again.
PERMANENT_CALL_ERRORS: dict[str, str] = {
    "13223": "the 'To' number is not a valid phone number",
    "13224": "the 'To' number is not a callable phone number",
    "13225": "calls to this number are blocked",
    "21210": "the 'From' number is not verified for this account",
    "21215": "calling this country or region is not enabled",
    "21216": "the 'To' number is on a blocklist",
    "21217": "the 'To' number is not a valid phone number",
}


@dataclass(frozen=True)
class PlacedCall:
    """The provider accepted the call: its sid and first status."""

    sid: str
    status: str


class CallPlacer(Protocol):
    """Places one outbound call; raises :class:`~channels.base.DeliveryError` when it cannot."""

    def place(self, to: str, *, url: str, status_callback: str) -> PlacedCall: ...


class TwilioCalls:
    """Places calls through Twilio's Calls API, with answering-machine detection on."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not from_number:
            raise ValueError("set TWILIO_PHONE_NUMBER to place survey calls with Twilio")
        # No StatusCallbackEvent: Twilio's default, the final "completed" callback, carries
        # the outcome (completed, busy, no-answer, failed, canceled), which is all the retry
        # policy reads.
        self._client = twilio_client(
            account_sid, auth_token, api_base_url=api_base_url, timeout=timeout
        )
        self._from_number = from_number

    def place(self, to: str, *, url: str, status_callback: str) -> PlacedCall:
        with delivery_errors(permanent=PERMANENT_CALL_ERRORS):
            call = self._client.calls.create(
                to=to,
                from_=self._from_number,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                machine_detection="Enable",
            )
        return PlacedCall(sid=str(call.sid), status=str(call.status or "queued"))


@dataclass(frozen=True)
class SimulatedCall:
    to: str
    url: str
    status_callback: str
    sid: str


class SimulatedCalls:
    """Records calls instead of placing them (no Twilio credentials configured)."""

    STATUS = "simulated"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.placed: list[SimulatedCall] = []

    def place(self, to: str, *, url: str, status_callback: str) -> PlacedCall:
        sid = "CA" + secrets.token_hex(16)
        with self._lock:
            self.placed.append(SimulatedCall(to, url, status_callback, sid))
        return PlacedCall(sid=sid, status=self.STATUS)
