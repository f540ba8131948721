"""Email senders: SMTP (``SMTP_URL``) and a simulated sender that records instead of sending.

SMTP failures become the same :class:`~channels.base.DeliveryError` the SMS channel raises:
a 4xx reply or a lost connection is *retryable* (the server asked us to come back later, or
never answered), a 5xx reply is *permanent* (the address, the sender or the message was
refused and will be refused again).
"""

from __future__ import annotations

import secrets
import smtplib
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from channels.base import DeliveryError, SendResult

#: Ports used when ``SMTP_URL`` names none: mail submission, and submission over TLS.
DEFAULT_PORTS: dict[str, int] = {"smtp": 587, "smtps": 465}

#: Reply codes that mean "not now": the same message may be accepted later (RFC 5321 4yz).
TRANSIENT_REPLY_CLASS = 4


@dataclass(frozen=True)
class OutgoingEmail:
    """One email as the gateway composes it: a text part, an HTML part and extra headers."""

    to: str
    subject: str
    text: str
    html: str
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Who the email is from, when not the sender's own address (an agency's): the
    #: address (also the envelope sender), the name shown with it, and where replies go.
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None

    def __post_init__(self) -> None:
        if "@" not in self.to:
            raise ValueError(f"not an email address: {self.to!r}")
        if "\n" in self.subject or "\r" in self.subject:
            raise ValueError("an email subject is one line")
        for value in (self.from_address, self.from_name, self.reply_to):
            if value is not None and ("\n" in value or "\r" in value):
                raise ValueError("an email's From and Reply-To are one line")

    def envelope_from(self, sender: str) -> str:
        """The address the email goes out from: its own, else ``sender``'s."""
        return self.from_address or sender


def build_message(email: OutgoingEmail, sender: str, message_id: str) -> EmailMessage:
    """The MIME message: multipart/alternative, text first so HTML wins where it is shown."""
    message = EmailMessage()
    address = email.envelope_from(sender)
    message["From"] = formataddr((email.from_name, address)) if email.from_name else address
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def new_message_id(sender: str) -> str:
    """A Message-ID in the sender's domain (``<random@domain>``)."""
    try:
        domain = Address(addr_spec=sender).domain or "localhost"
    except (ValueError, IndexError):
        domain = "localhost"
    return make_msgid(idstring=secrets.token_hex(4), domain=domain)


class EmailSender(Protocol):
    """Sends one email; raises :class:`DeliveryError` when it cannot."""

    def send(self, email: OutgoingEmail) -> SendResult: ...


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the SMTP server, read from ``SMTP_URL``."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """Read ``smtp://user:pass@host:587`` (STARTTLS when offered) or ``smtps://...``."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(
                f"SMTP_URL must start with smtp:// or smtps://, got {parts.scheme or 'no'} scheme"
            )
        if not parts.hostname:
            raise ValueError("SMTP_URL names no host, e.g. smtp://user:pass@mail.example.gov:587")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise ValueError(f"SMTP_URL has a bad port: {exc}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _reply_error(code: int, text: bytes | str, what: str) -> DeliveryError:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    retryable = code // 100 == TRANSIENT_REPLY_CLASS
    return DeliveryError(f"smtp-{code}", f"{what}: {message}".strip(), retryable)


def map_smtp_error(exc: Exception) -> DeliveryError:
    """The gateway's error for an SMTP or connection failure (4xx and network: retryable)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # One recipient per email: its reply decides.
        code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        return _reply_error(code, text, "recipient refused")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_error(exc.smtp_code, exc.smtp_error, type(exc).__name__)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError("smtp-unsupported", str(exc), retryable=False)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        # A certificate or protocol mismatch stays until someone changes the configuration.
        return DeliveryError("smtp-tls", str(exc), retryable=False)
    if isinstance(exc, socket.timeout | TimeoutError):
        return DeliveryError("timeout", str(exc) or "the SMTP server did not answer", True)
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return DeliveryError("network", str(exc) or "the SMTP server could not be reached", True)
    return DeliveryError("smtp-error", str(exc), retryable=False)


class SmtpEmail:
    """Sends through an SMTP server: implicit TLS for ``smtps://``, STARTTLS when offered."""

    def __init__(
        self,
        config: SmtpConfig,
        sender: str,
        *,
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.sender = sender
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()

    @classmethod
    def from_url(cls, url: str, sender: str, *, timeout: float = 15.0) -> SmtpEmail:
        return cls(SmtpConfig.from_url(url), sender, timeout=timeout)

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.implicit_tls:
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=self.timeout, context=self.tls_context
            )
        return smtplib.SMTP(config.host, config.port, timeout=self.timeout)

    def send(self, email: OutgoingEmail) -> SendResult:
        message_id = new_message_id(email.envelope_from(self.sender))
        message = build_message(email, self.sender, message_id)
        try:
            with self._connect() as server:
                server.ehlo()
                if not self.config.implicit_tls and server.has_extn("starttls"):
                    server.starttls(context=self.tls_context)
                    server.ehlo()
                if self.config.username:
                    server.login(self.config.username, self.config.password or "")
                server.send_message(
                    message, from_addr=email.envelope_from(self.sender), to_addrs=[email.to]
                )
        except (smtplib.SMTPException, OSError) as exc:
            raise map_smtp_error(exc) from exc
        return SendResult(sid=message_id.strip("<>")[:64], status="sent")


@dataclass(frozen=True)
class SimulatedEmailRecord:
    email: OutgoingEmail
    message: EmailMessage
    sid: str


class SimulatedEmail:
    """Records emails instead of sending them (no ``SMTP_URL`` configured)."""

    STATUS = "simulated"

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self._lock = threading.Lock()
        self.sent: list[SimulatedEmailRecord] = []

    def send(self, email: OutgoingEmail) -> SendResult:
        message_id = new_message_id(email.envelope_from(self.sender))
        message = build_message(email, self.sender, message_id)
        sid = message_id.strip("<>")[:64]
        with self._lock:
            self.sent.append(SimulatedEmailRecord(email, message, sid))
        return SendResult(sid=sid, status=self.STATUS)


def email_sender(smtp_url: str | None, sender: str) -> EmailSender:
    """The sender the configuration asks for: SMTP when ``smtp_url`` is set, else simulated."""
    if smtp_url:
        return SmtpEmail.from_url(smtp_url, sender)
    return SimulatedEmail(sender)
