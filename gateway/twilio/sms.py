"""Twilio's SMS webhooks: inbound messages (``POST /twilio/sms``) and delivery status
callbacks (``POST /twilio/sms/status``). Both are signed; see :mod:`.signature`."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from twilio.twiml.messaging_response import MessagingResponse

from config.settings import Settings
from gateway import conversation, jobs
from gateway.sms_inbound import InboundSms, ReplyOptions, handle_inbound
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.twilio.signature import require_twilio_signature
from gateway.web.invitation import survey_link_of

log = logging.getLogger(__name__)

bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio/sms")


def _twiml(texts: list[str]) -> Response:
    twiml = MessagingResponse()
    for text in texts:
        twiml.message(text)
    return Response(str(twiml), mimetype="application/xml")


def _field(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def _bad_request(message: str) -> Response:
    return Response(message + "\n", status=400, mimetype="text/plain")


@bp.post("")
@require_twilio_signature
def inbound() -> ResponseReturnValue:
    """An inbound text: answer it with TwiML in the same request."""
    sid = _field("MessageSid") or _field("SmsSid")
    from_ = _field("From")
    if not sid or not from_:
        return _bad_request("MessageSid and From are required")
    settings: Settings = current_app.extensions["settings"]
    sms = InboundSms(sid=sid, from_=from_, to=_field("To") or "", body=request.form.get("Body", ""))
    options = ReplyOptions(
        now=utcnow(),
        max_reprompts=settings.max_reprompts,
        reply_status="sent" if settings.twilio_configured else conversation.SIMULATED,
        sender=settings.twilio_messaging_service_sid or settings.twilio_phone_number,
        survey_link=survey_link_of(current_app),
    )
    with db_of(current_app).session() as session:
        texts = handle_inbound(session, current_app.extensions["flows"], sms, options)
    return _twiml(texts)


@bp.post("/status")
@require_twilio_signature
def status() -> ResponseReturnValue:
    """A delivery status for a text the gateway sent."""
    sid = _field("MessageSid") or _field("SmsSid")
    new_status = _field("MessageStatus") or _field("SmsStatus")
    if not sid or not new_status:
        return _bad_request("MessageSid and MessageStatus are required")
    with db_of(current_app).session() as session:
        outcome = conversation.apply_status(
            session,
            sid=sid,
            status=new_status.lower(),
            error_code=_field("ErrorCode"),
            now=utcnow(),
            max_attempts=jobs.MAX_SEND_ATTEMPTS,
        )
    if not outcome.found:
        log.info("status %s for unknown message %s ignored", new_status, sid)
    if outcome.resend_survey_id is not None:
        jobs.enqueue_send(current_app, outcome.resend_survey_id)
    return Response(status=204)
