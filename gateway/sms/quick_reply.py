"""The common inbound text, answered in two statements: a reply to the open survey.

Nearly every webhook Twilio posts is a respondent answering the question their open
survey just asked. On PostgreSQL that reply is served here without the ORM:

1. one SELECT reads the number's awaiting survey (found by the contact's keyed hash),
   whether its agency has webhook subscriptions and whether the number opted out;
2. the engine steps in Python (the flow comes from the per-process cache by version id);
3. one statement of data-modifying CTEs, committed by itself (autocommit), stores the
   inbound message, the answers, the survey's new state and status, and the reply rows.
   It first locks the survey row and checks that it is still as step 1 read it (same
   ``updated_at``), and writes the rest only when the ``MessageSid`` is new: so a survey
   changed meanwhile, or a webhook delivered twice, writes nothing at all.

Whatever is not that common case — a keyword (STOP, HELP, START, a flow's start
keyword; YES from a number that opted out), no awaiting survey, a survey past its
expiry, waiting for consent or handed off to the web, a step that drops answers, hands
off, expires, or completes a survey that has alerts or subscriptions to deliver, a
duplicate ``MessageSid``, a survey changed since it was read, SQLite — returns None
before anything is written, and :func:`gateway.sms.inbound.handle_inbound` serves it
with the same rules through the ORM. Every decision here is the one that path would
take (tests run both and compare what they store).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

from channels.sms import match_keyword, split_text
from gateway.engine.engine import step
from gateway.engine.types import Event, SessionState, StepResult
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.http import metrics
from gateway.store.driver import (
    MESSAGE_COLUMNS,
    answers_upsert_cte,
    flow_of_version,
    on_driver,
    step_survey_sets,
    survey_update_cte,
)
from gateway.store.libpq import LibpqCursor
from gateway.store.models import Message, Survey
from gateway.store.sealing import contact_hash

_SURVEYS = cast(sa.Table, Survey.__table__)
_MESSAGES = cast(sa.Table, Message.__table__)

#: The number's newest awaiting SMS survey, as :func:`conversation.awaiting_survey` finds
#: it, and whether its agency has webhook subscriptions (a completion may have to notify).
_LOAD = """
SELECT s.id, s.agency_id, s.flow_version_id, s.state, s.status, s.created_at, s.updated_at,
       s.expires_at, s.consent_asked_at IS NOT NULL AND s.consent_given_at IS NULL,
       s.first_answered_at IS NOT NULL, s.sender, s.contact,
       EXISTS (
           SELECT 1 FROM webhook_subscriptions w
           WHERE w.agency_id = s.agency_id AND w.deleted_at IS NULL
       ),
       EXISTS (SELECT 1 FROM opt_outs o WHERE o.contact_hash = %(contact_hash)s)
FROM surveys s
WHERE s.contact_hash = %(contact_hash)s AND s.channel = 'sms'
  AND s.status IN ('sent', 'started')
ORDER BY s.sent_at DESC, s.created_at DESC
LIMIT 1
"""


class _Awaiting(NamedTuple):
    id: str
    agency_id: int
    flow_version_id: int
    state: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    awaiting_consent: bool
    #: The survey has an answered question (``first_answered_at`` is set).
    answered: bool
    sender: str | None
    contact: str
    subscribed: bool
    opted_out: bool


@dataclass(frozen=True)
class _Shape:
    """What varies between reply statements: each shape's text is built once."""

    answers: int
    replies: int
    #: Survey columns set besides ``state`` and ``updated_at``.
    sets: tuple[str, ...]


@functools.cache
def _statement(shape: _Shape) -> str:
    """The one statement that stores a reply of ``shape``; it returns the inbound row's id,
    or no row when it wrote nothing (survey changed since read, or a duplicate sid)."""
    text = f"""
WITH current_survey AS (
    SELECT id FROM surveys
    WHERE id = %(survey_id)s AND updated_at = %(seen_updated_at)s
      AND status IN ('sent', 'started')
    FOR UPDATE
),
inbound AS (
    INSERT INTO messages ({MESSAGE_COLUMNS})
    SELECT id, %(agency_id)s, 'inbound', 'sms', %(in_from)s, %(in_to)s, %(contact_hash)s,
           %(in_body)s, %(sid)s, NULL, 'received', 0, %(now)s, %(now)s
    FROM current_survey
    ON CONFLICT (provider_sid) DO NOTHING
    RETURNING id
),
{survey_update_cte("inbound", shape.sets)}"""
    if shape.answers:
        text += ",\n" + answers_upsert_cte(shape.answers, "inbound", "%(survey_created_at)s")
    if shape.replies:
        rows = "\n    UNION ALL ".join(
            f"SELECT %(survey_id)s, %(agency_id)s, 'outbound', 'sms', %(out_from)s, "
            f"%(out_to)s, %(contact_hash)s, %(reply{i})s, NULL, "
            f"CAST(%(survey_id)s AS text) || ':' || CAST(sent.n + {i} AS text), "
            f"%(reply_status)s, 0, %(now)s, %(now)s FROM inbound, sent"
            for i in range(shape.replies)
        )
        text += f""",
sent AS (
    SELECT count(*) AS n FROM messages
    WHERE survey_id = %(survey_id)s AND direction = 'outbound'
),
replies AS (
    INSERT INTO messages ({MESSAGE_COLUMNS})
    {rows}
    RETURNING id
)"""
    return text + "\nSELECT id FROM inbound"


Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Codecs:
    """The columns' own conversions (contacts are sealed at rest), for this dialect."""

    from_addr: Convert
    to_addr: Convert
    contact: Convert

    @classmethod
    def of(cls, dialect: Dialect) -> _Codecs:
        def bind(column: sa.Column[Any]) -> Convert:
            return column.type.bind_processor(dialect) or _same

        def result(column: sa.Column[Any]) -> Convert:
            return column.type.result_processor(dialect, None) or _same

        return cls(
            from_addr=bind(_MESSAGES.c.from_addr),
            to_addr=bind(_MESSAGES.c.to_addr),
            contact=result(_SURVEYS.c.contact),
        )


def _same(value: Any) -> Any:
    return value


_CODECS: WeakKeyDictionary[Engine, _Codecs] = WeakKeyDictionary()


def _starts_a_flow(registry: FlowRegistry, body: str) -> bool:
    """Whether the message opens with an SMS flow's start keyword (the general path
    decides between that flow and the open survey)."""
    words = body.strip().split(maxsplit=1)
    if not words:
        return False
    flow = registry.by_keyword(words[0].strip(".,!?"))
    return flow is not None and "sms" in flow.channels


def _simple(result: StepResult, flow: Flow, subscribed: bool) -> bool:
    """Whether storing ``result`` needs nothing beyond state, answers, status and replies."""
    if result.dropped or result.state.status == "expired":
        return False
    if any(prompt.kind == "handoff" for prompt in result.prompts):
        return False
    if result.state.handed_off:
        return False
    return result.state.status != "completed" or not (flow.alerts or subscribed)


def _codecs(engine: Engine) -> _Codecs:
    codecs = _CODECS.get(engine)
    if codecs is None:
        codecs = _CODECS[engine] = _Codecs.of(engine.dialect)
    return codecs


@dataclass(frozen=True)
class Reply:
    """An inbound text the common case served: what to answer, and what it recorded."""

    texts: list[str]
    completed: bool


def quick_reply(
    engine: Engine,
    registry: FlowRegistry,
    *,
    sid: str,
    from_: str,
    to: str,
    body: str,
    now: datetime,
    max_reprompts: int,
    reply_status: str,
) -> list[str] | None:
    """Store a reply to the number's open survey and return the texts answering it, or
    None (nothing written) when it is not the common case."""
    if engine.dialect.name != "postgresql":
        return None
    keyword = match_keyword(body)
    # YES (or SÍ) is an opt-in only from a number that opted out; else it is an answer.
    if keyword is not None and keyword.kind != "start_if_opted_out":
        return None
    if _starts_a_flow(registry, body):
        return None
    inbound = _Inbound(
        sid, from_, to, body, contact_hash(from_), now, reply_status, keyword is not None
    )
    reply = on_driver(engine, lambda cursor: _serve(cursor, engine, inbound, max_reprompts))
    if reply is None:
        return None
    metrics.count_sends("sms", reply_status, len(reply.texts))
    if reply.completed:
        metrics.count_completion("sms")
    return reply.texts


class _Inbound(NamedTuple):
    sid: str
    from_: str
    to: str
    body: str
    contact_hash: str
    now: datetime
    reply_status: str
    #: A word that opts the number back in if it opted out.
    opts_in_if_opted_out: bool


def _serve(
    cursor: LibpqCursor, engine: Engine, inbound: _Inbound, max_reprompts: int
) -> Reply | None:
    cursor.execute(_LOAD, {"contact_hash": inbound.contact_hash})
    row = cursor.fetchone()
    if row is None:
        return None
    survey = _Awaiting._make(row)
    if survey.opted_out and inbound.opts_in_if_opted_out:
        return None
    now = inbound.now
    if survey.expires_at is not None and survey.expires_at <= now:
        return None
    if survey.awaiting_consent:
        return None
    state = SessionState.from_dict(survey.state)
    if state.handed_off:
        return None
    flow = flow_of_version(engine, survey.flow_version_id)
    result = step(flow, state, Event("text", inbound.body), max_reprompts=max_reprompts)
    if not _simple(result, flow, survey.subscribed):
        return None
    sets = step_survey_sets(survey.status, survey.answered, result, now)
    completed = result.state.status == "completed"
    text = "\n\n".join(p.text for p in result.prompts if p.text)
    replies = split_text(text) if text else []
    codecs = _codecs(engine)
    params: dict[str, Any] = {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "seen_updated_at": survey.updated_at,
        "survey_created_at": survey.created_at,
        "state": json.dumps(result.state.to_dict()),
        "contact_hash": inbound.contact_hash,
        "in_from": codecs.from_addr(inbound.from_),
        "in_to": codecs.to_addr(inbound.to),
        "in_body": inbound.body,
        "sid": inbound.sid,
        "now": now,
    }
    for name, value in sets.items():
        params[f"set_{name}"] = value
    for i, recorded in enumerate(result.answers):
        params[f"q{i}"] = recorded.question_id
        params[f"raw{i}"] = recorded.raw
        params[f"value{i}"] = json.dumps(recorded.value)
        params[f"outcome{i}"] = recorded.outcome
    if replies:
        params["out_from"] = codecs.from_addr(survey.sender)
        params["out_to"] = codecs.to_addr(codecs.contact(survey.contact))
        params["reply_status"] = inbound.reply_status
        for i, reply in enumerate(replies):
            params[f"reply{i}"] = reply
    shape = _Shape(len(result.answers), len(replies), tuple(sets))
    cursor.execute(_statement(shape), params)
    if cursor.fetchone() is None:
        return None
    return Reply(replies, completed)
