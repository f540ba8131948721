"""Mode fallback: reaching a respondent on another channel, on the same survey record.

Two causes (a flow's ``fallback``, docs/reach.md):

- ``undeliverable``: the SMS first contact cannot reach the number (a landline named at
  trigger time, error 21614 when the text is handed to Twilio, or error 30006 on the
  text's status callback). The survey becomes a
  ``voice`` survey and its call is placed through the usual start job; the undelivered
  text stays in the survey's messages.
- ``no_answer``: nobody answered the SMS by the fallback's delay. The survey's link is
  emailed to the address the trigger gave (``fallback_to.email``); the survey becomes an
  ``email`` survey, its engine state (and any answer) kept, and its expiry starts again.

Each switch is a :class:`~gateway.store.attempt_models.ContactAttempt` of kind
``fallback``, so the survey's channel changes are visible in its ``attempts``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import email_validator
import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import PERMANENT_ERRORS
from gateway.engine.types import SessionState
from gateway.flows.model import Flow
from gateway.reach import attempts
from gateway.reach.reminders import EMAIL_PENDING
from gateway.store.attempt_models import ContactAttempt
from gateway.store.models import Message, Survey
from gateway.surveys import conversation

#: Twilio errors that say a number cannot receive texts at all (a landline, a number no
#: carrier delivers texts to): a retry cannot help, a call may.
UNDELIVERABLE_CODES = frozenset({"30006", "21614"})
#: What a trigger's ``fallback_to`` may name: the address of each fallback channel.
FALLBACK_TO_FIELDS = ("email",)
_NUMBERED_STEP = re.compile(r"\d+")


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


def switch_to_call(session: Session, survey: Survey, code: str, now: datetime) -> bool:
    """The survey's first text is undeliverable (refused when sent, or reported so by its
    status callback): make it a voice survey to be started (the caller enqueues its start
    once committed). False when the flow has no call fallback, or the survey is past its
    first text (an answer, a switch already made)."""
    if survey.channel != "sms" or survey.status not in ("queued", "sent"):
        return False
    if survey.first_answered_at is not None:
        return False
    flow = conversation.survey_flow(survey)
    if not calls_when_undeliverable(flow):
        return False
    if conversation.is_hash_opted_out(session, survey.contact_hash):
        return False
    number = next(i for i, f in enumerate(flow.fallback, 1) if f.reason == "undeliverable")
    key = attempts.step_key(survey.id, "fallback", number)
    if session.scalar(sa.select(ContactAttempt.id).where(ContactAttempt.step_key == key)):
        return False
    described = PERMANENT_ERRORS.get(code, "undeliverable")
    for row in attempts.rows_of(session, survey.id, "starting", "sent"):
        if row.kind == "first" and row.channel == "sms":
            attempts.finish(row, "failed", now, f"error {code}: {described}")
            row.attempted_at = row.attempted_at or survey.sent_at or now
    attempts.suppress(session, survey.id, now, f"the text was undeliverable (error {code})")
    _retire_text_steps(session, survey)
    row = ContactAttempt(
        survey_id=survey.id,
        agency_id=survey.agency_id,
        kind="fallback",
        number=number,
        channel="voice",
        reason="undeliverable",
        step_key=key,
        outcome="starting",
        due_at=now,
        detail=f"error {code}: {described}",
    )
    session.add(row)
    survey.channel = "voice"
    survey.status = "queued"
    survey.queued_at = now
    survey.state = {}
    survey.provider_ref = None
    survey.sender = None
    survey.failure_reason = None
    survey.updated_at = now
    session.flush()
    return True


def _retire_text_steps(session: Session, survey: Survey) -> None:
    """Rename the survey's numbered text steps (``id:0``...) to ``id:sms-0``..., leaving
    the numbers to the call's documents; unsent texts are dropped."""
    rows = session.scalars(
        sa.select(Message).where(
            Message.survey_id == survey.id,
            Message.direction == "outbound",
            Message.channel == "sms",
        )
    )
    for message in rows:
        if message.status == conversation.PENDING:
            message.status = conversation.DROPPED
        prefix, _, step = (message.step_key or "").rpartition(":")
        if prefix == survey.id and _NUMBERED_STEP.fullmatch(step):
            message.step_key = f"{survey.id}:sms-{step}"


def switch_to_email(
    session: Session, survey: Survey, row: ContactAttempt, flow: Flow, sender: str, now: datetime
) -> str | None:
    """Move a survey nobody answered by text to email: record the email (pending) for
    :func:`gateway.sending.due.send_email_job`; its step key, or None when suppressed."""
    address = row.to_addr
    if not address:
        attempts.finish(row, "suppressed", now, "no fallback address")
        return None
    if conversation.is_opted_out(session, address):
        attempts.finish(row, "suppressed", now, "the address has unsubscribed")
        return None
    state = SessionState.from_dict(survey.state) if survey.state else None
    if state is not None:
        state.channel = "email"
        survey.state = state.to_dict()
    survey.channel = "email"
    if flow.expires_after is not None:
        survey.expires_at = now + flow.expires_after
    survey.updated_at = now
    session.add(
        Message(
            survey_id=survey.id,
            agency_id=survey.agency_id,
            direction="outbound",
            channel="email",
            from_addr=sender,
            to_addr=address,
            body="",
            step_key=row.step_key,
            status=EMAIL_PENDING,
        )
    )
    attempts.finish(row, "sent", now)
    attempts.suppress(
        session,
        survey.id,
        now,
        "the survey moved to email",
        outcomes=("scheduled",),
        kinds=("reminder",),
    )
    return row.step_key
