"""Every interaction counted: what a trigger records besides (or instead of) a survey.

A trigger is an interaction report first. :func:`decline_reason` decides whether the
interaction is offered a survey at all (sampling, then quotas); the survey record then
says whether a survey was sent (``opted_out`` and ``fatigue`` are decided there), and
:func:`record` writes the interaction with the outcome. A trigger refused for its contact
alone (``to`` missing or invalid) is recorded too, by :func:`record_invalid`, and still
answered 422.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.reach.quotas import QuotaCounter
from gateway.reach.sampling import sampled_in
from gateway.store.driver import insert_rows
from gateway.store.reach_models import Interaction
from gateway.surveys.creation import FATIGUE
from gateway.surveys.trigger_requests import InvalidContact, TriggerRequest

SAMPLED_OUT: Final = "sampled_out"
QUOTA_REACHED: Final = "quota_reached"
OPTED_OUT: Final = "opted_out"
INVALID_CONTACT: Final = "invalid_contact"
#: Why an interaction was not offered a survey, in the order the rules are applied
#: (an opted-out contact is reported as such whatever the draw).
REASONS: Final = (OPTED_OUT, SAMPLED_OUT, QUOTA_REACHED, FATIGUE, INVALID_CONTACT)


def decline_reason(request: TriggerRequest, seed: str, quotas: QuotaCounter) -> str | None:
    """``sampled_out`` or ``quota_reached`` when the flow's sampling leaves this
    interaction out; None when it may be offered a survey."""
    flow = request.flow
    if flow.sampling is None:
        return None
    if not sampled_in(flow.sampling, flow.id, seed):
        return SAMPLED_OUT
    if quotas.reached(flow, request.context):
        return QUOTA_REACHED
    return None


def outcome(status: str, failure_reason: str | None) -> tuple[bool, str | None]:
    """(offered, reason) of a survey record just created by a trigger."""
    if status == "opted_out":
        return False, OPTED_OUT
    if status == "cancelled":
        return False, failure_reason
    return True, None


def values(
    trigger: TriggerRequest | InvalidContact,
    *,
    agency_id: int,
    now: datetime,
    survey: dict[str, Any] | None = None,
    batch_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """An interaction's column values, for ``trigger`` (a valid request, or one refused
    for its contact); ``survey`` is the survey record's values (with its id), None when
    the contact was invalid."""
    reason: str | None = INVALID_CONTACT
    if survey is None:
        offered = False
    else:
        offered, reason = outcome(survey["status"], survey["failure_reason"])
    return {
        "agency_id": agency_id,
        "flow_id": trigger.flow.id,
        "channel": trigger.channel,
        "context": trigger.context,
        "offered": offered,
        "reason": reason,
        "survey_id": survey["id"] if survey is not None else None,
        "batch_id": batch_id,
        "idempotency_key": idempotency_key,
        "created_at": now,
    }


def record(
    session: Session,
    request: TriggerRequest,
    agency_id: int,
    survey: dict[str, Any],
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> Interaction:
    """Record a single trigger's interaction. An earlier refusal of the same request for
    its contact (same Idempotency-Key) becomes this interaction: one customer, once."""
    row = values(
        request, agency_id=agency_id, now=now, survey=survey, idempotency_key=idempotency_key
    )
    earlier = None
    if idempotency_key is not None:
        earlier = session.scalars(
            sa.select(Interaction).where(
                Interaction.agency_id == agency_id,
                Interaction.idempotency_key == idempotency_key,
            )
        ).first()
    if earlier is not None:
        for name, value in row.items():
            setattr(earlier, name, value)
        return earlier
    interaction = Interaction(**row)
    session.add(interaction)
    return interaction


def record_invalid(
    session: Session,
    error: InvalidContact,
    agency_id: int,
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> None:
    """Record a trigger refused for its contact (committed by the caller); a retry with
    the same Idempotency-Key is not counted again."""
    row = values(error, agency_id=agency_id, now=now, idempotency_key=idempotency_key)
    try:
        with session.begin_nested():
            session.add(Interaction(**row))
    except IntegrityError:
        if idempotency_key is None:
            raise


def insert_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert a batch's interactions: PostgreSQL's COPY, one executemany elsewhere (a batch
    of 100,000 rows records as many interactions beside its surveys)."""
    insert_rows(session, cast(sa.Table, Interaction.__table__), rows, _copy_value)


def _copy_value(column: str, value: Any) -> Any:
    return json.dumps(value) if column == "context" else value


def find_outcome(session: Session, survey_id: str) -> tuple[bool, str | None] | None:
    """(offered, reason) of the interaction that created ``survey_id``, if one did."""
    row = session.execute(
        sa.select(Interaction.offered, Interaction.reason).where(Interaction.survey_id == survey_id)
    ).first()
    return None if row is None else (bool(row[0]), row[1])


def batch_outcome(session: Session, batch_id: str) -> dict[str, Any]:
    """How many of a batch's interactions were offered a survey, and why the others not."""
    counts: Counter[str | None] = Counter()
    query = (
        sa.select(Interaction.reason, sa.func.count())
        .where(Interaction.batch_id == batch_id)
        .group_by(Interaction.reason)
    )
    for reason, count in session.execute(query):
        counts[reason] += int(count)
    return {
        "offered": counts.pop(None, 0),
        "not_offered": {reason: counts[reason] for reason in REASONS if counts[reason]},
    }


def unsurveyed_counts(
    session: Session, agency_id: int, flow_id: str, start: datetime, end: datetime
) -> dict[str, int]:
    """Customers the survey records do not show: interactions refused for an invalid
    contact (they have no survey record), counted per channel, created in ``[start, end)``.

    Every other interaction created exactly one survey record, of the same flow, channel
    and creation time, so the A-11 customers are the survey records plus these.
    """
    query = (
        sa.select(Interaction.channel, sa.func.count())
        .where(
            Interaction.agency_id == agency_id,
            Interaction.flow_id == flow_id,
            Interaction.created_at >= start,
            Interaction.created_at < end,
            Interaction.reason == INVALID_CONTACT,
        )
        .group_by(Interaction.channel)
    )
    return {channel: int(count) for channel, count in session.execute(query)}
