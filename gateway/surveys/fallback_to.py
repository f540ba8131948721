"""A trigger's fallback addresses (``fallback_to``, docs/reach.md), checked against its
flow's fallback list before the survey is recorded; the switches themselves are
:mod:`gateway.reach.fallback`'s."""

from __future__ import annotations

from typing import Any

import email_validator

from gateway.flows.model import Flow

#: What a trigger's ``fallback_to`` may name: the address of each fallback channel.
FALLBACK_TO_FIELDS = ("email",)


class InvalidFallbackTo(ValueError):
    """A trigger's ``fallback_to`` that cannot be used; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def calls_when_undeliverable(flow: Flow) -> bool:
    """Whether the flow falls back to a call when its first text cannot be delivered."""
    return "voice" in flow.channels and any(
        f.reason == "undeliverable" and f.channel == "voice" for f in flow.fallback
    )


def read_fallback_to(raw: Any, flow: Flow, channel: str) -> dict[str, str]:
    """A trigger's ``fallback_to``, checked against the flow: ``{"email": address}``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidFallbackTo("fallback_to", 'fallback_to must be an object like {"email": ...}')
    for name in sorted(raw):
        if name not in FALLBACK_TO_FIELDS:
            raise InvalidFallbackTo(
                f"fallback_to.{name}",
                f"fallback_to.{name} is not a fallback address; "
                f"fields are {', '.join(FALLBACK_TO_FIELDS)}",
            )
    result: dict[str, str] = {}
    address = raw.get("email")
    if address is not None:
        if channel != "sms":
            raise InvalidFallbackTo(
                "fallback_to.email", "fallback_to.email applies to surveys started by SMS"
            )
        if not any(f.channel == "email" and f.reason == "no_answer" for f in flow.fallback):
            raise InvalidFallbackTo(
                "fallback_to.email",
                f"flow {flow.id!r} has no email fallback; add one to its fallback list "
                "or leave fallback_to out",
            )
        if not isinstance(address, str) or not address.strip():
            raise InvalidFallbackTo("fallback_to.email", "fallback_to.email must be an address")
        try:
            checked = email_validator.validate_email(address.strip(), check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            raise InvalidFallbackTo(
                "fallback_to.email", f"fallback_to.email is not a valid email address: {exc}"
            ) from exc
        result["email"] = str(checked.normalized)
    return result
