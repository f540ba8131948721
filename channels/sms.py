"""SMS senders: Twilio's REST API through its helper library, and a simulated sender."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from channels.base import SendResult
from channels.opt_out_phrases import opt_out_request
from channels.twilio_rest import delivery_errors, twilio_client

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


class TwilioSms:
    """Sends SMS through Twilio's Messages API, from a phone number or a Messaging Service."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError(
                "set TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send SMS with Twilio"
            )
        self._client = twilio_client(
            account_sid, auth_token, api_base_url=api_base_url, timeout=timeout
        )
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult:
        sender: dict[str, str] = (
            {"messaging_service_sid": self._messaging_service_sid}
            if self._messaging_service_sid
            else {"from_": self._from_number or ""}
        )
        optional: dict[str, str] = {"status_callback": status_callback} if status_callback else {}
        with delivery_errors():
            message = self._client.messages.create(to=to, body=body, **sender, **optional)
        return SendResult(sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, to: str, body: str, *, since: datetime) -> SendResult | None:
        """The message with this body Twilio sent to ``to`` since ``since``, if any.

        Twilio's Messages list, filtered by recipient and ``DateSent>``; the body is
        compared here (the API cannot filter on it).
        """
        with delivery_errors():
            found = self._client.messages.list(to=to, date_sent_after=since, limit=50)
        for message in found:
            if message.body == body:
                return SendResult(sid=str(message.sid), status=str(message.status or "sent"))
        return None


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
