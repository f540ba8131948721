"""Twilio's error codes, sorted: which mean never send this again, which are worth a retry,
and which mean the recipient has opted out.

Plain lookup tables, so the decision is visible in one place and testable without the
provider; :func:`is_retryable` applies them with the provider-neutral rules of
:func:`channels.base.is_retryable`.
"""

from __future__ import annotations

from channels import base
from channels.base import TRANSPORT_ERRORS

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
    **TRANSPORT_ERRORS,
}

#: Codes meaning the recipient has opted out: the gateway records an opt-out for the number.
OPT_OUT_ERRORS: frozenset[str] = frozenset({"21610"})

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


def is_retryable(code: str, http_status: int | None = None) -> bool:
    """Whether a Twilio failure with this ``code`` (or HTTP status) may be retried."""
    return base.is_retryable(
        code, http_status, permanent=PERMANENT_ERRORS, retryable=RETRYABLE_ERRORS
    )
