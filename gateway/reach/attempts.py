"""Recording contact attempts: the first contact, and the reminders and fallbacks it plans.

A trigger's first contact is recorded with the survey (:func:`plan`): ``starting`` until
the survey's start job has made it, then ``sent``, ``failed`` or ``suppressed``
(:func:`resolve`). Once the first contact went out, the flow's reminders and the no-answer
fallbacks become ``scheduled`` rows, their delays counted from that moment; the sweeper
carries them out when due (:mod:`gateway.sending.due`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.store.attempt_models import ContactAttempt
from gateway.store.models import Survey
from gateway.surveys.lifecycle import survey_flow
from gateway.surveys.serializers import timestamp
from gateway.surveys.trigger_requests import TriggerRequest

#: Survey statuses in which its start job has not run yet.
NOT_STARTED = ("scheduled", "queued")
#: Survey statuses reached once the first contact went out.
CONTACTED = ("sent", "started", "completed", "expired")
#: Channels a reminder can be sent on (a call is placed again by the call retry policy).
REMINDER_CHANNELS = ("sms", "email")
#: What an API client sees of each kind.
KIND_LABELS = {"first": "first contact", "reminder": "reminder", "fallback": "fallback"}


def step_key(survey_id: str, kind: str, number: int) -> str:
    return f"{survey_id}:{kind}-{number}"


def plan(
    session: Session,
    survey: Survey,
    flow: Flow,
    *,
    fallback_to: dict[str, str],
    fallback_from: str | None,
    now: datetime,
) -> None:
    """Record a new survey's first contact and the fallbacks its trigger gave addresses
    for. ``fallback_from``: the channel asked for when the survey starts on a fallback
    instead (a landline given for SMS)."""
    if survey.status not in NOT_STARTED:
        return
    session.add_all(
        _planned(
            Planned(survey.id, survey.agency_id, survey.channel, survey.send_at),
            flow,
            fallback_to,
            fallback_from,
            now,
        )
    )


@dataclass(frozen=True)
class Planned:
    """What planning needs of a survey (a row or the values of a bulk insert)."""

    survey_id: str
    agency_id: int
    channel: str
    send_at: datetime | None


def plan_batch(
    session: Session, surveys: Iterable[tuple[dict[str, Any], TriggerRequest]], now: datetime
) -> None:
    """:func:`plan` for a batch's bulk-inserted surveys; only those whose trigger named a
    fallback (the first contact of the others is recorded when it is made)."""
    rows: list[ContactAttempt] = []
    for values, trigger in surveys:
        if values["status"] not in NOT_STARTED:
            continue
        if not trigger.fallback_to and trigger.fallback_from is None:
            continue
        survey = Planned(values["id"], values["agency_id"], values["channel"], values["send_at"])
        rows.extend(_planned(survey, trigger.flow, trigger.fallback_to, trigger.fallback_from, now))
    if rows:
        session.add_all(rows)
        session.flush()


def _planned(
    survey: Planned,
    flow: Flow,
    fallback_to: dict[str, str],
    fallback_from: str | None,
    now: datetime,
) -> list[ContactAttempt]:
    if fallback_from is not None:
        number = next((i for i, f in enumerate(flow.fallback, 1) if f.channel == survey.channel), 1)
        first = _row(survey, "fallback", number, survey.channel, "starting", reason="not_mobile")
        first.detail = f"{fallback_from} asked for; the number cannot receive text messages"
    else:
        first = _row(survey, "first", 1, survey.channel, "starting")
    first.due_at = survey.send_at or now
    rows = [first]
    if survey.channel != "sms":
        return rows
    for number, fallback in enumerate(flow.fallback, 1):
        address = fallback_to.get(fallback.channel)
        if fallback.reason == "no_answer" and address:
            row = _row(survey, "fallback", number, fallback.channel, "planned", reason="no_answer")
            row.to_addr = address
            rows.append(row)
    return rows


def _row(
    survey: Survey | Planned,
    kind: str,
    number: int,
    channel: str,
    outcome: str,
    *,
    reason: str | None = None,
) -> ContactAttempt:
    survey_id = survey.survey_id if isinstance(survey, Planned) else survey.id
    return ContactAttempt(
        survey_id=survey_id,
        agency_id=survey.agency_id,
        kind=kind,
        number=number,
        channel=channel,
        reason=reason,
        step_key=step_key(survey_id, kind, number),
        outcome=outcome,
    )


def rows_of(session: Session, survey_id: str, *outcomes: str) -> list[ContactAttempt]:
    query = sa.select(ContactAttempt).where(ContactAttempt.survey_id == survey_id)
    if outcomes:
        query = query.where(ContactAttempt.outcome.in_(outcomes))
    return list(session.scalars(query.order_by(ContactAttempt.id).with_for_update()))


def finish(row: ContactAttempt, outcome: str, now: datetime, detail: str | None = None) -> None:
    """Close an attempt; the address it held is no longer needed (its message keeps it)."""
    row.outcome = outcome
    row.detail = detail[:300] if detail else row.detail
    row.to_addr = None
    row.updated_at = now
    if outcome in ("sent", "failed") and row.attempted_at is None:
        row.attempted_at = now


def resolve(session: Session, survey: Survey, now: datetime) -> None:
    """Settle the survey's ``starting`` attempts once its start job has run, and schedule
    what follows a first contact that went out."""
    if survey.status in NOT_STARTED:
        return
    rows = rows_of(session, survey.id)  # one query, the rows locked
    starting = [row for row in rows if row.outcome == "starting"]
    if not rows and survey.sent_at is not None:
        # A survey started without a recorded plan (a batch trigger): record it now.
        row = _row(survey, "first", 1, survey.channel, "starting")
        session.add(row)
        starting = [row]
    planned = [row for row in rows if row.outcome == "planned"]
    for row in starting:
        if row.channel != survey.channel:
            continue  # switched to a fallback before this was settled: settled there
        if survey.sent_at is not None and survey.status in CONTACTED:
            finish(row, "sent", now)
            row.attempted_at = survey.sent_at
            if row.kind == "first":
                _schedule_followers(session, survey, survey_flow(survey), survey.sent_at, planned)
        elif survey.status == "failed":
            finish(row, "failed", now, survey.failure_reason)
            row.attempted_at = row.attempted_at or now
            for later in planned:
                finish(later, "suppressed", now, "the first contact failed")
        else:
            finish(row, "suppressed", now, _why_closed(survey))
            for later in planned:
                finish(later, "suppressed", now, _why_closed(survey))


def _schedule_followers(
    session: Session,
    survey: Survey,
    flow: Flow,
    sent_at: datetime,
    planned: list[ContactAttempt],
) -> None:
    if survey.channel in REMINDER_CHANNELS:
        for number, reminder in enumerate(flow.reminders, 1):
            row = _row(survey, "reminder", number, survey.channel, "scheduled")
            row.due_at = sent_at + reminder.after
            session.add(row)
    for row in planned:
        fallback = flow.fallback[row.number - 1] if row.number <= len(flow.fallback) else None
        if fallback is None or fallback.after is None:
            finish(row, "suppressed", sent_at, "the flow no longer names this fallback")
            continue
        row.outcome = "scheduled"
        row.due_at = sent_at + fallback.after
    session.flush()


def suppress(
    session: Session,
    survey_id: str,
    now: datetime,
    why: str,
    *,
    outcomes: Iterable[str] = ("planned", "scheduled"),
    kinds: Iterable[str] | None = None,
) -> int:
    """Give up the survey's attempts still to be made; how many."""
    count = 0
    kinds = tuple(kinds) if kinds is not None else None
    for row in rows_of(session, survey_id, *outcomes):
        if kinds is None or row.kind in kinds:
            finish(row, "suppressed", now, why)
            count += 1
    return count


def _why_closed(survey: Survey) -> str:
    return {
        "opted_out": "opted out",
        "cancelled": survey.failure_reason or "cancelled",
        "completed": "completed",
        "expired": "expired",
    }.get(survey.status, survey.status)


def resolve_started(session: Session, now: datetime, limit: int = 200) -> int:
    """The sweeper's catch-up: settle ``starting`` attempts whose survey has started."""
    starting = sa.select(ContactAttempt.survey_id).where(ContactAttempt.outcome == "starting")
    surveys = session.scalars(
        sa.select(Survey)
        .where(Survey.id.in_(starting), Survey.status.not_in(NOT_STARTED))
        .limit(limit)
    ).all()
    for survey in surveys:
        resolve(session, survey, now)
    return len(surveys)


def attempts_json(session: Session, survey: Survey) -> list[dict[str, Any]]:
    """The survey's contact attempts as the API shows them, in time order (made, else
    due; a planned attempt, with no time yet, last)."""
    rows = sorted(
        session.scalars(
            sa.select(ContactAttempt).where(ContactAttempt.survey_id == survey.id)
        ).all(),
        key=_in_time_order,
    )
    delivery = _deliveries(survey, rows)
    return [
        {
            "kind": row.kind,
            "number": row.number,
            "channel": row.channel,
            "reason": row.reason,
            "outcome": row.outcome,
            "detail": row.detail,
            "due_at": timestamp(row.due_at),
            "attempted_at": timestamp(row.attempted_at),
            "delivery": delivery.get(row.id),
        }
        for row in rows
    ]


def _deliveries(survey: Survey, rows: Iterable[ContactAttempt]) -> dict[int, str]:
    """The provider status of each attempt's message: its own step key, or (a first
    contact, a call fallback) the first outbound message on its channel."""
    by_key = {m.step_key: m for m in survey.messages if m.step_key}
    own = {row.step_key for row in rows}
    result: dict[int, str] = {}
    for row in rows:
        message = by_key.get(row.step_key)
        if message is None and row.outcome in ("sent", "failed"):
            message = next(
                (
                    m
                    for m in survey.messages
                    if m.direction == "outbound"
                    and m.channel == row.channel
                    and m.step_key not in own
                ),
                None,
            )
        if message is not None:
            result[row.id] = message.status
    return result


def _in_time_order(row: ContactAttempt) -> tuple[int, datetime, int]:
    moment = row.attempted_at or row.due_at
    return (0, moment, row.id) if moment is not None else (1, row.created_at, row.id)
