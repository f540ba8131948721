"""Text messages whatever the provider: splitting a long text, the opt-out, opt-in and help
keywords, and a simulated sender.

The sender for Twilio is :class:`channels.twilio.sms.TwilioSms`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from channels.base import SendResult
from channels.opt_out_phrases import opt_out_request

#: Twilio refuses a message body longer than this many characters.
MAX_MESSAGE_CHARS = 1600


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` characters.

    Cuts fall between paragraphs where possible, then between lines, then between words;
    only a single word longer than ``limit`` is cut mid-word.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


@runtime_checkable
class SentLookup(Protocol):
    """A sender that can say whether a text already went out (after a worker died)."""

    def find_sent(self, to: str, body: str, *, since: datetime) -> SendResult | None: ...


@dataclass(frozen=True)
class SimulatedMessage:
    to: str
    body: str
    sid: str
    status_callback: str | None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class SimulatedSms:
    """Records messages instead of sending them (no Twilio credentials configured)."""

    STATUS = "simulated"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[SimulatedMessage] = []

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult:
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.sent.append(SimulatedMessage(to, body, sid, status_callback))
        return SendResult(sid=sid, status=self.STATUS)

    def find_sent(self, to: str, body: str, *, since: datetime) -> SendResult | None:
        with self._lock:
            for message in self.sent:
                if (message.to, message.body) == (to, body) and message.at >= since:
                    return SendResult(sid=message.sid, status=self.STATUS)
        return None


# Keywords are matched against the whole message, ignoring case, surrounding whitespace
# and punctuation ("Stop.", " stop!").
STOP_KEYWORDS: dict[str, str] = {
    **dict.fromkeys(
        ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"],
        "en",
    ),
    **dict.fromkeys(["PARAR", "ALTO", "CANCELAR", "DETENER", "BAJA"], "es"),
}
START_KEYWORDS: dict[str, str] = {"START": "en", "UNSTOP": "en"}
#: Re-subscribe only a number that has opted out; otherwise they are ordinary answers.
START_KEYWORDS_WHEN_OPTED_OUT: dict[str, str] = {"YES": "en", "SI": "es", "SÍ": "es"}
HELP_KEYWORDS: dict[str, str] = {"HELP": "en", "INFO": "en", "AYUDA": "es"}

KeywordKind = Literal["stop", "start", "start_if_opted_out", "help"]

_EDGE_PUNCTUATION = " \t\r\n.,;:!?¡¿'\"()[]-_*"


def normalize_keyword(body: str) -> str:
    """The message as a keyword candidate: upper case, trimmed, inner spaces collapsed."""
    return " ".join(body.strip(_EDGE_PUNCTUATION).upper().replace("-", " ").split())


@dataclass(frozen=True)
class Keyword:
    kind: KeywordKind
    word: str
    language: str  # the language the keyword is written in


def match_keyword(body: str) -> Keyword | None:
    """The opt-out, opt-in or help keyword the whole message is, if any; a plain-words
    opt-out request (:mod:`channels.opt_out_phrases`) is a ``stop``."""
    word = normalize_keyword(body)
    for kind, table in (
        ("stop", STOP_KEYWORDS),
        ("start", START_KEYWORDS),
        ("start_if_opted_out", START_KEYWORDS_WHEN_OPTED_OUT),
        ("help", HELP_KEYWORDS),
    ):
        if word in table:
            return Keyword(kind, word, table[word])  # type: ignore[arg-type]
    language = opt_out_request(body)
    if language is not None:  # "stop texting me", "no me envíen más"...
        return Keyword("stop", word[:64], language)
    return None
