"""Checking an agency's trigger (``POST /api/v1/surveys``, a batch row) against its flow.

:func:`validate_trigger` either returns a :class:`TriggerRequest` or raises a
:class:`TriggerError` saying which field is wrong and why; :mod:`gateway.surveys.creation`
records the survey a checked request asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import email_validator
import phonenumbers
from phonenumbers import PhoneNumberType

from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.store.models import Agency, utcnow
from gateway.surveys.fallback_to import (
    InvalidFallbackTo,
    calls_when_undeliverable,
    read_fallback_to,
)
from gateway.surveys.input_policy import InputRefused, check_datetime, check_json

#: Channels a trigger can start; web surveys are opened by the respondent.
TRIGGER_CHANNELS = ("sms", "voice", "email")
FIELDS = ("flow", "channel", "to", "language", "context", "send_at", "fallback_to")
SEND_AT_PAST_GRACE = timedelta(minutes=5)
SEND_AT_MAX_AHEAD = timedelta(days=30)
MAX_CONTEXT_VALUE = 500
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
# Numbers an SMS can reach. FIXED_LINE_OR_MOBILE is what phonenumbers says of every US
# and Canadian number, so it must pass; VOIP numbers (Google Voice and the like) take SMS.
SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.VOIP}
# Numbers a survey call must not go to.
NOT_CALLABLE = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.PAGER}


class TriggerError(Exception):
    """A refused trigger: HTTP status, error code, message and (when one is to blame) field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class InvalidContact(TriggerError):
    """A trigger valid but for its contact (``to``): still an interaction to count.

    Raised only after every other field checked out, so ``flow``, ``channel`` and
    ``context`` are the request's valid values.
    """

    def __init__(
        self, error: TriggerError, flow: Flow, channel: str, context: dict[str, str]
    ) -> None:
        super().__init__(error.status, error.code, error.message, error.field)
        self.flow = flow
        self.channel = channel
        self.context = context


class NotMobile(TriggerError):
    """A number named for SMS that cannot receive texts (a flow may call it instead)."""


def _invalid(field: str, message: str) -> TriggerError:
    return TriggerError(422, "invalid_field", message, field)


@dataclass(frozen=True)
class TriggerRequest:
    """A checked trigger: every value valid for the flow, ``to`` normalised."""

    flow: Flow
    channel: str
    to: str
    language: str
    context: dict[str, str]
    send_at: datetime | None
    #: Addresses for the flow's fallback channels (``fallback_to``, docs/reach.md).
    fallback_to: dict[str, str] = field(default_factory=dict)
    #: The channel asked for when the survey starts on a fallback instead (a landline
    #: given for SMS, with the flow's call fallback).
    fallback_from: str | None = None


def validate_trigger(
    payload: Any,
    agency: Agency,
    registry: FlowRegistry,
    today: date,
    *,
    now: datetime | None = None,
) -> TriggerRequest:
    """Check a trigger body for ``agency``; raise :class:`TriggerError` on the first problem."""
    now = now or utcnow()
    if not isinstance(payload, dict):
        raise TriggerError(400, "invalid_body", "the request body must be a JSON object")
    try:  # text no store can keep, nesting, absurd lengths: refused before anything else
        check_json(payload, "body")
    except InputRefused as exc:
        raise _invalid(exc.field, exc.message) from exc
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}; fields are {', '.join(FIELDS)}")

    flow_id = payload.get("flow")
    if not isinstance(flow_id, str) or not flow_id:
        raise _invalid("flow", "flow is required: the id of one of your agency's flows")
    flow = registry.get(flow_id)
    # Another agency's flow is reported exactly like a missing one.
    if flow is None or flow.agency != agency.slug:
        raise TriggerError(
            404, "flow_not_found", f"no flow {flow_id!r} for agency {agency.slug!r}", "flow"
        )
    if flow.pra is not None and flow.pra.expired(today):
        raise TriggerError(
            422,
            "pra_expired",
            f"the PRA clearance of flow {flow.id!r} (OMB {flow.pra.omb_control_number}) expired "
            f"on {flow.pra.expiration_date.isoformat()}; renew it and update the flow file",
            "flow",
        )

    channel = payload.get("channel")
    allowed = [c for c in flow.channels if c in TRIGGER_CHANNELS]
    if channel not in allowed:
        raise _invalid(
            "channel", f"channel must be one of {', '.join(allowed)} for flow {flow.id!r}"
        )

    to = payload.get("to")
    bad_contact: TriggerError | None = None  # reported once the rest has been checked
    fallback_from: str | None = None
    try:
        if not isinstance(to, str) or not to.strip():
            raise _invalid("to", "to is required: an E.164 phone number or an email address")
        try:
            contact = _email(to) if channel == "email" else _phone(to.strip(), channel)
        except NotMobile:
            if not calls_when_undeliverable(flow):
                raise
            # A landline named for SMS: the flow's call fallback starts with the call.
            contact, channel, fallback_from = _phone(to.strip(), "voice"), "voice", "sms"
    except TriggerError as exc:
        bad_contact, contact = exc, ""

    language = payload.get("language", flow.default_language)
    if language not in flow.languages:
        raise _invalid(
            "language", f"language must be one of {', '.join(flow.languages)} for flow {flow.id!r}"
        )

    context = _context(payload.get("context", {}), flow)
    send_at = _send_at(payload.get("send_at"), now)
    try:
        fallback_to = read_fallback_to(payload.get("fallback_to"), flow, fallback_from or channel)
    except InvalidFallbackTo as exc:
        raise _invalid(exc.field, exc.message) from exc
    if bad_contact is not None:
        raise InvalidContact(bad_contact, flow, channel, context)
    return TriggerRequest(
        flow, channel, contact, language, context, send_at, fallback_to, fallback_from
    )


def _phone(to: str, channel: str) -> str:
    if not E164.match(to):
        raise _invalid("to", f"{to!r} is not an E.164 phone number (like +12025550123)")
    try:
        number = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException as exc:
        raise _invalid("to", f"{to!r} is not a phone number: {exc}") from exc
    # number_type is UNKNOWN exactly when is_valid_number is false; asking once walks the
    # numbering metadata once instead of twice (it dominates the cost of a batch).
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise _invalid("to", f"{to!r} is not a valid phone number")
    if channel == "sms" and kind not in SMS_CAPABLE:
        raise NotMobile(
            422,
            "invalid_field",
            f"{to!r} cannot receive text messages (it is not a mobile number)",
            "to",
        )
    if channel == "voice" and kind in NOT_CALLABLE:
        raise _invalid("to", f"{to!r} is a premium-rate, shared-cost or pager number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(to: str) -> str:
    try:
        result = email_validator.validate_email(to.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise _invalid("to", f"{to!r} is not a valid email address: {exc}") from exc
    return str(result.normalized)


def _context(raw: Any, flow: Flow) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _invalid("context", "context must be an object of names to strings")
    for name in sorted(raw):
        if name not in flow.context:
            declared = ", ".join(flow.context) or "none"
            raise _invalid(
                f"context.{name}",
                f"flow {flow.id!r} declares no context value {name!r} (declared: {declared})",
            )
    for name in flow.context:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _invalid(
                f"context.{name}",
                f"context.{name} is required by flow {flow.id!r} and must be a non-empty string",
            )
        if len(value) > MAX_CONTEXT_VALUE:
            raise _invalid(
                f"context.{name}", f"context.{name} is longer than {MAX_CONTEXT_VALUE} characters"
            )
    return {name: raw[name] for name in flow.context}


def _send_at(raw: Any, now: datetime) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _invalid("send_at", "send_at must be an ISO-8601 string with a timezone")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise _invalid("send_at", f"send_at {raw!r} is not an ISO-8601 date and time") from exc
    if when.tzinfo is None or when.utcoffset() is None:
        raise _invalid(
            "send_at", f"send_at {raw!r} has no timezone; add Z or an offset like -05:00"
        )
    try:
        when = check_datetime(when, "send_at")
    except InputRefused as exc:
        raise _invalid("send_at", exc.message) from exc
    if when < now - SEND_AT_PAST_GRACE:
        raise _invalid("send_at", f"send_at {raw!r} is in the past")
    if when > now + SEND_AT_MAX_AHEAD:
        raise _invalid(
            "send_at", f"send_at {raw!r} is more than {SEND_AT_MAX_AHEAD.days} days ahead"
        )
    return when
