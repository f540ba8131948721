"""The common step of a phone survey, served in two statements: a key pressed, a
recording made or nothing heard, at the current step of a call in progress.

Nearly every webhook of a call is that step. On PostgreSQL it is served here without the
ORM, and without a transaction held open while Python works:

1. one SELECT reads the survey of the callback URL, the number of the last TwiML document
   recorded for its call, and whether its agency has webhook subscriptions;
2. the engine steps in Python (the flow comes from the per-process cache by version id);
3. one statement of data-modifying CTEs (:mod:`gateway.surveys.quick_steps`), committed
   by itself (autocommit), stores the caller's input, the answers, the survey's new state
   and the next document's words. It first locks the survey row and checks that it is
   still as step 1 read it (same ``updated_at``, still ``started``), and writes nothing
   otherwise. The caller's sealed address and its keyed hash are copied from the survey
   row by the database: the step never opens them.

So two deliveries of the same Gather cannot both be stored: the second one either reads
the survey after the first was stored (its step is then an earlier one), or finds the row
changed when it writes. Either way it returns None here, and
:func:`gateway.voice.calls.continue_call` serves it under the row lock, replaying the step.

Both statements go straight to libpq (:mod:`gateway.store.libpq`): SQLAlchemy's execution
machinery costs more CPU than the statements themselves. The same goes for the status
callback that ends a call whose survey is already closed (:func:`status_changes_nothing`):
one SELECT finds there is nothing to do.

Whatever is not that common case — SQLite, an unknown or finished call, a step delivered
again or out of turn, a step the one statement may not store
(:func:`gateway.surveys.step_plan.stored_in_one_statement`), a survey changed since it was
read — returns None before anything is written, and
:func:`gateway.voice.calls.continue_call` serves it through the ORM. Both write what
:func:`gateway.surveys.step_plan.plan_step` says, and the document returned is the same
(tests run both).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine

from gateway.engine.engine import step
from gateway.engine.types import SessionState
from gateway.http import metrics
from gateway.store.driver import on_driver
from gateway.store.libpq import LibpqCursor
from gateway.store.models import utcnow
from gateway.surveys import quick_steps
from gateway.surveys.quick_steps import MESSAGE_COLUMNS, flow_of_version, sealing, store_step
from gateway.surveys.step_plan import (
    SurveyAsRead,
    plan_step,
    step_key,
    step_number,
    stored_in_one_statement,
)
from gateway.voice.calls import SPOKEN, CallEvent, received
from gateway.voice.twiml import CHANNEL, render

#: The callback URL's survey, its call's current step, and whether completing it has
#: webhooks to deliver (as :func:`gateway.alerts.rules.survey_completed` looks them up).
_LOAD = """
SELECT s.id, s.agency_id, s.channel, s.provider_ref, s.flow_version_id, s.language,
       s.state, s.status, s.created_at, s.updated_at, s.first_answered_at IS NOT NULL,
       s.sender,
       (
           SELECT m.step_key FROM messages m
           WHERE m.survey_id = s.id AND m.direction = 'outbound' AND m.status = 'spoken'
           ORDER BY m.id DESC
           LIMIT 1
       ),
       EXISTS (
           SELECT 1 FROM webhook_subscriptions w
           WHERE w.agency_id = s.agency_id AND w.deleted_at IS NULL
       )
FROM surveys s
WHERE s.id = %(survey_id)s
"""


class _Call(NamedTuple):
    id: str
    agency_id: int
    channel: str
    provider_ref: str | None
    flow_version_id: int
    language: str
    state: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime
    answered: bool  # the survey has an answered question (``first_answered_at`` set)
    sender: str | None
    step_key: str | None
    subscribed: bool


#: The statement's head (:mod:`gateway.surveys.quick_steps`): the call's survey still in
#: progress as read, the caller's input, and the next document's words. The caller's
#: sealed address and its keyed hash are copied from the survey row by the database.
_HEAD = f"""
current_survey AS (
    SELECT id, contact, contact_hash FROM surveys
    WHERE id = %(survey_id)s AND updated_at = %(seen_updated_at)s AND status = 'started'
    FOR UPDATE
),
inbound AS (
    INSERT INTO messages ({MESSAGE_COLUMNS})
    SELECT id, %(agency_id)s, 'inbound', '{CHANNEL}', contact, %(sender)s, contact_hash,
           %(in_body)s, NULL, NULL, %(in_status)s, 0, %(now)s, %(now)s
    FROM current_survey
    RETURNING id
),
spoken AS (
    INSERT INTO messages ({MESSAGE_COLUMNS})
    SELECT current_survey.id, %(agency_id)s, 'outbound', '{CHANNEL}', %(sender)s, contact,
           contact_hash, %(body)s, NULL, %(step_key)s, '{SPOKEN}', 0, %(now)s, %(now)s
    FROM current_survey, inbound
    RETURNING id
)"""


class _Step(NamedTuple):
    """A step the common case stored: the document to answer with, and what it did."""

    twiml: str
    completed: bool


def quick_step(engine: Engine, call: CallEvent, *, max_reprompts: int) -> str | None:
    """Store the call's step and return the TwiML that follows, or None (nothing written)
    when it is not the common case."""
    if engine.dialect.name != "postgresql":
        return None
    stored = on_driver(engine, lambda cursor: _serve(cursor, engine, call, max_reprompts))
    if stored is None:
        return None
    metrics.count_quick_step(CHANNEL, SPOKEN, 1, completed=stored.completed)
    return stored.twiml


#: What a status callback could change: the call's outbound attempt (a call the gateway
#: placed) and the status of the call's newest survey, found as
#: :func:`gateway.voice.calls.survey_for_call` finds it.
_STATUS = """
SELECT
    EXISTS (
        SELECT 1 FROM messages m WHERE m.provider_sid = %(sid)s AND m.direction = 'outbound'
    ),
    (
        SELECT s.status FROM surveys s
        WHERE s.provider_ref = %(sid)s AND s.channel = 'voice'
        ORDER BY s.created_at DESC
        LIMIT 1
    )
"""
#: Survey statuses a status callback acts on (:func:`gateway.voice.outbound.call_status`):
#: a call that was placed but not answered (``sent``), or a survey in progress.
_STATUS_ACTS_ON = ("sent", "started")


def status_changes_nothing(engine: Engine, call_sid: str) -> bool:
    """Whether a status callback for ``call_sid`` has nothing to change: the gateway placed
    no such call, and the call's survey is unknown or closed (its status is final). The
    common callback, the end of a call whose survey completed, then costs one SELECT."""
    if engine.dialect.name != "postgresql":
        return False

    def read(cursor: LibpqCursor) -> bool:
        cursor.execute(_STATUS, {"sid": call_sid})
        row = cursor.fetchone()
        assert row is not None  # the SELECT has no FROM: always one row
        attempted, status = row
        return not attempted and status not in _STATUS_ACTS_ON

    return bool(on_driver(engine, read))


def _serve(
    cursor: LibpqCursor, engine: Engine, event: CallEvent, max_reprompts: int
) -> _Step | None:
    call = quick_steps.read_one(cursor, _LOAD, {"survey_id": event.survey_id}, _Call._make)
    if call is None:
        return None
    if (
        call.channel != CHANNEL
        or call.provider_ref != event.call_sid
        or call.status != "started"
        or call.step_key is None
    ):
        return None
    current = step_number(call.step_key)
    if event.step != current:
        return None
    flow = flow_of_version(engine, call.flow_version_id)
    result = step(
        flow, SessionState.from_dict(call.state), event.event, max_reprompts=max_reprompts
    )
    if not stored_in_one_statement(result, flow, call.subscribed):
        return None
    now = utcnow()
    read = SurveyAsRead(call.id, call.status, call.language, call.answered)
    writes = plan_step(read, result, now)
    lines = tuple(p.text for p in result.prompts if p.text.strip())
    in_body, in_status = received(event.event)
    params: dict[str, Any] = {
        "survey_id": call.id,
        "agency_id": call.agency_id,
        "seen_updated_at": call.updated_at,
        "survey_created_at": call.created_at,
        "now": now,
        "sender": sealing(engine).seal(call.sender),
        "in_body": in_body,
        "in_status": in_status,
        "body": "\n".join(lines),
        "step_key": step_key(call.id, current + 1),
    }
    if not store_step(cursor, _HEAD, params, writes, returns="spoken"):
        return None
    twiml = render(call.id, writes.state, flow, current + 1, lines)
    return _Step(twiml, writes.completed)
