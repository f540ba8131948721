"""Phone keypad surveys, whatever the provider: what one step of a call says and waits for,
where the provider posts back, and placing calls (or simulating them).

A call is a series of steps. Each one says some lines in a language and then either waits
for the caller (keys pressed, or a spoken answer recorded) or ends the call. The provider
renders a step in its own markup (:func:`channels.twilio.twiml.render_step`) and places calls
(:class:`channels.twilio.voice.TwilioCalls`).

Nothing here knows Flask, the database or the survey engine: the gateway supplies the
words, what the step waits for and the callback URLs, and stores what comes back.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StepUrls:
    """Where the provider posts what happens after one step."""

    gather: str  # the keys pressed (Digits)
    recording: str  # a finished recording (RecordingUrl, RecordingDuration)
    no_input: str  # nothing pressed or said before the timeout
    transcription: str | None = None  # the provider's transcription of a recording, when asked


@dataclass(frozen=True)
class Line:
    """A sentence spoken in a language other than the step's (a language menu's entries)."""

    text: str
    language: str


@dataclass(frozen=True)
class CallInput:
    """What a step waits for after its lines: keys pressed, or a spoken answer recorded."""

    spoken: bool = False  # record a spoken answer instead of gathering keys
    single_key: bool = False  # one keypress answers it; else keys end with '#'
    skip_key: str | None = None  # the key that skips the question, when it may be skipped
    max_seconds: int | None = None  # the longest recording; None for the default


@dataclass(frozen=True)
class VoiceStep:
    """One step of a call: what to say, in which language, and what to wait for.

    ``waits_for`` None means the call ends after ``lines``.
    """

    lines: tuple[str | Line, ...]
    language: str
    waits_for: CallInput | None = None
    transcribe: bool = False


# --- Placing calls ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedCall:
    """The provider accepted the call: its sid and first status."""

    sid: str
    status: str


class CallPlacer(Protocol):
    """Places one outbound call; raises :class:`~channels.base.DeliveryError` when it cannot."""

    def place(self, to: str, *, url: str, status_callback: str) -> PlacedCall: ...


@dataclass(frozen=True)
class SimulatedCall:
    to: str
    url: str
    status_callback: str
    sid: str


class SimulatedCalls:
    """Records calls instead of placing them (no provider credentials configured)."""

    STATUS = "simulated"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.placed: list[SimulatedCall] = []

    def place(self, to: str, *, url: str, status_callback: str) -> PlacedCall:
        sid = "CA" + secrets.token_hex(16)
        with self._lock:
            self.placed.append(SimulatedCall(to, url, status_callback, sid))
        return PlacedCall(sid=sid, status=self.STATUS)
