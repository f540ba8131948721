"""What an inbound text message does, and what the gateway texts back.

In order:

1. A message already stored (same ``MessageSid``: Twilio delivered the webhook twice) has
   no second effect; the replies sent the first time are given again.
2. Opt-out, opt-in and help keywords (STOP, START, HELP and their Spanish and carrier
   variants, see :mod:`channels.sms`) are answered first, whatever else is open; HELP
   gets the program's help text even from a number with no survey.
3. A reply from a number with a survey waiting for it goes to that survey's engine.
   A message starting with a flow's start keyword starts that flow instead, unless the
   waiting survey asks for free text (where "Visit was fine" is an answer). A survey
   handed off to the web (a question marked ``handoff: web``) takes no answers by text:
   a reply gets a reminder with its web link again.
4. A start keyword starts its flow. A flow with one context value takes it from the rest
   of the message ("VISIT Downtown" gives ``office=Downtown``); a flow with several, or a
   keyword without the value its flow needs, starts nothing and gets the "no open survey"
   reply.
5. Anything else gets the "no open survey" reply, or the polite "already finished" or
   "expired" one when the number's last survey ended lately.

A text belongs to the line of the number it was sent to (:mod:`gateway.surveys.open_surveys`)
and to the agency that registered that number (:mod:`gateway.agencies.senders`): its
survey is found on that line, its HELP names that agency, its STOP covers that agency or
every agency (``OPT_OUT_SCOPE``; a STOP to the deployment's own number, shared by the
agencies that registered none, covers every agency), and a start keyword starts only that
agency's flows. A
text to a number the gateway does not serve (registered by no agency, and not the
deployment's own) is logged and answered that the number runs no surveys; STOP is still
honored there, for every agency.

Every inbound message is stored, matched to a survey or not, and so is every reply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.sms import Keyword, match_keyword, split_text
from config.settings import Settings
from gateway.agencies import routes, senders
from gateway.agencies.keys import ensure_agency
from gateway.engine.types import Event, SessionState
from gateway.flows.catalog import message as catalog_message
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.store.models import Agency, Message, Survey
from gateway.surveys import (
    comment_arrival,
    consent,
    crisis_replies,
    events,
    lifecycle,
    messages,
    open_surveys,
    opt_outs,
)
from gateway.surveys.creation import create_survey
from gateway.surveys.flow_versions import flow_source, record_flow_version
from gateway.surveys.trigger_requests import TriggerError, validate_trigger

log = logging.getLogger(__name__)

#: How long after a survey ends a text from its number is told "already finished".
RECENTLY_CLOSED = timedelta(days=7)


@dataclass(frozen=True)
class InboundSms:
    """An inbound text as Twilio posts it."""

    sid: str
    from_: str
    to: str
    body: str


@dataclass(frozen=True)
class ReplyOptions:
    now: datetime
    max_reprompts: int
    #: Status recorded on reply rows: they go out in the webhook's TwiML.
    reply_status: str
    #: The sender recorded on surveys a keyword starts (our number or messaging service).
    sender: str | None = None
    #: Makes a survey's web link, for texts that hand the survey off to the web.
    survey_link: messages.SurveyLink | None = None
    #: What a STOP covers: "all" agencies or the "agency" texted (OPT_OUT_SCOPE).
    opt_out_scope: str = "all"
    #: The deployment's own number and Messaging Service (TWILIO_PHONE_NUMBER and
    #: TWILIO_MESSAGING_SERVICE_SID): texts to them are served though no agency registered them.
    deployment_number: str | None = None
    deployment_service: str | None = None


def reply_options(
    settings: Settings,
    *,
    now: datetime,
    reply_status: str,
    survey_link: messages.SurveyLink | None,
) -> ReplyOptions:
    """The options of a text to the deployment's webhook, from its settings."""
    return ReplyOptions(
        now=now,
        max_reprompts=settings.max_reprompts,
        reply_status=reply_status,
        sender=routes.deployment_sms_sender(settings),
        survey_link=survey_link,
        opt_out_scope=settings.opt_out_scope,
        deployment_number=settings.twilio_phone_number,
        deployment_service=settings.twilio_messaging_service_sid,
    )


@dataclass(frozen=True)
class _Line:
    """Who a text was sent to: the agency that registered the number (None: the
    deployment's line), and whether the gateway serves the number at all."""

    agency: Agency | None
    line: str | None
    served: bool


def _line_of(session: Session, to: str, options: ReplyOptions) -> _Line:
    registered = senders.registered_at(session, "sms", to)
    if registered is not None:
        return _Line(session.get(Agency, registered.agency_id), registered.line, True)
    served = routes.serves_unregistered(
        session, to, options.deployment_number, options.deployment_service
    )
    if not served:
        # The number is the gateway's own, never a respondent's: it may be logged.
        log.warning("text to %s, a number no agency registered: answered, not routed", to)
    return _Line(None, None, served)


def handle_inbound(
    session: Session, registry: FlowRegistry, sms: InboundSms, options: ReplyOptions
) -> list[str]:
    """Act on ``sms`` and return the texts to reply with (each one TwiML ``<Message>``)."""
    keyword = match_keyword(sms.body)
    line = _line_of(session, sms.to, options)
    survey = (
        open_surveys.awaiting_survey(session, sms.from_, sms.to, lock=True) if line.served else None
    )
    inbound_id = messages.record_inbound_once(
        session, sid=sms.sid, from_=sms.from_, to=sms.to, body=sms.body, survey=survey
    )
    if inbound_id is None:
        # Twilio delivered this webhook twice (perhaps to another worker at this moment,
        # which the insert waited for): the replies of the first delivery are given again.
        earlier = _stored(session, sms.sid)
        return previous_replies(session, earlier) if earlier is not None else []

    texts, target = _respond(session, registry, sms, keyword, survey, line, options)
    if target is None:
        for text in texts:
            session.add(
                Message(
                    direction="outbound",
                    channel="sms",
                    agency_id=survey.agency_id if survey is not None else None,
                    from_addr=sms.to,
                    to_addr=sms.from_,
                    body=text,
                    status=options.reply_status,
                )
            )
    elif texts:
        messages.record_replies(session, target, texts, status=options.reply_status)
    return [part for text in texts for part in split_text(text)]


def _respond(
    session: Session,
    registry: FlowRegistry,
    sms: InboundSms,
    keyword: Keyword | None,
    survey: Survey | None,
    line: _Line,
    options: ReplyOptions,
) -> tuple[list[str], Survey | None]:
    """The reply texts, and the survey they belong to (None: no survey)."""
    now = options.now
    if keyword is not None and keyword.kind == "stop":
        language = _language(session, sms, survey, keyword)
        # The deployment's own number is shared by the agencies that registered none:
        # a STOP to it stops that number, so every agency.
        scoped = line.agency if options.opt_out_scope == "agency" else None
        scope_id = scoped.id if scoped is not None else None
        already = opt_outs.is_opted_out(session, sms.from_, scope_id)
        opt_outs.opt_out(session, sms.from_, keyword=keyword.word, now=now, agency_id=scope_id)
        if already:  # one confirmation per opt-out: a repeated STOP gets no second one
            return [], None
        if scoped is not None:
            name = scoped.display_name or scoped.name
            return [catalog_message(language, "service.opt_out_agency", agency=name)], None
        return [catalog_message(language, "service.opt_out")], None
    if not line.served:
        return [
            catalog_message(_language(session, sms, None, keyword), "service.unknown_number")
        ], None
    # Whether the number opted out is asked only where it decides something: not for a
    # reply to an open survey, the text nearly every webhook carries.
    if keyword is not None and keyword.kind in ("start", "start_if_opted_out"):
        texted = _stopped_agency(session, sms, survey, line)
        texted_id = texted.id if texted is not None else None
        if keyword.kind == "start" or opt_outs.is_opted_out(session, sms.from_, texted_id):
            opt_outs.opt_in(session, sms.from_, texted_id)
            opt_in = catalog_message(_language(session, sms, survey, keyword), "service.opt_in")
            return [opt_in], None
    if keyword is not None and keyword.kind == "help":
        return [_help(session, sms, survey, keyword, line)], survey

    started = _keyword_flow(registry, sms.body, line)
    if survey is not None and (started is None or _expects_free_text(survey)):
        if lifecycle.is_past_expiry(survey, now):
            lifecycle.expire(session, survey, now=now, max_reprompts=options.max_reprompts)
            return [catalog_message(survey.language, "service.survey_expired")], survey
        if consent.awaiting_consent(survey):
            return _consent_reply(session, survey, sms.body, options), survey
        if (survey.state or {}).get("handed_off_from"):
            return [_handoff_reminder(survey, options)], survey
        result = lifecycle.answer(
            session, survey, sms.body, now=now, max_reprompts=options.max_reprompts
        )
        texts = messages.reply_texts(result, survey, options.survey_link)
        return texts + crisis_replies.crisis_message(session, survey), survey
    if started is not None:
        flow, value = started
        new = _start_by_keyword(session, registry, sms, flow, value, line, options)
        if new is not None:
            return [m.body for m in new[1]], new[0]
    # The answer to a message staff sent about a finished survey: it goes to the case.
    body = comment_arrival.stored_body(sms.body, None)
    if events.late_reply(session, events.LateReply(sms.sid, sms.from_, sms.to, body, now)):
        return [], None
    latest = open_surveys.latest_sms_survey(session, sms.from_, sms.to)
    key = open_surveys.recently_closed_reply_key(latest, now, RECENTLY_CLOSED)
    language = latest.language if latest is not None else "en"
    return [catalog_message(language, key)], None


def _stored(session: Session, sid: str) -> Message | None:
    return session.scalars(
        sa.select(Message).where(Message.provider_sid == sid, Message.direction == "inbound")
    ).first()


def previous_replies(session: Session, inbound: Message) -> list[str]:
    """The replies recorded right after ``inbound``, before the number's next message."""
    next_inbound = session.scalar(
        sa.select(sa.func.min(Message.id)).where(
            Message.direction == "inbound",
            Message.contact_hash == inbound.contact_hash,
            Message.id > inbound.id,
        )
    )
    query = sa.select(Message.body).where(
        Message.direction == "outbound",
        Message.contact_hash == inbound.contact_hash,
        Message.id > inbound.id,
        Message.step_key.is_(None) if inbound.survey_id is None else sa.true(),
    )
    if next_inbound is not None:
        query = query.where(Message.id < next_inbound)
    return list(session.scalars(query.order_by(Message.id)))


def _language(
    session: Session, sms: InboundSms, survey: Survey | None, keyword: Keyword | None
) -> str:
    """Answer in the keyword's language when it is not English, else the survey's."""
    if keyword is not None and keyword.language != "en":
        return keyword.language
    if survey is not None:
        return survey.language
    latest = open_surveys.latest_sms_survey(session, sms.from_, sms.to)
    return latest.language if latest is not None else "en"


def _stopped_agency(
    session: Session, sms: InboundSms, survey: Survey | None, line: _Line
) -> Agency | None:
    """The agency a keyword to the texted number speaks to: the number's, else (the
    deployment's line) that of the number's survey on the line, else the only agency;
    None when that cannot be told."""
    if line.agency is not None:
        return line.agency
    known = survey or open_surveys.latest_sms_survey(session, sms.from_, sms.to)
    return known.agency if known is not None else _only_agency(session)


def _help(
    session: Session, sms: InboundSms, survey: Survey | None, keyword: Keyword, line: _Line
) -> str:
    """The program's help text (name, contact, rates, how to stop), which carriers require
    for every HELP: the agency's own HELP text when it set one, else the catalog's naming
    the agency of the number texted, of the number's survey, or of the gateway when it
    serves one agency; a number no agency ever texted, on a gateway of several, gets the
    help text that names none."""
    language = _language(session, sms, survey, keyword)
    agency = _stopped_agency(session, sms, survey, line)
    if agency is None:
        return catalog_message(language, "service.help_general")
    if agency.help_text:
        return agency.help_text
    return catalog_message(
        language,
        "service.help",
        program=agency.display_name or agency.program_name or agency.name,
        contact=agency.help_contact or agency.name,
    )


def _only_agency(session: Session) -> Agency | None:
    """The gateway's agency when it serves exactly one."""
    agencies = session.scalars(sa.select(Agency).order_by(Agency.id).limit(2)).all()
    return agencies[0] if len(agencies) == 1 else None


def _keyword_flow(registry: FlowRegistry, body: str, line: _Line) -> tuple[Flow, str] | None:
    """The flow whose start keyword opens the message, and the rest of the message; only
    a flow of the agency whose number was texted, when an agency registered it."""
    words = body.strip().split(maxsplit=1)
    if not words:
        return None
    flow = registry.by_keyword(words[0].strip(".,!?"))
    if flow is None or "sms" not in flow.channels:
        return None
    if line.agency is not None and flow.agency != line.agency.slug:
        return None
    return flow, (words[1].strip() if len(words) > 1 else "")


def _consent_reply(session: Session, survey: Survey, body: str, options: ReplyOptions) -> list[str]:
    """Nothing until the respondent consents; on YES, the survey's opening."""
    if not consent.gives_consent(body, survey.language):
        return []
    consent.record_consent(survey, options.now)
    result = lifecycle.apply_event(
        session, survey, Event("start"), now=options.now, max_reprompts=options.max_reprompts
    )
    return messages.reply_texts(result, survey, options.survey_link)


def _handoff_reminder(survey: Survey, options: ReplyOptions) -> str:
    """The reply to a text sent after the survey moved to the web: its link again."""
    if options.survey_link is None:
        raise ValueError("ReplyOptions.survey_link is needed to remind of a survey's web link")
    return catalog_message(survey.language, "handoff.reminder", link=options.survey_link(survey))


def _expects_free_text(survey: Survey) -> bool:
    state = SessionState.from_dict(survey.state)
    if state.phase != "question" or state.handed_off:
        return False
    questions = lifecycle.survey_flow(survey).questions
    return 0 <= state.index < len(questions) and questions[state.index].type == "text"


def _start_by_keyword(
    session: Session,
    registry: FlowRegistry,
    sms: InboundSms,
    flow: Flow,
    value: str,
    line: _Line,
    options: ReplyOptions,
) -> tuple[Survey, list[Message]] | None:
    """Create and begin a survey of ``flow`` for the texting number, as a trigger would;
    its replies go to the number texted (the line's sender)."""
    if len(flow.context) > 1 or (flow.context and not value) or (value and not flow.context):
        # The value is message text: the log says whether one came, never what it was.
        log.info(
            "start keyword for flow %s refused: it needs %s, the message gave %s",
            flow.id,
            ", ".join(flow.context) or "no value",
            "a value" if value else "none",
        )
        return None
    agency = ensure_agency(session, flow.agency)
    if opt_outs.is_opted_out(session, sms.from_, agency.id):
        return None
    payload: dict[str, object] = {"flow": flow.id, "channel": "sms", "to": sms.from_}
    if flow.context:
        payload["context"] = {flow.context[0]: value}
    try:
        request = validate_trigger(payload, agency, registry, options.now.date(), now=options.now)
    except TriggerError as exc:
        # The message may quote the texting number; the code and field say enough.
        log.info("start keyword for flow %s refused: %s (%s)", flow.id, exc.code, exc.field)
        return None
    version = record_flow_version(session, flow, flow_source(flow))
    survey = create_survey(session, request, agency, version, now=options.now)
    survey.sender = line.line or options.sender or sms.to
    session.flush()
    rows = lifecycle.begin(
        session,
        survey,
        lifecycle.survey_flow(survey),
        now=options.now,
        max_reprompts=options.max_reprompts,
        outbound_status=options.reply_status,
        survey_link=options.survey_link,
    )
    lifecycle.mark_sent(survey, options.now)
    return survey, rows
