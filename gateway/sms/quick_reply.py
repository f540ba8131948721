"""The common inbound text, answered in two statements: a reply to the open survey.

Nearly every webhook Twilio posts is a respondent answering the question their open
survey just asked. On PostgreSQL that reply is served here without the ORM
(:mod:`gateway.surveys.quick_steps`):

1. one SELECT reads the number's awaiting survey on the line of the number texted (found
   by the contact's keyed hash, with the general path's own query), whether its agency
   has webhook subscriptions, whether the number opted out of that agency's texts, and
   whether the number texted is one the gateway serves (an agency's, or the deployment's);
2. the engine steps in Python (the flow comes from the per-process cache by version id);
3. one statement of data-modifying CTEs, committed by itself (autocommit), stores the
   inbound message, the answers, the survey's new state and status, and the reply rows.
   It first locks the survey row and checks that it is still as step 1 read it (same
   ``updated_at``), and writes the rest only when the ``MessageSid`` is new: so a survey
   changed meanwhile, or a webhook delivered twice, writes nothing at all.

Whatever is not that common case — a keyword (STOP, HELP, START, a flow's start
keyword; YES from a number that opted out), a number the gateway does not serve, no
awaiting survey, a survey past its
expiry, waiting for consent or handed off to the web, a step the one statement may not
store (:func:`gateway.surveys.step_plan.stored_in_one_statement`), a duplicate
``MessageSid``, a survey changed since it was read, SQLite — returns None before anything
is written, and :func:`gateway.sms.inbound.handle_inbound` serves it through the ORM.
Both write what :func:`gateway.surveys.step_plan.plan_step` says (tests run both and
compare what they store).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channels.sms import match_keyword
from gateway.engine.engine import step
from gateway.engine.types import Event, SessionState
from gateway.flows.registry import FlowRegistry
from gateway.http import metrics
from gateway.store.agency_models import AgencySender
from gateway.store.driver import libpq_text, on_driver
from gateway.store.libpq import LibpqCursor
from gateway.store.models import Survey
from gateway.store.results_models import WebhookSubscription
from gateway.store.sealing import contact_hash
from gateway.surveys import comment_arrival, quick_steps
from gateway.surveys.messages import reply_texts
from gateway.surveys.open_surveys import AWAITING_REPLY, awaiting_reply
from gateway.surveys.opt_outs import opted_out_of
from gateway.surveys.quick_steps import MESSAGE_COLUMNS, flow_of_version, sealing, store_step
from gateway.surveys.step_plan import (
    SurveyAsRead,
    plan_step,
    step_key_prefix,
    stored_in_one_statement,
)

_SUBSCRIPTIONS = cast(sa.Table, WebhookSubscription.__table__)
_SENDERS = cast(sa.Table, AgencySender.__table__)

#: The number's newest awaiting SMS survey, as
#: :func:`gateway.surveys.open_surveys.awaiting_survey` finds it, whether its agency has
#: webhook subscriptions (a completion may have to notify) and whether the number opted out.
_LOAD = libpq_text(
    awaiting_reply(
        Survey.id,
        Survey.agency_id,
        Survey.flow_version_id,
        Survey.state,
        Survey.status,
        Survey.language,
        Survey.created_at,
        Survey.updated_at,
        Survey.expires_at,
        sa.and_(Survey.consent_asked_at.is_not(None), Survey.consent_given_at.is_(None)),
        Survey.first_answered_at.is_not(None),
        Survey.sender,
        Survey.contact,
        sa.exists().where(
            _SUBSCRIPTIONS.c.agency_id == Survey.agency_id, _SUBSCRIPTIONS.c.deleted_at.is_(None)
        ),
        opted_out_of(Survey.agency_id, sa.bindparam("contact_hash")),
        sa.exists().where(_SENDERS.c.channel == "sms", _SENDERS.c.address == sa.bindparam("to")),
        sa.exists().where(_SENDERS.c.id.is_not(None)),
    )
)


class _Awaiting(NamedTuple):
    id: str
    agency_id: int
    flow_version_id: int
    state: dict[str, Any]
    status: str
    language: str
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
    #: The number texted is an agency's registered sender.
    to_registered: bool
    #: Some agency registered a sender (else every number is the deployment's).
    any_registered: bool


#: The statement's head (:mod:`gateway.surveys.quick_steps`): the survey still awaiting a
#: reply as read, and the inbound text unless its ``MessageSid`` is stored already.
_HEAD = f"""
current_survey AS (
    SELECT id FROM surveys
    WHERE id = %(survey_id)s AND updated_at = %(seen_updated_at)s
      AND status IN ({", ".join(f"'{status}'" for status in AWAITING_REPLY)})
    FOR UPDATE
),
inbound AS (
    INSERT INTO messages ({MESSAGE_COLUMNS})
    SELECT id, %(agency_id)s, 'inbound', 'sms', %(in_from)s, %(in_to)s, %(contact_hash)s,
           %(in_body)s, %(sid)s, NULL, 'received', 0, %(now)s, %(now)s
    FROM current_survey
    ON CONFLICT (provider_sid) DO NOTHING
    RETURNING id
)"""


def _starts_a_flow(registry: FlowRegistry, body: str) -> bool:
    """Whether the message opens with an SMS flow's start keyword (the general path
    decides between that flow and the open survey)."""
    words = body.strip().split(maxsplit=1)
    if not words:
        return False
    flow = registry.by_keyword(words[0].strip(".,!?"))
    return flow is not None and "sms" in flow.channels


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
    #: The number texted is the deployment's own (TWILIO_PHONE_NUMBER, or any number when
    #: it texts from a Messaging Service).
    to_deployment: bool


class _Reply(NamedTuple):
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
    deployment_number: str | None = None,
    deployment_service: str | None = None,
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
    to_deployment = bool(deployment_service) or to == deployment_number
    inbound = _Inbound(
        sid,
        from_,
        to,
        body,
        contact_hash(from_),
        now,
        reply_status,
        keyword is not None,
        to_deployment,
    )
    reply = on_driver(engine, lambda cursor: _serve(cursor, engine, inbound, max_reprompts))
    if reply is None:
        return None
    metrics.count_quick_step("sms", reply_status, len(reply.texts), completed=reply.completed)
    return reply.texts


def _serve(
    cursor: LibpqCursor, engine: Engine, inbound: _Inbound, max_reprompts: int
) -> _Reply | None:
    found_by = {"contact_hash": inbound.contact_hash, "to": inbound.to}
    survey = quick_steps.read_one(cursor, _LOAD, found_by, _Awaiting._make)
    if survey is None:
        return None
    if survey.any_registered and not (survey.to_registered or inbound.to_deployment):
        return None  # a number the gateway does not serve: the general path answers
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
    if not stored_in_one_statement(result, flow, survey.subscribed):
        return None
    read = SurveyAsRead(survey.id, survey.status, survey.language, survey.answered)
    writes = plan_step(read, result, now)
    replies = reply_texts(result)
    codec = sealing(engine)
    params: dict[str, Any] = {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "seen_updated_at": survey.updated_at,
        "survey_created_at": survey.created_at,
        "contact_hash": inbound.contact_hash,
        "in_from": codec.seal(inbound.from_),
        "in_to": codec.seal(inbound.to),
        "in_body": comment_arrival.stored_body(inbound.body, flow),
        "sid": inbound.sid,
        "now": now,
    }
    if replies:
        params["from_addr"] = codec.seal(survey.sender)
        params["to_addr"] = codec.seal(codec.open(survey.contact))
        params["key_prefix"] = step_key_prefix(survey.id)
        params["status"] = inbound.reply_status
        for i, reply in enumerate(replies):
            params[f"reply{i}"] = reply
    if not store_step(cursor, _HEAD, params, writes, replies=len(replies)):
        return None
    return _Reply(replies, writes.completed)
