"""What every SMS sender provides, and how provider errors map to the gateway's own.

Provider error codes are sorted into *retryable* (a later attempt may succeed) and
*permanent* (never try this message again) by plain lookup tables, so the decision is
visible in one place and testable without a provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: Twilio error codes after which the same message must not be sent again.
PERMANENT_ERRORS: dict[str, str] = {
    "21211": "invalid 'To' phone number",
    "21408": "sending to this region is not enabled",
    "21610": "the recipient replied STOP and is unsubscribed",
    "21612": "the 'To' number cannot be reached from this sender",
    "21614": "the 'To' number is not a mobile number",
    "30004": "message blocked by the recipient or carrier",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier as spam",
}

#: Twilio error codes (and transport failures) after which a later attempt may succeed.
RETRYABLE_ERRORS: dict[str, str] = {
    "20429": "too many requests to the Twilio API",
    "21611": "the sender's message queue is full",
    "30001": "queue overflow",
    "30003": "unreachable destination handset",
    "30008": "unknown error from the carrier",
    "63018": "rate limit exceeded for this sender",
    "timeout": "the provider did not answer in time",
    "network": "the provider could not be reached",
}

#: Codes meaning the recipient has opted out: the gateway records an opt-out for the number.
OPT_OUT_ERRORS: frozenset[str] = frozenset({"21610"})


def is_retryable(code: str, http_status: int | None = None) -> bool:
    """Whether a failure with this provider ``code`` (or HTTP status) may be retried.

    Codes in neither table fall back on the HTTP status: a 5xx is the provider's own
    trouble and retryable; anything else is taken as permanent so a bad request is never
    repeated forever.
    """
    if code in PERMANENT_ERRORS:
        return False
    if code in RETRYABLE_ERRORS:
        return True
    return http_status is not None and http_status >= 500


class DeliveryError(Exception):
    """A message could not be handed to the provider."""

    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable

    @property
    def opted_out(self) -> bool:
        """The recipient has unsubscribed from this sender (e.g. replied STOP)."""
        return self.code in OPT_OUT_ERRORS


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message: its id and first status."""

    sid: str
    status: str


class SmsSender(Protocol):
    """Sends one text message; raises :class:`DeliveryError` when it cannot."""

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult: ...
