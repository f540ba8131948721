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
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.twilio.errors import PERMANENT_ERRORS
from gateway.engine.types import SessionState
from gateway.flows.model import Flow
from gateway.reach import attempts
from gateway.reach.reminders import EMAIL_PENDING
from gateway.store.attempt_models import ContactAttempt
from gateway.store.models import Message, Survey
from gateway.surveys import delivery_statuses, lifecycle, messages, opt_outs
from gateway.surveys.delivery_statuses import StatusOutcome
from gateway.surveys.fallback_to import calls_when_undeliverable

#: Twilio errors that say a number cannot receive texts at all (a landline, a number no
#: carrier delivers texts to): a retry cannot help, a call may.
UNDELIVERABLE_CODES = frozenset({"30006", "21614"})
_NUMBERED_STEP = re.compile(r"\d+")


def switch_to_call(session: Session, survey: Survey, code: str, now: datetime) -> bool:
    """The survey's first text is undeliverable (refused when sent, or reported so by its
    status callback): make it a voice survey to be started (the caller enqueues its start
    once committed). False when the flow has no call fallback, or the survey is past its
    first text (an answer, a switch already made)."""
    if survey.channel != "sms" or survey.status not in ("queued", "sent"):
        return False
    if survey.first_answered_at is not None:
        return False
    flow = lifecycle.survey_flow(survey)
    if not calls_when_undeliverable(flow):
        return False
    if opt_outs.is_hash_opted_out(session, survey.contact_hash, survey.agency_id):
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


def settle_failed_text(session: Session, outcome: StatusOutcome, now: datetime) -> StatusOutcome:
    """A delivery status's outcome once its failed first text is dealt with: an
    undeliverable number with the flow's call fallback switches to a call (the outcome's
    ``start_survey_id`` names the survey to start), any other survey fails with the reason."""
    if outcome.failed_survey_id is None or outcome.failure_code is None:
        return outcome
    survey = session.get(Survey, outcome.failed_survey_id)
    assert survey is not None  # the status's own text names it, in this transaction
    code = outcome.failure_code
    settled = replace(outcome, failed_survey_id=None, failure_code=None)
    if code in UNDELIVERABLE_CODES and switch_to_call(session, survey, code, now):
        return replace(settled, start_survey_id=survey.id)
    delivery_statuses.fail(survey, code)
    return settled


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
        if message.status == messages.PENDING:
            message.status = messages.DROPPED
        prefix, _, step = (message.step_key or "").rpartition(":")
        if prefix == survey.id and _NUMBERED_STEP.fullmatch(step):
            message.step_key = f"{survey.id}:sms-{step}"


def switch_to_email(
    session: Session, survey: Survey, row: ContactAttempt, flow: Flow, sender: str, now: datetime
) -> str | None:
    """Move a survey nobody answered by text to email: record the email (pending) for
    :func:`gateway.sending.due.send_email`; its step key, or None when suppressed."""
    address = row.to_addr
    if not address:
        attempts.finish(row, "suppressed", now, "no fallback address")
        return None
    if opt_outs.is_opted_out(session, address, survey.agency_id):
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
