"""Delivery statuses of outbound texts: provider callbacks move a text forward only, and a
failed opening text is sent again, or reported for its caller to end the survey (with the
reason, :func:`fail`) or to reach the number another way (:mod:`gateway.reach.fallback`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.twilio.errors import OPT_OUT_ERRORS, PERMANENT_ERRORS, RETRYABLE_ERRORS
from gateway.store.models import Message, Survey
from gateway.surveys.messages import CLAIMED, PENDING, SIMULATED
from gateway.surveys.opt_outs import opt_out

#: Message statuses in the order they may follow one another; a callback never moves a
#: message back (a late "sent" after "delivered" is ignored).
STATUS_RANK: dict[str, int] = {
    PENDING: 0,
    CLAIMED: 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    SIMULATED: 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
FAILED_STATUSES = ("failed", "undelivered")


def failure_reason(code: str) -> str:
    """The failure reason stored on a survey whose text failed with error ``code``."""
    description = PERMANENT_ERRORS.get(code) or RETRYABLE_ERRORS.get(code) or "delivery failed"
    return f"error {code}: {description}"


@dataclass(frozen=True)
class StatusOutcome:
    """What a status callback changed: a survey to send again, if the failure allows."""

    found: bool
    resend_survey_id: str | None = None
    #: A survey switched to its call fallback (gateway.reach.fallback): start it.
    start_survey_id: str | None = None
    #: A survey whose first text failed for good with error :attr:`failure_code`, left
    #: ``sent``: the caller fails it (:func:`fail`) unless another channel can reach it.
    failed_survey_id: str | None = None
    failure_code: str | None = None


def apply_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: str | None,
    now: datetime,
    max_attempts: int,
) -> StatusOutcome:
    """Record a provider status for the outbound message ``sid`` (idempotent, forward only).

    A failed opening text whose error a retry may fix is put back to ``pending`` for
    another send (up to ``max_attempts``); otherwise the survey, still waiting for its
    first reply, is reported in ``failed_survey_id`` for the caller to settle. Error 21610
    (the recipient replied STOP to the carrier) records an opt-out for the number.
    """
    message = session.scalars(
        sa.select(Message).where(Message.provider_sid == sid).with_for_update()
    ).first()
    if message is None:
        return StatusOutcome(found=False)
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(message.status, 0):
        return StatusOutcome(found=True)
    message.status = status
    if error_code:
        message.error_code = error_code
    message.updated_at = now
    if status not in FAILED_STATUSES or message.direction != "outbound":
        return StatusOutcome(found=True)
    code = error_code or "unknown"
    if code in OPT_OUT_ERRORS and message.to_addr:
        opt_out(session, message.to_addr, keyword=f"error {code}", now=now)
        return StatusOutcome(found=True)
    survey = session.get(Survey, message.survey_id) if message.survey_id else None
    if survey is None or survey.status != "sent":
        return StatusOutcome(found=True)
    retryable = code in RETRYABLE_ERRORS
    if retryable and message.attempts < max_attempts:
        message.status = PENDING
        return StatusOutcome(found=True, resend_survey_id=survey.id)
    return StatusOutcome(found=True, failed_survey_id=survey.id, failure_code=code)


def fail(survey: Survey, code: str) -> None:
    """End a survey whose first text failed for good with error ``code``."""
    survey.status = "failed"
    survey.failure_reason = failure_reason(code)
