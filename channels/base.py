"""What every sender provides, and the provider-neutral rules for its failures.

A provider adapter sorts its own error codes into *retryable* (a later attempt may
succeed) and *permanent* (never try this message again) by plain lookup tables; the rules
here decide what is left: transport failures may be retried, and so may the provider's
own (5xx) trouble, while any other failure is taken as permanent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

#: Failures of the connection to any provider, after which a later attempt may succeed.
TRANSPORT_ERRORS: dict[str, str] = {
    "timeout": "the provider did not answer in time",
    "network": "the provider could not be reached",
}


def is_retryable(
    code: str,
    http_status: int | None = None,
    *,
    permanent: Collection[str] = (),
    retryable: Collection[str] = (),
) -> bool:
    """Whether a failure with this provider ``code`` (or HTTP status) may be retried.

    ``permanent`` and ``retryable`` are the provider's own code tables; a transport
    failure is retryable. Codes in none of them fall back on the HTTP status: a 5xx is the
    provider's own trouble and retryable; anything else is taken as permanent so a bad
    request is never repeated forever.
    """
    if code in permanent:
        return False
    if code in retryable or code in TRANSPORT_ERRORS:
        return True
    return http_status is not None and http_status >= 500


class DeliveryError(Exception):
    """A message could not be handed to the provider.

    ``opted_out`` says the recipient has unsubscribed from this sender (e.g. replied STOP),
    as the provider's error code told.
    """

    def __init__(
        self, code: str, message: str, retryable: bool, *, opted_out: bool = False
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.opted_out = opted_out


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message: its id and first status."""

    sid: str
    status: str


class SmsSender(Protocol):
    """Sends one text message; raises :class:`DeliveryError` when it cannot."""

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult: ...
