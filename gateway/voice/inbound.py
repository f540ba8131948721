"""Inbound calls and contact-center transfers: the survey a call's voice URL asks for.

``POST /twilio/voice?flow=ID&language=..&<context>=..`` starts one survey per CallSid on
the flow's current version, for the flow's agency, with the context values of the URL; a
call the gateway cannot serve (unknown flow, no voice channel, expired PRA clearance, a
missing context value) is refused with the reason logged and an apology spoken.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.agencies import routes, senders
from gateway.agencies.keys import ensure_agency
from gateway.engine.engine import new_state
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.store.models import Agency, Survey, utcnow
from gateway.surveys import lifecycle
from gateway.surveys.flow_versions import flow_source, record_flow_version
from gateway.voice import calls
from gateway.voice.twiml import CHANNEL

log = logging.getLogger(__name__)


class CallRefused(Exception):
    """An inbound call the gateway cannot survey; the caller hears an apology."""

    def __init__(self, reason: str, language: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.language = language


@dataclass(frozen=True)
class InboundCall:
    call_sid: str
    caller: str  # From
    called: str  # To
    query: Mapping[str, str]  # the voice URL's query: flow, language, context values


def _inbound_flow(registry: FlowRegistry, call: InboundCall, today: datetime) -> Flow:
    flow_id = call.query.get("flow", "")
    language = call.query.get("language") or None
    flow = registry.get(flow_id)
    if flow is None:
        raise CallRefused(f"no flow {flow_id!r} is loaded; check the number's voice URL", language)
    if CHANNEL not in flow.channels:
        raise CallRefused(f"flow {flow.id!r} does not list the voice channel", language)
    if flow.pra is not None and flow.pra.expired(today.date()):
        raise CallRefused(
            f"the PRA clearance of flow {flow.id!r} expired on {flow.pra.expiration_date}",
            language,
        )
    missing = [name for name in flow.context if not call.query.get(name, "").strip()]
    if missing:
        raise CallRefused(
            f"the voice URL for flow {flow.id!r} lacks context value(s) {', '.join(missing)}; "
            f"add them to its query, like &{missing[0]}=...",
            language,
        )
    return flow


def _check_called(session: Session, flow: Flow, call: InboundCall, settings: Settings) -> None:
    """Refuse a call to a number of another agency than the flow's, or to a number the
    gateway does not serve (no agency registered it, and it is not ``TWILIO_PHONE_NUMBER``)."""
    registered = senders.registered_at(session, "voice", call.called)
    if registered is not None:
        owner = session.get(Agency, registered.agency_id)
        if owner is None or owner.slug != flow.agency:
            raise CallRefused(
                f"the number called belongs to another agency than flow {flow.id!r}'s",
                flow.default_language,
            )
    elif not routes.serves_unregistered(session, call.called, settings.twilio_phone_number, None):
        raise CallRefused(
            f"the number called, {call.called}, is registered by no agency",
            flow.default_language,
        )


def answer_inbound(
    session: Session, registry: FlowRegistry, call: InboundCall, settings: Settings
) -> str:
    """Start the survey an inbound call (or a transfer) asks for; once per CallSid."""
    now = utcnow()
    existing = calls.survey_for_call(session, call.call_sid)
    if existing is not None:
        latest = calls.current_step(session, existing)
        if latest is None or existing.status != "started":
            return calls.apology(existing.language)
        return calls.replay(existing, lifecycle.survey_flow(existing), latest)
    flow = _inbound_flow(registry, call, now)
    _check_called(session, flow, call, settings)
    language = call.query.get("language") or None
    if language is not None and language not in flow.languages:
        log.warning(
            "call %s asked for language %r, which flow %s lacks", call.call_sid, language, flow.id
        )
        language = None
    agency = ensure_agency(session, flow.agency)
    version = record_flow_version(session, flow, flow_source(flow))
    context = {name: call.query[name].strip() for name in flow.context}
    survey = Survey(
        agency_id=agency.id,
        flow_version_id=version.id,
        flow_id=flow.id,
        channel=CHANNEL,
        contact=call.caller,
        sender=call.called,
        language=language or flow.default_language,
        context=context,
        status="started",
        state=new_state(flow, CHANNEL, language, context).to_dict(),
        provider_ref=call.call_sid,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    session.flush()
    log.info("call %s started survey %s on flow %s", call.call_sid, survey.id, flow.id)
    return calls.begin_call(session, survey, flow, settings, now=now, new=True)
