"""Twilio's SMS webhooks: inbound messages (``POST /twilio/sms``) and delivery status
callbacks (``POST /twilio/sms/status``). Both are signed; see :mod:`.signature`."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError

from config.settings import Settings
from gateway import conversation, early_statuses, jobs
from gateway.sms_inbound import InboundSms, ReplyOptions, handle_inbound
from gateway.sms_quick_reply import quick_reply
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.twilio.signature import require_twilio_signature
from gateway.web.invitation import survey_link_of

log = logging.getLogger(__name__)

bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio/sms")


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml_messages(texts: list[str]) -> str:
    """The TwiML answering with ``texts``, character for character what the helper
    library's ``MessagingResponse`` writes for plain ``<Message>`` elements (tested
    against it), without building and serializing an element tree per webhook."""
    if not texts:
        return _XML_DECLARATION + "<Response />"
    messages = "".join(f"<Message>{escape(text)}</Message>" for text in texts)
    return f"{_XML_DECLARATION}<Response>{messages}</Response>"


def _twiml(texts: list[str]) -> Response:
    return Response(twiml_messages(texts), mimetype="application/xml")


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
    now = utcnow()
    reply_status = "sent" if settings.twilio_configured else conversation.SIMULATED
    database = db_of(current_app)
    registry = current_app.extensions["flows"]
    quick = quick_reply(
        database.engine,
        registry,
        sid=sms.sid,
        from_=sms.from_,
        to=sms.to,
        body=sms.body,
        now=now,
        max_reprompts=settings.max_reprompts,
        reply_status=reply_status,
    )
    if quick is not None:
        return _twiml(quick)
    options = ReplyOptions(
        now=now,
        max_reprompts=settings.max_reprompts,
        reply_status=reply_status,
        sender=settings.twilio_messaging_service_sid or settings.twilio_phone_number,
        survey_link=survey_link_of(current_app),
    )
    with database.session() as session:
        texts = handle_inbound(session, registry, sms, options)
    return _twiml(texts)


@bp.post("/status")
@require_twilio_signature
def status() -> ResponseReturnValue:
    """A delivery status for a text the gateway sent; one for a text not yet recorded
    sent (a chunk's texts are recorded once the chunk is sent) is kept and applied when it
    is (:mod:`gateway.early_statuses`)."""
    sid = _field("MessageSid") or _field("SmsSid")
    new_status = _field("MessageStatus") or _field("SmsStatus")
    if not sid or not new_status:
        return _bad_request("MessageSid and MessageStatus are required")
    with db_of(current_app).session() as session:
        outcome = early_statuses.apply_or_keep(
            session,
            sid=sid,
            status=new_status.lower(),
            error_code=_field("ErrorCode"),
            now=utcnow(),
            max_attempts=jobs.MAX_SEND_ATTEMPTS,
        )
    if not outcome.found:
        log.info("status %s for message %s kept until it is recorded sent", new_status, sid)
    if outcome.resend_survey_id is not None:
        jobs.enqueue_send(current_app, outcome.resend_survey_id)
    if outcome.start_survey_id is not None:  # undeliverable: the flow's call fallback
        try:
            jobs.enqueue_start(current_app, outcome.start_survey_id, None)
        except RedisError:  # committed as queued: the sweeper starts it
            log.warning(
                "survey %s: call fallback not queued (Redis unavailable)",
                outcome.start_survey_id,
            )
    return Response(status=204)
